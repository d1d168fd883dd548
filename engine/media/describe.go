package media

import (
	"fmt"

	"github.com/bluenviron/gohlslib/v2/pkg/codecparams"
	hlscodecs "github.com/bluenviron/gohlslib/v2/pkg/codecs"
)

// Description names a publisher's tracks the way each part of the studio
// shows them: RFC 6381 strings for HLS's CODECS and the library, short
// names and figures for the stream's statistics.
type Description struct {
	// Codecs are RFC 6381 codec strings, video first (avc1.64001f,
	// mp4a.40.2).
	Codecs []string
	// VideoCodec and AudioCodec are short names ("h264", "h265", "av1", "aac";
	// "" none).
	VideoCodec, AudioCodec string
	// Width, Height and FPS as the video's SPS declares them (zeros when
	// unknown).
	Width, Height int
	FPS           float64
	// SampleRate and Channels of the audio (zeros when none).
	SampleRate, Channels int
}

// Describe says what t carries.
func (t Tracks) Describe() Description {
	var d Description
	if v := t.Video; v != nil {
		d.VideoCodec = v.Codec.String()
		switch v.Codec {
		case H265:
			d.Codecs = append(d.Codecs, codecparams.Marshal(&hlscodecs.H265{VPS: v.VPS, SPS: v.SPS, PPS: v.PPS}))
		case AV1:
			if c := codecparams.Marshal(&hlscodecs.AV1{SequenceHeader: v.SPS}); c != "" {
				d.Codecs = append(d.Codecs, c)
			}
		default:
			if len(v.SPS) >= 4 {
				d.Codecs = append(d.Codecs, fmt.Sprintf("avc1.%02x%02x%02x", v.SPS[1], v.SPS[2], v.SPS[3]))
			}
		}
		d.Width, d.Height, d.FPS = v.Width, v.Height, v.FPS
	}
	if a := t.Audio; a != nil {
		d.AudioCodec = "aac"
		d.Codecs = append(d.Codecs, fmt.Sprintf("mp4a.40.%d", a.Config.Type))
		d.SampleRate, d.Channels = a.Config.SampleRate, channels(a.Config.ChannelConfig)
	}
	return d
}

// channels maps an AAC channel configuration to a channel count.
func channels(cfg uint8) int {
	switch {
	case cfg >= 1 && cfg <= 6:
		return int(cfg)
	case cfg == 7:
		return 8
	}
	return 0
}
