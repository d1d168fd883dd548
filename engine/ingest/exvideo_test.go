package ingest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/media"
)

// Seeds from real encoders: x265's HEVC decoder configuration (its SEI
// array left out) and SVT-AV1's codec configuration, both 640x360, as
// ffmpeg wrote them into MP4.
var (
	seedHvcC = mustHex("0101600000009000000000003ff000fcfdf8f800000f03200001001840010c01ffff01600000030090000003000003003f959409210001002b42010101600000030090000003000003003fa005020171f2e595952930bc05a020000003002000000303c122000100064401c073c189")
	seedAv1C = mustHex("81010c000a0b0000000cc4ff6700be0010")
	// seedSeqHdr is the sequence header OBU inside seedAv1C, with its size.
	seedSeqHdr = mustHex("0a0b0000000cc4ff6700be0010")
	// an AV1 frame OBU (type 6) with its size and three bytes of payload.
	seedFrameOBU = []byte{0x32, 0x03, 0x10, 0x20, 0x30}
	seedTD       = []byte{0x12, 0x00}
	// an H.265 IDR slice (IDR_W_RADL) and a trailing picture.
	seedIDR   = []byte{0x26, 0x01, 0xaf, 0x10, 0x20}
	seedTrail = []byte{0x02, 0x01, 0xd0, 0x10}
)

// exTag builds an enhanced RTMP video tag body.
func exTag(frameType, packetType byte, fourCC string, payload ...[]byte) []byte {
	b := append([]byte{0x80 | frameType<<4 | packetType}, fourCC...)
	for _, p := range payload {
		b = append(b, p...)
	}
	return b
}

// lengthPrefixed writes NAL units as FLV carries them.
func lengthPrefixed(nalus ...[]byte) []byte {
	var b []byte
	for _, n := range nalus {
		b = append(b, byte(len(n)>>24), byte(len(n)>>16), byte(len(n)>>8), byte(len(n)))
		b = append(b, n...)
	}
	return b
}

func TestExVideoHEVC(t *testing.T) {
	for name, start := range map[string][]byte{
		"enhanced": exTag(1, exSequenceStart, "hvc1", seedHvcC),
		"legacy":   append([]byte{0x1c, 0, 0, 0, 0}, seedHvcC...), // codec id 12
	} {
		var d Depacketizer
		if u, err := d.Video(0, start); u != nil || err != nil {
			t.Fatalf("%s: sequence start: %v %v", name, u, err)
		}
		v := d.Tracks().Video
		if v == nil || v.Codec != media.H265 || v.Width != 640 || v.Height != 360 || len(v.VPS) == 0 || len(v.PPS) == 0 {
			t.Fatalf("%s: params %+v", name, v)
		}
		if !d.TakeChanged() {
			t.Errorf("%s: new parameters not reported", name)
		}
		frame := exTag(1, exCodedFrames, "hvc1", []byte{0, 0, 66}, lengthPrefixed(seedIDR))
		if name == "legacy" {
			frame = append([]byte{0x1c, 1, 0, 0, 66}, lengthPrefixed(seedIDR)...)
		}
		u, err := d.Video(1000, frame)
		if err != nil || u == nil {
			t.Fatalf("%s: key frame: %v %v", name, u, err)
		}
		if !u.Key || len(u.NALUs) != 4 || !bytes.Equal(u.NALUs[0], v.VPS) || !bytes.Equal(u.NALUs[3], seedIDR) {
			t.Errorf("%s: key frame unit: key %v, %d NAL units", name, u.Key, len(u.NALUs))
		}
		if u.DTS != time.Second || u.PTS != time.Second+66*time.Millisecond {
			t.Errorf("%s: times %v %v, want 1s and 1.066s", name, u.DTS, u.PTS)
		}
		u, err = d.Video(1033, exTag(2, exCodedFramesX, "hvc1", lengthPrefixed(seedTrail)))
		if err != nil || u == nil || u.Key || len(u.NALUs) != 1 || u.PTS != u.DTS {
			t.Errorf("%s: frame without composition time: %+v %v", name, u, err)
		}
	}
}

func TestExVideoAV1(t *testing.T) {
	var d Depacketizer
	if u, err := d.Video(0, exTag(1, exSequenceStart, "av01", seedAv1C)); u != nil || err != nil {
		t.Fatalf("sequence start: %v %v", u, err)
	}
	if d.Tracks().Video != nil {
		t.Fatal("AV1 parameters taken before the first key frame")
	}
	if _, err := d.Video(10, exTag(2, exCodedFramesX, "av01", seedTD, seedFrameOBU)); !errors.Is(err, errNoSequenceHeader) {
		t.Fatalf("a frame before any key frame: %v", err)
	}
	u, err := d.Video(40, exTag(0, exCodedFrames, "av01", seedTD, seedSeqHdr, seedFrameOBU))
	if err != nil || u == nil {
		t.Fatalf("key frame: %v %v", u, err)
	}
	v := d.Tracks().Video
	if v == nil || v.Codec != media.AV1 || v.Width != 640 || v.Height != 360 {
		t.Fatalf("params %+v", v)
	}
	if want := append(bytes.Clone(seedSeqHdr), seedFrameOBU...); !u.Key || !bytes.Equal(u.Frame, want) || u.NALUs != nil {
		t.Errorf("key frame unit: key %v frame %x, want %x (temporal delimiter dropped)", u.Key, u.Frame, want)
	}
	if u, err = d.Video(73, exTag(2, exCodedFramesX, "av01", seedTD, seedFrameOBU)); err != nil || u == nil || u.Key || !bytes.Equal(u.Frame, seedFrameOBU) {
		t.Errorf("inter frame: %+v %v", u, err)
	}
	// A key frame (by its tag) without a sequence header gets one in front.
	if u, err = d.Video(106, exTag(1, exCodedFramesX, "av01", seedFrameOBU)); err != nil || u == nil || !u.Key || !bytes.HasPrefix(u.Frame, seedSeqHdr) {
		t.Errorf("key frame without a sequence header: %+v %v", u, err)
	}
}

func TestExVideoRefusesWithTheReason(t *testing.T) {
	for body, want := range map[string]string{
		string(exTag(1, exSequenceStart, "vp09", []byte{1, 0, 0, 0})): "VP9",
		string(exTag(1, exMultitrack, "hvc1")):                        "multitrack",
		string(exTag(1, exModEx, "hvc1")):                             "ModEx",
		string(exTag(1, exSequenceStart, "xyz1", []byte{1, 0, 0, 0})): `"xyz1"`,
		string([]byte{0x12, 0, 0, 0, 0}):                              "FLV codec id 2",
	} {
		var d Depacketizer
		_, err := d.Video(0, []byte(body))
		if !errors.Is(err, errUnsupportedCodec) || !strings.Contains(err.Error(), want) {
			t.Errorf("%x: %v, want a refusal naming %s", body, err, want)
		}
	}
}

func TestAnnouncedTracks(t *testing.T) {
	for id, want := range map[any]bool{nil: false, 0.0: false, 7.0: true, 1752589105.0: true, "hvc1": true} {
		if got := announced(id); got != want {
			t.Errorf("codec id %v announced %v", id, got)
		}
	}
}

// FuzzExVideo feeds arbitrary enhanced RTMP tag bodies after valid HEVC and
// AV1 sequence starts: nothing may panic, and every unit must be well
// formed and no larger than its input with the parameters.
func FuzzExVideo(f *testing.F) {
	f.Add(exTag(1, exSequenceStart, "hvc1", seedHvcC))
	f.Add(exTag(1, exSequenceStart, "av01", seedAv1C))
	f.Add(exTag(1, exCodedFrames, "hvc1", []byte{0, 0, 66}, lengthPrefixed(seedIDR)))
	f.Add(exTag(2, exCodedFramesX, "hvc1", lengthPrefixed(seedTrail)))
	f.Add(exTag(0, exCodedFrames, "av01", seedTD, seedSeqHdr, seedFrameOBU))
	f.Add(exTag(1, exCodedFramesX, "av01", seedFrameOBU))
	f.Add(exTag(1, exMultitrack, "hvc1"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) < 5 {
			return
		}
		body[0] |= 0x80
		for _, start := range [][]byte{exTag(1, exSequenceStart, "hvc1", seedHvcC), exTag(1, exSequenceStart, "av01", seedAv1C)} {
			var d Depacketizer
			if _, err := d.Video(0, start); err != nil {
				t.Fatalf("seed: %v", err)
			}
			for range 2 {
				u, err := d.Video(40, body)
				if err != nil && err.Error() == "" {
					t.Fatal("error without a message")
				}
				if u == nil {
					continue
				}
				if u.Size() == 0 || (u.NALUs == nil) == (u.Frame == nil) {
					t.Fatalf("malformed unit from %x", body)
				}
				v := d.Tracks().Video
				if u.Size() > len(body)+len(v.VPS)+len(v.SPS)+len(v.PPS)+8 {
					t.Fatalf("unit of %d bytes from %d", u.Size(), len(body))
				}
			}
		}
	})
}
