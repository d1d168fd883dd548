package ingest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	flvtag "github.com/yutopp/go-flv/tag"

	"github.com/onair-studio/onair/engine/media"
)

// Errors of the FLV conversion. A unit that fails is dropped; the
// publisher goes on.
var (
	errShortTag         = errors.New("FLV tag body too short")
	errUnsupportedCodec = errors.New("unsupported codec")
	errNoSequenceHeader = errors.New("media before its sequence header")
	errBadDecoderConfig = errors.New("malformed AVC decoder configuration record")
)

// Depacketizer turns the FLV tag bodies of one publisher into media units.
// It keeps the codec parameters from the sequence headers. Not safe for
// concurrent use.
type Depacketizer struct {
	video *media.VideoParams
	audio *media.AACParams
	// av1Config is the sequence header of an AV1 sequence start, used
	// when the first key frame carries none.
	av1Config []byte

	// changed is set when a sequence header brought new parameters.
	changed bool
}

// Tracks returns the parameters seen so far.
func (d *Depacketizer) Tracks() media.Tracks {
	return media.Tracks{Video: d.video, Audio: d.audio}
}

// TakeChanged reports (once) whether parameters changed since the last call.
func (d *Depacketizer) TakeChanged() bool {
	c := d.changed
	d.changed = false
	return c
}

// Video converts one FLV video tag body received at ts (milliseconds).
// It returns nil and no error for tags that carry no picture (sequence
// headers, end of sequence). The unit owns its memory: body may be reused.
func (d *Depacketizer) Video(ts uint32, body []byte) (*media.Unit, error) {
	if len(body) < 5 {
		return nil, fmt.Errorf("video: %w (%d bytes)", errShortTag, len(body))
	}
	if body[0]&0x80 != 0 {
		return d.exVideo(ts, body)
	}
	codec := media.H264
	switch id := flvtag.CodecID(body[0] & 0x0f); id {
	case flvtag.CodecIDAVC:
	case legacyCodecIDHEVC: // HEVC as some servers and encoders sent it before enhanced RTMP
		codec = media.H265
	default:
		return nil, fmt.Errorf("video: %w: FLV codec id %d (H.264 is 7; HEVC and AV1 come as enhanced RTMP)", errUnsupportedCodec, id)
	}
	cts := int32(uint32(body[2])<<24|uint32(body[3])<<16|uint32(body[4])<<8) >> 8
	payload := body[5:]

	switch flvtag.AVCPacketType(body[1]) {
	case flvtag.AVCPacketTypeSequenceHeader:
		return nil, d.exSequenceStart(codec, payload)
	case flvtag.AVCPacketTypeNALU:
	default: // end of sequence
		return nil, nil
	}
	dts := time.Duration(ts) * time.Millisecond
	return d.nalUnit(codec, dts, dts+time.Duration(cts)*time.Millisecond, payload)
}

// AACFrames converts the AAC frames of one PES packet (ADTS headers
// removed) starting at pts; each next frame is 1024 samples later.
func (d *Depacketizer) AACFrames(conf mpeg4audio.AudioSpecificConfig, pts time.Duration, frames [][]byte) []*media.Unit {
	if d.audio == nil || d.audio.Config != conf {
		d.audio, d.changed = &media.AACParams{Config: conf}, true
	}
	return media.AACUnits(conf, pts, frames)
}

// Audio converts one FLV audio tag body received at ts (milliseconds).
func (d *Depacketizer) Audio(ts uint32, body []byte) (*media.Unit, error) {
	if len(body) < 2 {
		return nil, fmt.Errorf("audio: %w (%d bytes)", errShortTag, len(body))
	}
	if f := flvtag.SoundFormat(body[0] >> 4); f != flvtag.SoundFormatAAC {
		return nil, fmt.Errorf("audio: %w: FLV sound format %d (only AAC, format 10)", errUnsupportedCodec, f)
	}
	payload := body[2:]
	switch flvtag.AACPacketType(body[1]) {
	case flvtag.AACPacketTypeSequenceHeader:
		var conf mpeg4audio.AudioSpecificConfig
		if err := conf.Unmarshal(payload); err != nil {
			return nil, fmt.Errorf("audio: decoding AudioSpecificConfig: %w", err)
		}
		if d.audio == nil || d.audio.Config != conf {
			d.audio = &media.AACParams{Config: conf}
			d.changed = true
		}
		return nil, nil
	case flvtag.AACPacketTypeRaw:
	default:
		return nil, fmt.Errorf("audio: unknown AAC packet type %d", body[1])
	}
	if d.audio == nil {
		return nil, fmt.Errorf("audio: %w", errNoSequenceHeader)
	}
	if len(payload) == 0 {
		return nil, nil
	}
	dts := time.Duration(ts) * time.Millisecond
	return &media.Unit{Kind: media.KindAudio, DTS: dts, PTS: dts, Frame: bytes.Clone(payload)}, nil
}

// parseAVCDecoderConfig reads the SPS and PPS of an
// AVCDecoderConfigurationRecord (ISO 14496-15, 5.3.3.1).
func parseAVCDecoderConfig(b []byte) (*media.VideoParams, error) {
	if len(b) < 7 || b[0] != 1 {
		return nil, errBadDecoderConfig
	}
	if b[4]&0x03 != 3 {
		return nil, fmt.Errorf("%w: NALU length size %d, only 4 is supported", errBadDecoderConfig, b[4]&0x03+1)
	}
	pos := 6
	readSets := func(count int) ([]byte, error) {
		var first []byte
		for range count {
			if len(b)-pos < 2 {
				return nil, errBadDecoderConfig
			}
			l := int(binary.BigEndian.Uint16(b[pos:]))
			pos += 2
			if l == 0 || len(b)-pos < l {
				return nil, errBadDecoderConfig
			}
			if first == nil {
				first = bytes.Clone(b[pos : pos+l])
			}
			pos += l
		}
		return first, nil
	}
	sps, err := readSets(int(b[5] & 0x1f))
	if err != nil {
		return nil, err
	}
	if len(b)-pos < 1 {
		return nil, errBadDecoderConfig
	}
	count := int(b[pos])
	pos++
	pps, err := readSets(count)
	if err != nil {
		return nil, err
	}
	if sps == nil || pps == nil {
		return nil, fmt.Errorf("%w: no SPS or no PPS", errBadDecoderConfig)
	}
	if h264.NALUType(sps[0]&0x1f) != h264.NALUTypeSPS || h264.NALUType(pps[0]&0x1f) != h264.NALUTypePPS {
		return nil, fmt.Errorf("%w: parameter sets of the wrong type", errBadDecoderConfig)
	}
	p, err := media.NewH264Params(sps, pps)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadDecoderConfig, err)
	}
	return p, nil
}
