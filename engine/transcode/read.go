package transcode

import (
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/onair-studio/onair/engine/media"
)

// read turns FFmpeg's MPEG-TS into each rendition's units until it ends:
// the video streams in the renditions' order, then the sound (audio: the
// source's, which every rendition carries).
func (t *Transcoder) read(r io.Reader, audio *media.AACParams) error {
	tr := &mpegts.Reader{R: r}
	if err := tr.Initialize(); err != nil {
		return fmt.Errorf("reading FFmpeg's MPEG-TS: %w", err)
	}
	n := len(t.Renditions)
	deps := make([]h264Units, n)
	tracks := make([]*media.Tracks, n) // nil until the rendition's video parameters came
	i := 0
	for _, track := range tr.Tracks() {
		switch c := track.Codec.(type) {
		case *tscodecs.H264:
			if i >= n {
				continue
			}
			k := i
			i++
			tr.OnDataH264(track, func(pts, dts int64, au [][]byte) error {
				u, changed, err := deps[k].unit(t.at(pts), t.at(dts), au)
				if err != nil || u == nil {
					return nil //nolint:nilerr // unreadable parameters: the next key frame brings them again
				}
				if changed || tracks[k] == nil {
					tracks[k] = &media.Tracks{Video: deps[k].params, Audio: audio}
				}
				u.Tracks = tracks[k]
				t.deliver(k, u)
				return nil
			})
		case *tscodecs.MPEG4Audio:
			if audio == nil {
				continue
			}
			conf := c.Config
			tr.OnDataMPEG4Audio(track, func(pts int64, aus [][]byte) error {
				for _, u := range media.AACUnits(conf, t.at(pts), aus) {
					for k := range n {
						if tracks[k] == nil {
							continue // the sound starts with the rendition's pictures
						}
						v := *u
						v.Tracks = tracks[k]
						t.deliver(k, &v)
					}
				}
				return nil
			})
		}
	}
	if i < n {
		return fmt.Errorf("FFmpeg made %d video streams of %d", i, n)
	}
	for {
		if err := tr.Read(); err != nil {
			return err
		}
	}
}

// deliver hands a unit on; the first after a start tells OnState.
func (t *Transcoder) deliver(i int, u *media.Unit) {
	if t.back.CompareAndSwap(true, false) && t.OnState != nil {
		t.OnState(nil)
	}
	t.OnUnit(i, u)
}

// at places an output time (90 kHz, 33 bits) on the source's timeline:
// the value nearest the newest input time that FFmpeg's could be.
func (t *Transcoder) at(raw int64) time.Duration {
	const wrap = int64(1) << 33
	ref := t.last.Load()
	v := ref - ref%wrap + raw%wrap
	switch {
	case v-ref > wrap/2:
		v -= wrap
	case ref-v > wrap/2:
		v += wrap
	}
	return time.Duration(v) * time.Second / 90000
}
