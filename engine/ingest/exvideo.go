package ingest

import (
	"bytes"
	"fmt"
	"time"

	"github.com/abema/go-mp4"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/onair-studio/onair/engine/media"
)

// Packet types of enhanced RTMP's ExVideoTagHeader (the low four bits of
// its first byte when the top bit is set).
const (
	exSequenceStart     = 0
	exCodedFrames       = 1 // with a composition time (H.264, H.265)
	exSequenceEnd       = 2
	exCodedFramesX      = 3 // composition time zero
	exMetadata          = 4
	exMPEG2TSSeqStart   = 5
	exMultitrack        = 6
	exModEx             = 7
	exFrameTypeKey      = 1 // frame type "key frame" (the next three bits)
	exFrameTypeCommand  = 5 // a command frame: no picture
	legacyCodecIDHEVC   = 12
	hevcLengthSizeBytes = 4
)

// exVideo converts a video tag body with an ExVideoTagHeader (enhanced
// RTMP: HEVC as hvc1, AV1 as av01, H.264 as avc1). What the studio does
// not take — VP9, several tracks in one connection, v2 extensions — is
// errUnsupportedCodec, which refuses the publisher with the reason.
func (d *Depacketizer) exVideo(ts uint32, body []byte) (*media.Unit, error) {
	frameType, packetType := (body[0]>>4)&0x07, body[0]&0x0f
	switch packetType {
	case exMultitrack:
		return nil, fmt.Errorf("video: %w: several video tracks in one enhanced RTMP stream (multitrack); send one track", errUnsupportedCodec)
	case exModEx:
		return nil, fmt.Errorf("video: %w: enhanced RTMP v2 extensions (ModEx); use enhanced RTMP v1", errUnsupportedCodec)
	case exMPEG2TSSeqStart:
		return nil, fmt.Errorf("video: %w: MPEG-2 TS sequence start", errUnsupportedCodec)
	}
	codec, err := exCodec(body[1:5])
	if err != nil {
		return nil, err
	}
	payload := body[5:]
	if frameType == exFrameTypeCommand {
		return nil, nil
	}
	var cts int32
	switch packetType {
	case exSequenceStart:
		return nil, d.exSequenceStart(codec, payload)
	case exCodedFrames:
		if codec != media.AV1 {
			if len(payload) < 3 {
				return nil, fmt.Errorf("video: %w (coded frames without a composition time)", errShortTag)
			}
			cts = int32(uint32(payload[0])<<24|uint32(payload[1])<<16|uint32(payload[2])<<8) >> 8
			payload = payload[3:]
		}
	case exCodedFramesX:
	case exSequenceEnd, exMetadata:
		return nil, nil
	default:
		return nil, fmt.Errorf("video: unknown enhanced RTMP packet type %d", packetType)
	}
	dts := time.Duration(ts) * time.Millisecond
	if codec == media.AV1 {
		return d.av1Unit(dts, frameType == exFrameTypeKey, payload)
	}
	return d.nalUnit(codec, dts, dts+time.Duration(cts)*time.Millisecond, payload)
}

// exCodec names the codec of an ExVideoTagHeader's FourCC.
func exCodec(fourCC []byte) (media.VideoCodec, error) {
	switch string(fourCC) {
	case "avc1":
		return media.H264, nil
	case "hvc1":
		return media.H265, nil
	case "av01":
		return media.AV1, nil
	case "vp09":
		return 0, fmt.Errorf("video: %w: VP9 (vp09); set the encoder to H.264, HEVC or AV1", errUnsupportedCodec)
	}
	return 0, fmt.Errorf("video: %w: enhanced RTMP codec %q; set the encoder to H.264, HEVC or AV1", errUnsupportedCodec, fourCC)
}

// exSequenceStart takes a sequence start's decoder configuration. AV1's is
// held until the first key frame, which normally carries the sequence
// header itself: some senders put a placeholder in the configuration.
func (d *Depacketizer) exSequenceStart(codec media.VideoCodec, payload []byte) error {
	var p *media.VideoParams
	var err error
	switch codec {
	case media.H264:
		p, err = parseAVCDecoderConfig(payload)
	case media.H265:
		p, err = parseHEVCDecoderConfig(payload)
	case media.AV1:
		d.av1Config, err = parseAV1Config(payload)
		return err
	}
	if err != nil {
		return err
	}
	d.take(p)
	return nil
}

// take makes p the video parameters from now on (changed when they differ).
func (d *Depacketizer) take(p *media.VideoParams) {
	if d.video == nil || !(media.Tracks{Video: d.video}).SameAs(media.Tracks{Video: p}) {
		d.video, d.changed = p, true
	}
}

// nalUnit converts length-prefixed H.264 or H.265 NAL units.
func (d *Depacketizer) nalUnit(codec media.VideoCodec, dts, pts time.Duration, payload []byte) (*media.Unit, error) {
	if d.video == nil || d.video.Codec != codec {
		return nil, fmt.Errorf("video: %w", errNoSequenceHeader)
	}
	var au h264.AVCC
	if err := au.Unmarshal(payload); err != nil {
		return nil, fmt.Errorf("video: decoding length-prefixed NAL units: %w", err)
	}
	nalus, key := d.pictures(au)
	if nalus == nil {
		return nil, nil
	}
	return &media.Unit{Kind: media.KindVideo, DTS: dts, PTS: pts, Key: key, NALUs: nalus}, nil
}

// av1Unit converts one AV1 temporal unit (OBUs in the low-overhead format).
// Temporal delimiters and padding are dropped; a sequence header that
// differs becomes the new parameters; a key frame without one gets the
// current one in front, so that each segment decodes on its own.
func (d *Depacketizer) av1Unit(dts time.Duration, key bool, payload []byte) (*media.Unit, error) {
	var bs av1.Bitstream
	if err := bs.Unmarshal(payload); err != nil {
		return nil, fmt.Errorf("video: reading AV1 OBUs: %w", err)
	}
	obus := bs[:0]
	var seq []byte
	for _, o := range bs {
		switch av1.OBUType((o[0] >> 3) & 0x0f) {
		case av1.OBUTypeTemporalDelimiter, av1.OBUTypePadding:
			continue
		case av1.OBUTypeSequenceHeader:
			seq = o
		}
		obus = append(obus, o)
	}
	if seq == nil && (d.video == nil || d.video.Codec != media.AV1) && key {
		seq = d.av1Config // the configuration's, for a sender without in-band headers
		if seq != nil {
			obus = append([][]byte{seq}, obus...)
		}
	}
	if seq != nil && (d.video == nil || d.video.Codec != media.AV1 || !bytes.Equal(seq, d.video.SPS)) {
		p, err := media.NewAV1Params(seq)
		if err != nil {
			return nil, fmt.Errorf("video: %w", err)
		}
		d.take(p)
	}
	if d.video == nil || d.video.Codec != media.AV1 {
		return nil, fmt.Errorf("video: %w", errNoSequenceHeader)
	}
	key = key || seq != nil
	if key && seq == nil {
		obus = append([][]byte{d.video.SPS}, obus...)
	}
	if len(obus) == 0 {
		return nil, nil
	}
	frame, err := obus.Marshal()
	if err != nil {
		return nil, fmt.Errorf("video: writing AV1 OBUs: %w", err)
	}
	return &media.Unit{Kind: media.KindVideo, DTS: dts, PTS: dts, Key: key, Frame: frame}, nil
}

// parseHEVCDecoderConfig reads the VPS, SPS and PPS of an
// HEVCDecoderConfigurationRecord (ISO 14496-15, 8.3.3.1).
func parseHEVCDecoderConfig(b []byte) (p *media.VideoParams, err error) {
	var c mp4.HvcC
	if err := unmarshalBox(b, &c); err != nil {
		return nil, fmt.Errorf("malformed HEVC decoder configuration record: %w", err)
	}
	if int(c.LengthSizeMinusOne)+1 != hevcLengthSizeBytes {
		return nil, fmt.Errorf("malformed HEVC decoder configuration record: NALU length size %d, only 4 is supported", c.LengthSizeMinusOne+1)
	}
	var vps, sps, pps []byte
	for _, a := range c.NaluArrays {
		if len(a.Nalus) == 0 || len(a.Nalus[0].NALUnit) == 0 {
			continue
		}
		n := bytes.Clone(a.Nalus[0].NALUnit)
		switch h265.NALUType(a.NaluType) {
		case h265.NALUType_VPS_NUT:
			vps = n
		case h265.NALUType_SPS_NUT:
			sps = n
		case h265.NALUType_PPS_NUT:
			pps = n
		}
	}
	if vps == nil || sps == nil || pps == nil {
		return nil, fmt.Errorf("malformed HEVC decoder configuration record: a VPS, SPS or PPS is missing")
	}
	p, err = media.NewH265Params(vps, sps, pps)
	if err != nil {
		return nil, fmt.Errorf("malformed HEVC decoder configuration record: %w", err)
	}
	return p, nil
}

// parseAV1Config returns the sequence header OBU of an
// AV1CodecConfigurationRecord (nil when it carries none).
func parseAV1Config(b []byte) ([]byte, error) {
	var c mp4.Av1C
	if err := unmarshalBox(b, &c); err != nil {
		return nil, fmt.Errorf("malformed AV1 codec configuration record: %w", err)
	}
	if len(c.ConfigOBUs) == 0 {
		return nil, nil
	}
	var bs av1.Bitstream
	if err := bs.Unmarshal(c.ConfigOBUs); err != nil {
		return nil, fmt.Errorf("malformed AV1 codec configuration record: %w", err)
	}
	for _, o := range bs {
		if av1.OBUType((o[0]>>3)&0x0f) == av1.OBUTypeSequenceHeader {
			if _, err := media.NewAV1Params(o); err != nil {
				return nil, fmt.Errorf("malformed AV1 codec configuration record: %w", err)
			}
			return o, nil
		}
	}
	return nil, nil
}

// unmarshalBox reads a box's payload (without its size and type) into box
// with go-mp4 (FuzzExVideo runs it on arbitrary records).
func unmarshalBox(b []byte, box mp4.IBox) error {
	_, err := mp4.Unmarshal(bytes.NewReader(b), uint64(len(b)), box, mp4.Context{})
	return err
}
