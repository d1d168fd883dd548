package main

import (
	"bytes"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
)

// frameCounter counts the video frames a player receives in the parts it
// fetches, and the frames missing from them. A frame the server dropped
// leaves a hole in the timeline: the sample before it lasts several frame
// durations (the muxer stretches it over the hole), or the next part starts
// later than the previous one ended.
type frameCounter struct {
	track      int     // the video track's ID
	frameTicks float64 // one frame's duration in the track's time scale
	lastEnd    int64   // where the last part's video ended; -1: none yet

	frames, dropped *atomic.Int64 // totals, shared by the players
}

// newFrameCounter reads the video track from the initialization section;
// fps is the publisher's frame rate.
func newFrameCounter(init []byte, fps float64, frames, dropped *atomic.Int64) (*frameCounter, error) {
	var it fmp4.Init
	if err := it.Unmarshal(bytes.NewReader(init)); err != nil {
		return nil, fmt.Errorf("initialization section: %w", err)
	}
	for _, t := range it.Tracks {
		if t.Codec.IsVideo() {
			return &frameCounter{track: t.ID, frameTicks: float64(t.TimeScale) / fps, lastEnd: -1,
				frames: frames, dropped: dropped}, nil
		}
	}
	return nil, fmt.Errorf("no video track")
}

// add reads one part; counted tells whether its frames count (the
// measurement is running).
func (c *frameCounter) add(part []byte, counted bool) error {
	var ps fmp4.Parts
	if err := ps.Unmarshal(part); err != nil {
		return fmt.Errorf("part: %w", err)
	}
	if len(ps) == 0 {
		return fmt.Errorf("part: no movie fragment")
	}
	for _, p := range ps {
		for _, t := range p.Tracks {
			if t.ID != c.track {
				continue
			}
			start := int64(t.BaseTime)
			missing := 0
			if c.lastEnd >= 0 {
				missing += c.extraFrames(start-c.lastEnd, 0)
			}
			end := start
			for _, s := range t.Samples {
				missing += c.extraFrames(int64(s.Duration), 1)
				end += int64(s.Duration)
			}
			c.lastEnd = end
			if counted {
				c.frames.Add(int64(len(t.Samples)))
				c.dropped.Add(int64(missing))
			}
		}
	}
	return nil
}

// extraFrames is how many whole frames a span of d ticks holds beyond own
// frames; timestamp jitter (FLV has millisecond times, the clip's loop
// point) stays under one and a half frames and counts as none.
func (c *frameCounter) extraFrames(d int64, own int) int {
	n := float64(d)/c.frameTicks - float64(own)
	if n < 1.5 {
		return 0
	}
	return int(math.Round(n))
}
