package main

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/onair-studio/onair/engine/mediatest"
)

// testSPS is a 640x360 H.264 High profile SPS.
var testSPS = []byte{0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x0f, 0x16, 0x2d, 0x96}

func testInit(t testing.TB) []byte {
	t.Helper()
	it := fmp4.Init{Tracks: []*fmp4.InitTrack{
		{ID: 1, TimeScale: 48000, Codec: &codecs.MPEG4Audio{Config: mpeg4audio.AudioSpecificConfig{Type: 2, SampleRate: 48000, ChannelConfig: 2}}},
		{ID: 2, TimeScale: 90000, Codec: &codecs.H264{SPS: testSPS, PPS: []byte{0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}}},
	}}
	var b seekablebuffer.Buffer
	if err := it.Marshal(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// testPart is a part whose video track starts at base and has samples of
// the given durations (90 kHz), with an audio track alongside.
func testPart(t testing.TB, seq uint32, base uint64, durs ...uint32) []byte {
	t.Helper()
	v := &fmp4.PartTrack{ID: 2, BaseTime: base}
	for _, d := range durs {
		v.Samples = append(v.Samples, &fmp4.Sample{Duration: d, Payload: []byte{1, 2, 3}})
	}
	a := &fmp4.PartTrack{ID: 1, BaseTime: base * 48000 / 90000, Samples: []*fmp4.Sample{{Duration: 1024, Payload: []byte{4}}}}
	var b seekablebuffer.Buffer
	if err := (&fmp4.Part{SequenceNumber: seq, Tracks: []*fmp4.PartTrack{a, v}}).Marshal(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestFrameCounter(t *testing.T) {
	const f = 3000 // one frame at 30 fps in 90 kHz
	for _, c := range []struct {
		name          string
		parts         [][]uint64 // base, then durations
		frames, drops int64
	}{
		{"contiguous", [][]uint64{{0, f, f, f}, {3 * f, f, f, f}}, 6, 0},
		{"millisecond jitter and a loop point", [][]uint64{{0, 2970, 3060, 2970}, {9000, 4900, f}}, 5, 0},
		{"a sample stretched over 4 dropped frames", [][]uint64{{0, f, 5 * f, f}, {7 * f, f}}, 4, 4},
		{"a hole of 3 frames between parts", [][]uint64{{0, f, f}, {5 * f, f, f}}, 4, 3},
		{"a whole GOP dropped", [][]uint64{{0, f}, {61 * f, f}}, 2, 60},
	} {
		var frames, dropped atomic.Int64
		fc, err := newFrameCounter(testInit(t), 30, &frames, &dropped)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range c.parts {
			var durs []uint32
			for _, d := range p[1:] {
				durs = append(durs, uint32(d))
			}
			if err := fc.add(testPart(t, uint32(i+1), p[0], durs...), true); err != nil {
				t.Fatal(err)
			}
		}
		if frames.Load() != c.frames || dropped.Load() != c.drops {
			t.Errorf("%s: %d frames, %d dropped; want %d, %d", c.name, frames.Load(), dropped.Load(), c.frames, c.drops)
		}
	}
}

// Parts read outside the measurement keep the timeline but are not counted.
func TestFrameCounterOnlyCountsWhileMeasuring(t *testing.T) {
	var frames, dropped atomic.Int64
	fc, err := newFrameCounter(testInit(t), 30, &frames, &dropped)
	if err != nil {
		t.Fatal(err)
	}
	fc.add(testPart(t, 1, 0, 3000, 3000), false)
	fc.add(testPart(t, 2, 6000, 3000), true)
	if frames.Load() != 1 || dropped.Load() != 0 {
		t.Fatalf("%d frames, %d dropped; want 1, 0", frames.Load(), dropped.Load())
	}
	if err := fc.add([]byte("not a part"), true); err == nil {
		t.Fatal("garbage read as a part")
	}
}

// The clip loops without a hole in the video: its length is one frame past
// its last video frame, and no audio is sent past that point.
func TestClipLoopsWithoutHole(t *testing.T) {
	tags, clipLen, err := readClip(mediatest.Small.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	fps := clipFPS(tags, clipLen)
	var lastVideo time.Duration
	for _, tg := range tags {
		ts := time.Duration(tg.Timestamp) * time.Millisecond
		if tg.Video {
			lastVideo = max(lastVideo, ts)
		} else if ts >= clipLen {
			t.Fatalf("audio at %v, past the clip's length %v", ts, clipLen)
		}
	}
	frame := time.Duration(float64(time.Second) / fps)
	if gap := clipLen - lastVideo; gap < frame*3/4 || gap > frame*5/4 {
		t.Fatalf("loop gap after the last video frame %v, one frame is %v (fps %.2f)", gap, frame, fps)
	}
}

// A part from the server is parsed without panicking, whatever it holds.
func FuzzFrameCounter(f *testing.F) {
	f.Add(testPart(f, 1, 0, 3000, 3000))
	f.Add([]byte("not a part"))
	init := testInit(f)
	f.Fuzz(func(t *testing.T, part []byte) {
		var frames, dropped atomic.Int64
		fc, err := newFrameCounter(init, 30, &frames, &dropped)
		if err != nil {
			t.Fatal(err)
		}
		if fc.add(part, true) != nil && (frames.Load() != 0 || dropped.Load() != 0) {
			t.Fatal("a refused part was counted")
		}
	})
}
