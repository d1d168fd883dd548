package mp4frag

import (
	"bytes"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
)

func sampleTracks() []*Run {
	return []*Run{
		{ID: 1, Video: true, BaseTime: 90000 * 7, Samples: []Sample{
			{Duration: 3000, CTSOffset: 6000, Key: true, NALUs: [][]byte{{0x67, 1, 2}, {0x68, 3}, {0x65, 4, 5, 6}}},
			{Duration: 3060, CTSOffset: -3000, NALUs: [][]byte{{0x41, 7}}},
			{Duration: 2940, CTSOffset: 0, NALUs: [][]byte{{0x41, 8, 9}}},
		}},
		{ID: 2, BaseTime: 48000 * 7, Samples: []Sample{
			{Duration: 1024, Frame: []byte{0x21, 1}},
			{Duration: 1024, Frame: []byte{0x21, 2, 3}},
		}},
	}
}

// The part decodes, with mediacommon's fMP4 parser, to exactly what was written.
func TestMarshalRoundTrip(t *testing.T) {
	tracks := sampleTracks()
	b := Marshal(42, tracks)
	var parts fmp4.Parts
	if err := parts.Unmarshal(b); err != nil {
		t.Fatalf("mediacommon cannot read the part: %v", err)
	}
	if len(parts) != 1 || parts[0].SequenceNumber != 42 || len(parts[0].Tracks) != 2 {
		t.Fatalf("parts %+v", parts)
	}
	for i, pt := range parts[0].Tracks {
		want := tracks[i]
		if pt.ID != int(want.ID) || pt.BaseTime != want.BaseTime || len(pt.Samples) != len(want.Samples) {
			t.Fatalf("track %d: %+v", i, pt)
		}
		for j, s := range pt.Samples {
			w := want.Samples[j]
			var payload []byte
			if w.NALUs == nil {
				payload = w.Frame
			} else {
				for _, n := range w.NALUs {
					payload = append(payload, 0, 0, 0, byte(len(n)))
					payload = append(payload, n...)
				}
			}
			if s.Duration != w.Duration || !bytes.Equal(s.Payload, payload) {
				t.Fatalf("track %d sample %d: %+v", i, j, s)
			}
			if want.Video && (s.PTSOffset != w.CTSOffset || s.IsNonSyncSample == w.Key) {
				t.Fatalf("track %d sample %d: offset %d non-sync %v", i, j, s.PTSOffset, s.IsNonSyncSample)
			}
		}
	}
}

// The reference: mediacommon's writer, as gohlslib uses it.
func BenchmarkMarshalMediacommon(b *testing.B) {
	part := benchPart()
	var mp fmp4.Part
	mp.SequenceNumber = 1
	for _, t := range part {
		pt := &fmp4.PartTrack{ID: int(t.ID), BaseTime: t.BaseTime}
		for _, s := range t.Samples {
			var payload []byte
			if s.NALUs == nil {
				payload = s.Frame
			} else {
				for _, n := range s.NALUs {
					payload = append(payload, byte(len(n)>>24), byte(len(n)>>16), byte(len(n)>>8), byte(len(n)))
					payload = append(payload, n...)
				}
			}
			pt.Samples = append(pt.Samples, &fmp4.Sample{Duration: s.Duration, PTSOffset: s.CTSOffset, IsNonSyncSample: !s.Key, Payload: payload})
		}
		mp.Tracks = append(mp.Tracks, pt)
	}
	b.ReportAllocs()
	for b.Loop() {
		var buf seekable
		if err := mp.Marshal(&buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	part := benchPart()
	b.ReportAllocs()
	for b.Loop() {
		Marshal(1, part)
	}
}

// benchPart is a 200 ms part of the standard scenario: 6 video frames of
// ~11 KB and 10 AAC frames.
func benchPart() []*Run {
	v := &Run{ID: 1, Video: true}
	for i := range 6 {
		v.Samples = append(v.Samples, Sample{Duration: 3000, CTSOffset: 3000, Key: i == 0, NALUs: [][]byte{make([]byte, 11000)}})
	}
	a := &Run{ID: 2}
	for range 10 {
		a.Samples = append(a.Samples, Sample{Duration: 1024, Frame: make([]byte, 340)})
	}
	return []*Run{v, a}
}

// seekable is a minimal io.WriteSeeker for the reference benchmark.
type seekable struct {
	b   []byte
	pos int
}

func (s *seekable) Write(p []byte) (int, error) {
	if need := s.pos + len(p); need > len(s.b) {
		s.b = append(s.b, make([]byte, need-len(s.b))...)
	}
	copy(s.b[s.pos:], p)
	s.pos += len(p)
	return len(p), nil
}

func (s *seekable) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case 0:
		s.pos = int(off)
	case 1:
		s.pos += int(off)
	case 2:
		s.pos = len(s.b) + int(off)
	}
	return int64(s.pos), nil
}

// A fragment's header and media buffers make the same bytes as Marshal.
func TestHeaderAndMediaEqualMarshal(t *testing.T) {
	runs := sampleTracks()
	b := MarshalHeader(9, runs)
	for _, m := range MediaBuffers(nil, runs) {
		b = append(b, m...)
	}
	if want := Marshal(9, runs); !bytes.Equal(b, want) {
		t.Fatalf("header + media %x\nmarshalled %x", b, want)
	}
}
