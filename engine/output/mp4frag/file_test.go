package mp4frag

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/onair-studio/onair/engine/media"
)

// testFile is an audio-only file of n one-second fragments, its size
// after each fragment, and its index.
func testFile(t testing.TB, n int) (file []byte, ends []int) {
	t.Helper()
	in, err := NewInit(media.Tracks{Audio: &media.AACParams{Config: mpeg4audio.AudioSpecificConfig{
		Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 48000, ChannelConfig: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	file = append(file, in.Bytes...)
	a := in.Audio
	var keys []KeyEntry
	const frame = time.Second * 1024 / 48000
	i := 0
	for f := range n {
		start := len(file)
		for range 47 {
			u := &media.Unit{Kind: media.KindAudio, DTS: time.Duration(i) * frame, Frame: []byte{0x21, byte(i)}}
			dts, s := a.Sample(u)
			a.Complete(dts)
			a.Hold(dts, s)
			i++
		}
		r := a.Run()
		keys = append(keys, KeyEntry{Time: r.BaseTime, Offset: uint64(start)})
		file = append(file, Marshal(uint32(f+1), []*Run{r})...)
		a.Reset()
		ends = append(ends, len(file))
	}
	return append(file, MarshalIndex(a.ID, keys)...), ends
}

// Scan finds every fragment of a finished file, and after a cut anywhere
// it finds exactly the fragments before the cut.
func TestScanFindsCompleteFragments(t *testing.T) {
	file, ends := testFile(t, 5)
	info, err := Scan(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	if !info.Finished || info.Fragments != 5 || info.Complete != int64(ends[4]) || len(info.Keys) != 5 || info.Tracks.Audio == nil {
		t.Fatalf("finished file: %+v", info)
	}
	// The last frame is still held: 5 × 47 - 1 frames were written.
	if d := info.Duration - (5*47-1)*time.Second*1024/48000; d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("duration %v", info.Duration)
	}
	for cut := ends[0] - 1; cut < ends[4]; cut += 97 {
		info, err := Scan(bytes.NewReader(file[:cut]), int64(cut))
		want := 0
		for _, e := range ends {
			if e <= cut {
				want++
			}
		}
		if want == 0 {
			if !errors.Is(err, ErrNoMedia) {
				t.Fatalf("cut at %d: %v", cut, err)
			}
			continue
		}
		if err != nil || info.Finished || info.Fragments != want || info.Complete != int64(ends[want-1]) {
			t.Fatalf("cut at %d: %+v %v, want %d fragments", cut, info, err, want)
		}
	}
}

// FuzzScan: whatever a file in the library holds, Scan returns without
// panicking, and what it calls complete lies within the file.
func FuzzScan(f *testing.F) {
	file, ends := testFile(f, 3)
	f.Add(file)
	f.Add(file[:ends[1]+20])
	f.Add(file[:100])
	f.Add([]byte("not a video"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := Scan(bytes.NewReader(b), int64(len(b)))
		if err != nil && info == nil {
			return
		}
		if info.Complete > int64(len(b)) || info.Complete < 0 {
			t.Fatalf("complete %d of %d bytes", info.Complete, len(b))
		}
		if err == nil && info.Fragments == 0 {
			t.Fatal("no error without fragments")
		}
	})
}
