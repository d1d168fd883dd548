package transcode

import (
	"bytes"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/onair-studio/onair/engine/media"
)

// h264Units makes units of the H.264 access units FFmpeg writes, its
// parameter sets in band before each key frame.
type h264Units struct {
	params *media.VideoParams
}

// unit makes the unit of au (delimiters and filler left out, its own
// memory); changed tells that its parameter sets are new. Before the
// first parameter sets there is no unit.
func (h *h264Units) unit(pts, dts time.Duration, au [][]byte) (u *media.Unit, changed bool, err error) {
	var sps, pps []byte
	key := false
	nalus := make([][]byte, 0, len(au))
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeAccessUnitDelimiter, h264.NALUTypeFillerData:
			continue
		case h264.NALUTypeSPS:
			sps = n
		case h264.NALUTypePPS:
			pps = n
		case h264.NALUTypeIDR:
			key = true
		}
		nalus = append(nalus, bytes.Clone(n))
	}
	if sps != nil && pps != nil && (h.params == nil || !bytes.Equal(sps, h.params.SPS) || !bytes.Equal(pps, h.params.PPS)) {
		p, err := media.NewH264Params(bytes.Clone(sps), bytes.Clone(pps))
		if err != nil {
			return nil, false, err
		}
		p.Codec = media.H264
		h.params, changed = p, true
	}
	if h.params == nil || len(nalus) == 0 {
		return nil, false, nil
	}
	if key && sps == nil { // each segment decodes on its own
		nalus = append([][]byte{h.params.SPS, h.params.PPS}, nalus...)
	}
	return &media.Unit{Kind: media.KindVideo, DTS: dts, PTS: pts, Key: key, NALUs: nalus}, changed, nil
}
