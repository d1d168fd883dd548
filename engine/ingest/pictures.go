package ingest

import (
	"bytes"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/onair-studio/onair/engine/media"
)

// naluKind is what the depacketizer does with a NAL unit.
type naluKind uint8

const (
	naluPicture naluKind = iota // kept as it is
	naluDrop                    // delimiters and filler
	naluKey                     // an IDR (H.264) or IRAP (H.265) slice
	naluVPS
	naluSPS
	naluPPS
)

// kindOf classifies a NAL unit by its first byte.
func kindOf(codec media.VideoCodec, b byte) naluKind {
	if codec == media.H265 {
		switch t := h265.NALUType((b >> 1) & 0x3f); {
		case t == h265.NALUType_AUD_NUT || t == h265.NALUType_FD_NUT:
			return naluDrop
		case t >= h265.NALUType_BLA_W_LP && t <= h265.NALUType_CRA_NUT:
			return naluKey
		case t == h265.NALUType_VPS_NUT:
			return naluVPS
		case t == h265.NALUType_SPS_NUT:
			return naluSPS
		case t == h265.NALUType_PPS_NUT:
			return naluPPS
		}
		return naluPicture
	}
	switch h264.NALUType(b & 0x1f) {
	case h264.NALUTypeAccessUnitDelimiter, h264.NALUTypeFillerData:
		return naluDrop
	case h264.NALUTypeIDR:
		return naluKey
	case h264.NALUTypeSPS:
		return naluSPS
	case h264.NALUTypePPS:
		return naluPPS
	}
	return naluPicture
}

// AccessUnit converts one access unit carried with its parameter sets in
// band (MPEG-TS over SRT) in codec, with its times. Until the parameter
// sets arrive (SPS and PPS; and VPS for H.265), units are refused with
// errNoSequenceHeader. The unit owns its memory.
func (d *Depacketizer) AccessUnit(codec media.VideoCodec, pts, dts time.Duration, au [][]byte) (*media.Unit, error) {
	if d.video == nil || d.video.Codec != codec {
		var sets [naluPPS + 1][]byte
		for _, n := range au {
			if k := kindOf(codec, n[0]); k >= naluVPS {
				sets[k] = n
			}
		}
		if sets[naluSPS] == nil || sets[naluPPS] == nil || (codec == media.H265 && sets[naluVPS] == nil) {
			return nil, fmt.Errorf("video: %w", errNoSequenceHeader)
		}
		var p *media.VideoParams
		var err error
		if codec == media.H265 {
			p, err = media.NewH265Params(bytes.Clone(sets[naluVPS]), bytes.Clone(sets[naluSPS]), bytes.Clone(sets[naluPPS]))
		} else {
			p, err = media.NewH264Params(bytes.Clone(sets[naluSPS]), bytes.Clone(sets[naluPPS]))
		}
		if err != nil {
			return nil, fmt.Errorf("video: %w", err)
		}
		d.video, d.changed = p, true
	}
	nalus, key := d.pictures(au)
	if nalus == nil {
		return nil, nil
	}
	return &media.Unit{Kind: media.KindVideo, DTS: dts, PTS: pts, Key: key, NALUs: nalus}, nil
}

// pictures keeps an access unit's pictures in one buffer (delimiters and
// filler left out), takes in-band parameter sets as new parameters, and
// puts the parameter sets in front of a key frame that lacks them: FLV
// carries them only in the sequence header, and each segment must decode
// on its own. It returns nil when nothing is left.
func (d *Depacketizer) pictures(au [][]byte) (nalus [][]byte, key bool) {
	codec := d.video.Codec
	size, count := 0, 0
	var has [naluPPS + 1]bool
	for _, n := range au {
		k := kindOf(codec, n[0])
		switch k {
		case naluDrop:
			continue
		case naluKey:
			key = true
		case naluVPS, naluSPS, naluPPS:
			has[k] = true
			d.takeSet(k, n)
		}
		size += len(n)
		count++
	}
	var add [3][]byte // the sets a key frame lacks, in order
	if key {
		for i, k := range []naluKind{naluVPS, naluSPS, naluPPS} {
			if s := d.set(k); !has[k] && s != nil {
				add[i] = s
				size += len(s)
				count++
			}
		}
	}
	if count == 0 {
		return nil, false
	}
	buf := make([]byte, 0, size)
	nalus = make([][]byte, 0, count)
	put := func(n []byte) {
		start := len(buf)
		buf = append(buf, n...)
		nalus = append(nalus, buf[start:len(buf):len(buf)])
	}
	for _, s := range add {
		if s != nil {
			put(s)
		}
	}
	for _, n := range au {
		if kindOf(codec, n[0]) != naluDrop {
			put(n)
		}
	}
	return nalus, key
}

// set is the current parameter set of kind k (nil: none).
func (d *Depacketizer) set(k naluKind) []byte {
	switch k {
	case naluVPS:
		return d.video.VPS
	case naluSPS:
		return d.video.SPS
	}
	return d.video.PPS
}

// takeSet takes an in-band parameter set as the new one when it differs.
func (d *Depacketizer) takeSet(k naluKind, n []byte) {
	if bytes.Equal(n, d.set(k)) {
		return
	}
	v := d.video
	var next *media.VideoParams
	switch {
	case k == naluSPS && v.Codec == media.H265:
		next, _ = media.NewH265Params(v.VPS, bytes.Clone(n), v.PPS) // kept as sent even when unreadable
	case k == naluSPS:
		next, _ = media.NewH264Params(bytes.Clone(n), v.PPS)
	default:
		c := *v
		if k == naluVPS {
			c.VPS = bytes.Clone(n)
		} else {
			c.PPS = bytes.Clone(n)
		}
		next = &c
	}
	d.video, d.changed = next, true
}
