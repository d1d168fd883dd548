package hls

import (
	"bytes"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
)

func sampleTracks() []*fmp4Track {
	return []*fmp4Track{
		{id: 1, video: true, baseTime: 90000 * 7, samples: []fmp4Sample{
			{duration: 3000, ctsOff: 6000, key: true, nalus: [][]byte{{0x67, 1, 2}, {0x68, 3}, {0x65, 4, 5, 6}}},
			{duration: 3060, ctsOff: -3000, nalus: [][]byte{{0x41, 7}}},
			{duration: 2940, ctsOff: 0, nalus: [][]byte{{0x41, 8, 9}}},
		}},
		{id: 2, baseTime: 48000 * 7, samples: []fmp4Sample{
			{duration: 1024, frame: []byte{0x21, 1}},
			{duration: 1024, frame: []byte{0x21, 2, 3}},
		}},
	}
}

// The part decodes, with mediacommon's fMP4 parser, to exactly what was written.
func TestMarshalPartRoundTrip(t *testing.T) {
	tracks := sampleTracks()
	b := marshalPart(42, tracks)
	var parts fmp4.Parts
	if err := parts.Unmarshal(b); err != nil {
		t.Fatalf("mediacommon cannot read the part: %v", err)
	}
	if len(parts) != 1 || parts[0].SequenceNumber != 42 || len(parts[0].Tracks) != 2 {
		t.Fatalf("parts %+v", parts)
	}
	for i, pt := range parts[0].Tracks {
		want := tracks[i]
		if pt.ID != int(want.id) || pt.BaseTime != want.baseTime || len(pt.Samples) != len(want.samples) {
			t.Fatalf("track %d: %+v", i, pt)
		}
		for j, s := range pt.Samples {
			w := want.samples[j]
			var payload []byte
			if w.nalus == nil {
				payload = w.frame
			} else {
				for _, n := range w.nalus {
					payload = append(payload, 0, 0, 0, byte(len(n)))
					payload = append(payload, n...)
				}
			}
			if s.Duration != w.duration || !bytes.Equal(s.Payload, payload) {
				t.Fatalf("track %d sample %d: %+v", i, j, s)
			}
			if want.video && (s.PTSOffset != w.ctsOff || s.IsNonSyncSample == w.key) {
				t.Fatalf("track %d sample %d: offset %d non-sync %v", i, j, s.PTSOffset, s.IsNonSyncSample)
			}
		}
	}
}

// The reference: mediacommon's writer, as gohlslib uses it.
func BenchmarkMarshalPartMediacommon(b *testing.B) {
	part := benchPart()
	var mp fmp4.Part
	mp.SequenceNumber = 1
	for _, t := range part {
		pt := &fmp4.PartTrack{ID: int(t.id), BaseTime: t.baseTime}
		for _, s := range t.samples {
			var payload []byte
			if s.nalus == nil {
				payload = s.frame
			} else {
				for _, n := range s.nalus {
					payload = append(payload, byte(len(n)>>24), byte(len(n)>>16), byte(len(n)>>8), byte(len(n)))
					payload = append(payload, n...)
				}
			}
			pt.Samples = append(pt.Samples, &fmp4.Sample{Duration: s.duration, PTSOffset: s.ctsOff, IsNonSyncSample: !s.key, Payload: payload})
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

func BenchmarkMarshalPart(b *testing.B) {
	part := benchPart()
	b.ReportAllocs()
	for b.Loop() {
		marshalPart(1, part)
	}
}

// benchPart is a 200 ms part of the standard scenario: 6 video frames of
// ~11 KB and 10 AAC frames.
func benchPart() []*fmp4Track {
	v := &fmp4Track{id: 1, video: true}
	for i := range 6 {
		v.samples = append(v.samples, fmp4Sample{duration: 3000, ctsOff: 3000, key: i == 0, nalus: [][]byte{make([]byte, 11000)}})
	}
	a := &fmp4Track{id: 2}
	for range 10 {
		a.samples = append(a.samples, fmp4Sample{duration: 1024, frame: make([]byte, 340)})
	}
	return []*fmp4Track{v, a}
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
