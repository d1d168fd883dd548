package mp4frag

import (
	"errors"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/onair-studio/onair/engine/media"
)

// Init is the initialization section of a publisher's tracks (ftyp + moov,
// written by mediacommon) with the timelines of its tracks.
type Init struct {
	// Bytes is the section itself.
	Bytes []byte
	// Video and Audio are the tracks' timelines; nil when absent.
	Video *Track
	Audio *Track
	// Codecs are RFC 6381 codec strings, video first (avc1.64001f, mp4a.40.2).
	Codecs []string
	// Width, Height and FrameRate come from the SPS (zero when unknown).
	Width, Height int
	FrameRate     float64
}

// NewInit makes the initialization section of t.
func NewInit(t media.Tracks) (*Init, error) {
	in := &Init{}
	var it fmp4.Init
	if t.Video != nil {
		in.Video = &Track{ID: uint32(len(it.Tracks) + 1), Video: true, Timescale: 90000}
		var c codecs.Codec = &codecs.H264{SPS: t.Video.SPS, PPS: t.Video.PPS}
		switch t.Video.Codec {
		case media.H265:
			c = &codecs.H265{VPS: t.Video.VPS, SPS: t.Video.SPS, PPS: t.Video.PPS}
		case media.AV1:
			c = &codecs.AV1{SequenceHeader: t.Video.SPS}
		}
		it.Tracks = append(it.Tracks, &fmp4.InitTrack{ID: int(in.Video.ID), TimeScale: 90000, Codec: c})
	}
	if t.Audio != nil {
		rate := int64(t.Audio.Config.SampleRate)
		if rate <= 0 {
			return nil, fmt.Errorf("audio sample rate %d", rate)
		}
		frameLen := int64(1024)
		if t.Audio.Config.FrameLengthFlag {
			frameLen = 960
		}
		in.Audio = &Track{ID: uint32(len(it.Tracks) + 1), Timescale: rate, FrameLen: frameLen, nextDTS: -1}
		it.Tracks = append(it.Tracks, &fmp4.InitTrack{ID: int(in.Audio.ID), TimeScale: uint32(rate),
			Codec: &codecs.MPEG4Audio{Config: t.Audio.Config}})
	}
	if len(it.Tracks) == 0 {
		return nil, errors.New("no track")
	}
	d := t.Describe()
	in.Codecs, in.Width, in.Height, in.FrameRate = d.Codecs, d.Width, d.Height, d.FPS
	var buf seekablebuffer.Buffer
	if err := it.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("writing the fMP4 initialization section: %w", err)
	}
	in.Bytes = buf.Bytes()
	return in, nil
}

// Tracks returns the present tracks, video first.
func (in *Init) Tracks() []*Track {
	var ts []*Track
	for _, t := range []*Track{in.Video, in.Audio} {
		if t != nil {
			ts = append(ts, t)
		}
	}
	return ts
}
