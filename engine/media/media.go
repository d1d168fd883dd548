// Package media describes what flows from ingest to outputs: the codec
// parameters of a publisher's tracks and one access unit at a time.
package media

import (
	"bytes"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

// Kind tells a unit's track.
type Kind uint8

// Track kinds.
const (
	KindVideo Kind = iota + 1
	KindAudio
)

// VideoCodec names a video track's codec.
type VideoCodec uint8

// Video codecs the studio carries.
const (
	H264 VideoCodec = iota // the zero value: H.264/AVC
	H265                   // H.265/HEVC
	AV1                    // AV1
)

// String is the codec's short name as stats show it.
func (c VideoCodec) String() string {
	switch c {
	case H265:
		return "h265"
	case AV1:
		return "av1"
	}
	return "h264"
}

// VideoParams are a video track's decoder parameters, with what its SPS
// declares read once (NewH264Params, NewH265Params, NewAV1Params).
type VideoParams struct {
	Codec VideoCodec
	VPS   []byte // H.265 only
	// SPS is the sequence parameter set (H.264, H.265) or the sequence
	// header OBU (AV1).
	SPS []byte
	PPS []byte // H.264 and H.265 only
	// Width, Height and FPS as the SPS declares them; zeros when unknown.
	Width, Height int
	FPS           float64
}

// NewH265Params reads an H.265 sps and groups it with vps and pps; as
// NewH264Params, an unreadable SPS is an error with the params returned.
func NewH265Params(vps, sps, pps []byte) (*VideoParams, error) {
	p := &VideoParams{Codec: H265, VPS: vps, SPS: sps, PPS: pps}
	var s h265.SPS
	if err := s.Unmarshal(sps); err != nil {
		return p, fmt.Errorf("reading the H.265 SPS: %w", err)
	}
	p.Width, p.Height, p.FPS = s.Width(), s.Height(), s.FPS()
	return p, nil
}

// NewAV1Params reads an AV1 sequence header OBU; as NewH264Params, an
// unreadable header is an error with the params returned.
func NewAV1Params(seqHdr []byte) (*VideoParams, error) {
	p := &VideoParams{Codec: AV1, SPS: seqHdr}
	var s av1.SequenceHeader
	if err := s.Unmarshal(seqHdr); err != nil {
		return p, fmt.Errorf("reading the AV1 sequence header: %w", err)
	}
	p.Width, p.Height = s.Width(), s.Height()
	if t := s.TimingInfo; t != nil && t.NumUnitsInDisplayTick > 0 && t.EqualPictureInterval {
		p.FPS = float64(t.TimeScale) / float64(t.NumUnitsInDisplayTick)
	}
	return p, nil
}

// NewH264Params reads sps (the one place the studio parses an SPS) and
// pairs it with pps. An SPS that cannot be read is an error; the params
// are still returned, without a size, for callers that carry it on.
func NewH264Params(sps, pps []byte) (*VideoParams, error) {
	p := &VideoParams{SPS: sps, PPS: pps}
	var s h264.SPS
	if err := s.Unmarshal(sps); err != nil {
		return p, fmt.Errorf("reading the H.264 SPS: %w", err)
	}
	p.Width, p.Height, p.FPS = s.Width(), s.Height(), s.FPS()
	return p, nil
}

// AACParams are an audio track's decoder parameters.
type AACParams struct {
	Config mpeg4audio.AudioSpecificConfig
}

// Tracks are the tracks of one publisher. At least one is non-nil.
type Tracks struct {
	Video *VideoParams
	Audio *AACParams
}

// SameAs reports whether t and o decode with the same parameters, so that
// outputs may continue across a reconnect without a new initialisation.
func (t Tracks) SameAs(o Tracks) bool {
	if (t.Video == nil) != (o.Video == nil) || (t.Audio == nil) != (o.Audio == nil) {
		return false
	}
	if t.Video != nil && (t.Video.Codec != o.Video.Codec || !bytes.Equal(t.Video.VPS, o.Video.VPS) ||
		!bytes.Equal(t.Video.SPS, o.Video.SPS) || !bytes.Equal(t.Video.PPS, o.Video.PPS)) {
		return false
	}
	if t.Audio != nil && t.Audio.Config != o.Audio.Config {
		return false
	}
	return true
}

// Unit is one access unit. Units are shared by every reader: never change one
// after it has been published.
type Unit struct {
	Kind Kind
	// DTS and PTS on the session's timeline (continuous across reconnects).
	DTS time.Duration
	PTS time.Duration
	// Key is true for an H.264 IDR or H.265 IRAP access unit (with its
	// parameter sets in front) and an AV1 temporal unit that starts a
	// coded video sequence (with its sequence header).
	Key bool
	// NALUs of an H.264 or H.265 unit, without start codes or length
	// prefixes.
	NALUs [][]byte
	// Frame is one raw AAC frame of an audio unit, or the OBUs of an AV1
	// temporal unit in the low-overhead format (each with its size, no
	// temporal delimiter), as MP4 stores them.
	Frame []byte
	// Tracks are the parameters the unit decodes with; the pointer changes
	// when a publisher with other tracks takes over. Set by the hub.
	Tracks *Tracks
	// Received is when ingest read the unit, for delay measurements.
	Received time.Time
}

// Size returns the payload size in bytes.
func (u *Unit) Size() int {
	n := len(u.Frame)
	for _, b := range u.NALUs {
		n += len(b)
	}
	return n
}

// AACUnits makes an audio unit of each AAC frame of a packet that starts at
// pts (one PES, one FLV tag), timed 1 024 samples apart; each unit owns its
// frame's memory, and empty frames are left out.
func AACUnits(conf mpeg4audio.AudioSpecificConfig, pts time.Duration, frames [][]byte) []*Unit {
	units := make([]*Unit, 0, len(frames))
	for i, f := range frames {
		if len(f) == 0 {
			continue
		}
		t := pts
		if conf.SampleRate > 0 {
			t += time.Duration(i) * mpeg4audio.SamplesPerAccessUnit * time.Second / time.Duration(conf.SampleRate)
		}
		units = append(units, &Unit{Kind: KindAudio, DTS: t, PTS: t, Frame: bytes.Clone(f)})
	}
	return units
}
