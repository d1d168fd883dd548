package mp4frag

import (
	"math"
	"time"

	"github.com/onair-studio/onair/engine/media"
)

// Track is the timeline of one track: it turns units into samples in the
// track's time scale and holds each sample back until the next one tells
// its duration, then gathers it into the run of the fragment being built.
type Track struct {
	// ID is the track's number in the initialization section.
	ID    uint32
	Video bool
	// Timescale is the track's clock rate: 90 kHz for video, the sample
	// rate for audio.
	Timescale int64
	// FrameLen is an audio track's samples per frame (1024 or 960).
	FrameLen int64

	nextDTS int64 // audio: the continuous clock; -1 before the first frame
	pending int64 // DTS of the held sample
	sample  Sample
	held    bool
	lastDur uint32
	run     []Sample
	runBase int64
}

// Sample converts a unit of this track into its DTS in ticks and a sample
// whose duration is not known yet. FLV has millisecond timestamps and AAC
// frames a fixed length: the audio clock stays exact while it agrees with
// the timestamps.
func (t *Track) Sample(u *media.Unit) (dts int64, s Sample) {
	dts = ToTicks(u.DTS, t.Timescale)
	if t.Video {
		if u.NALUs == nil { // AV1: the temporal unit's OBUs as they are stored
			return dts, Sample{Key: u.Key, Frame: u.Frame}
		}
		return dts, Sample{Key: u.Key, NALUs: u.NALUs, CTSOffset: int32(ToTicks(u.PTS-u.DTS, t.Timescale))}
	}
	if t.nextDTS >= 0 && abs64(dts-t.nextDTS) < t.FrameLen {
		dts = t.nextDTS
	}
	t.nextDTS = dts + t.FrameLen
	return dts, Sample{Key: true, Frame: u.Frame}
}

// Held reports whether a sample waits for its duration.
func (t *Track) Held() bool { return t.held }

// Hold keeps s, at dts, until the next sample's DTS is known.
func (t *Track) Hold(dts int64, s Sample) {
	t.pending, t.sample, t.held = dts, s, true
}

// Drop forgets the held sample.
func (t *Track) Drop() { t.held = false }

// Complete gives the held sample the duration up to next and adds it to
// the run; it returns the sample's size. A jump in time keeps the last
// known duration; audio frames always last FrameLen.
func (t *Track) Complete(next int64) int {
	if !t.held {
		return 0
	}
	t.held = false
	dur := next - t.pending
	if dur <= 0 || dur > 10*t.Timescale {
		dur = int64(t.lastDur)
		if dur == 0 {
			dur = t.Timescale / 30
		}
	}
	if t.FrameLen > 0 {
		dur = t.FrameLen
	}
	t.lastDur = uint32(dur)
	t.sample.Duration = uint32(dur)
	if len(t.run) == 0 {
		t.runBase = t.pending
	}
	t.run = append(t.run, t.sample)
	t.sample = Sample{}
	return t.run[len(t.run)-1].Size()
}

// Finish completes the held sample, if any, with the last known duration:
// the track ends.
func (t *Track) Finish() int {
	if t == nil || !t.held {
		return 0
	}
	return t.Complete(t.pending)
}

// LastDuration is the duration of the last completed sample.
func (t *Track) LastDuration() time.Duration { return FromTicks(int64(t.lastDur), t.Timescale) }

// Run returns the samples gathered since the last Reset, or nil when there
// are none (also on a nil Track). They stay valid until Reset.
func (t *Track) Run() *Run {
	if t == nil || len(t.run) == 0 {
		return nil
	}
	return &Run{ID: t.ID, Video: t.Video, BaseTime: uint64(t.runBase), Samples: t.run}
}

// RunEnd is the DTS, in ticks, right after the gathered samples.
func (t *Track) RunEnd() int64 {
	end := t.runBase
	for i := range t.run {
		end += int64(t.run[i].Duration)
	}
	return end
}

// Reset empties the run once it was marshalled, dropping its references
// to the units' payloads. A nil Track has nothing to reset.
func (t *Track) Reset() {
	if t == nil {
		return
	}
	clear(t.run)
	t.run = t.run[:0]
}

// ToTicks converts a duration to a clock of rate ticks per second.
func ToTicks(d time.Duration, rate int64) int64 {
	return int64(math.Round(float64(d) * float64(rate) / float64(time.Second)))
}

// FromTicks converts ticks of a clock of rate ticks per second to a duration.
func FromTicks(t, rate int64) time.Duration {
	return time.Duration(float64(t) * float64(time.Second) / float64(rate))
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
