package ingest

import (
	"encoding/hex"
	"testing"
)

// Seeds: the first tags of an ffmpeg x264/AAC stream (sequence headers and
// the start of a key frame), plus broken variants.
var (
	seedAVCConfig = mustHex("17000000000164001effe1001a6764001eacd940a02ff970110000030001000003003c0f162d9601000468efbcb0fdf8f800")
	seedAACConfig = mustHex("af00119056e500")
	seedAVCNALU   = mustHex("170100004300000005658884000aff")
	seedAACFrame  = mustHex("af01de02004c61766335392e33372e3130300042541fffff")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(stripSpaces(s))
	if err != nil {
		panic(err)
	}
	return b
}

func stripSpaces(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			out = append(out, s[i])
		}
	}
	return string(out)
}

// FuzzDepacketizer feeds arbitrary tag bodies after valid sequence headers:
// nothing may panic, and every unit returned must be well formed.
func FuzzDepacketizer(f *testing.F) {
	f.Add(true, seedAVCNALU)
	f.Add(true, seedAVCConfig)
	f.Add(false, seedAACFrame)
	f.Add(false, seedAACConfig)
	f.Add(true, []byte{0x17, 0x01, 0, 0, 0, 0, 0, 0, 9, 0x65})
	f.Add(true, []byte{0x97, 0x01})
	f.Add(false, []byte{0x2f, 0x01, 0xff})
	f.Fuzz(func(t *testing.T, video bool, body []byte) {
		var d Depacketizer
		if _, err := d.Video(0, seedAVCConfig); err != nil {
			t.Fatalf("seed config: %v", err)
		}
		if _, err := d.Audio(0, seedAACConfig); err != nil {
			t.Fatalf("seed config: %v", err)
		}
		for range 2 { // twice: state left by the first call must hold
			var err error
			if video {
				u, e := d.Video(40, body)
				err = e
				if u != nil && (len(u.NALUs) == 0 || u.Size() == 0) {
					t.Fatalf("empty video unit from %x", body)
				}
				if u != nil && u.Size() > len(body)+len(d.video.SPS)+len(d.video.PPS) {
					t.Fatalf("unit larger than its input")
				}
			} else {
				u, e := d.Audio(40, body)
				err = e
				if u != nil && len(u.Frame) == 0 {
					t.Fatalf("empty audio unit from %x", body)
				}
			}
			if err != nil && err.Error() == "" {
				t.Fatal("error without a message")
			}
		}
		if tr := d.Tracks(); tr.Video == nil || tr.Audio == nil {
			t.Fatal("lost track parameters")
		}
	})
}

// FuzzAVCDecoderConfig checks the configuration record parser alone.
func FuzzAVCDecoderConfig(f *testing.F) {
	f.Add(seedAVCConfig[5:])
	f.Add([]byte{1, 0x64, 0, 0x1e, 0xff, 0xe1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseAVCDecoderConfig(b)
		if err == nil && (len(p.SPS) == 0 || len(p.PPS) == 0) {
			t.Fatal("accepted a record without parameter sets")
		}
	})
}
