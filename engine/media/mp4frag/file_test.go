package mp4frag

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/onair-studio/onair/engine/media"
)

// testFile is an audio-only recording of n one-second fragments, not
// finished, and its size after each fragment.
func testFile(t testing.TB, n int) (file []byte, ends []int) {
	t.Helper()
	in, err := NewInit(media.Tracks{Audio: &media.AACParams{Config: mpeg4audio.AudioSpecificConfig{
		Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 48000, ChannelConfig: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	file = append(file, in.Bytes...)
	a := in.Audio
	const frame = time.Second * 1024 / 48000
	i := 0
	for f := range n {
		for range 47 {
			u := &media.Unit{Kind: media.KindAudio, DTS: time.Duration(i) * frame, Frame: []byte{0x21, byte(i)}}
			dts, s := a.Sample(u)
			a.Complete(dts)
			a.Hold(dts, s)
			i++
		}
		r := a.Run()
		file = append(file, Marshal(uint32(f+1), []*Run{r})...)
		a.Reset()
		ends = append(ends, len(file))
	}
	return file, ends
}

// Scan finds every fragment of a recording, and after a cut anywhere it
// finds exactly the fragments before the cut.
func TestScanFindsCompleteFragments(t *testing.T) {
	file, ends := testFile(t, 5)
	info, err := Scan(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	if info.Finished || info.Fragments != 5 || info.Complete != int64(ends[4]) || info.Tracks.Audio == nil {
		t.Fatalf("recording: %+v", info)
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
		if err != nil || info.Fragments != want || info.Complete != int64(ends[want-1]) {
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
		// What Scan found can be read back: every sample lies in the file
		// (pictures and clips read them one by one).
		for _, kind := range []media.Kind{media.KindVideo, media.KindAudio} {
			for i, s := range info.Samples(kind) {
				if s.Offset < 0 || s.Offset+int64(s.Size) > int64(len(b)) {
					t.Fatalf("a sample at %d of %d bytes lies outside the %d-byte file", s.Offset, s.Size, len(b))
				}
				if i >= 16 {
					continue
				}
				if _, err := ReadSample(bytes.NewReader(b), s); err != nil {
					t.Fatalf("reading a sample Scan found: %v", err)
				}
			}
		}
	})
}

// Finish turns a recording, whole or cut anywhere, into an ordinary MP4
// whose moov lists every complete fragment's samples; finishing again
// changes nothing.
func TestFinish(t *testing.T) {
	file, ends := testFile(t, 4)
	for _, cut := range []int{len(file), ends[2] + 500, ends[1] + 1} {
		path := filepath.Join(t.TempDir(), "rec.mp4")
		if err := os.WriteFile(path, file[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		info, err := Finish(f)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Finish(f)
		f.Close()
		if err != nil || !again.Finished || again.Complete != info.Complete {
			t.Fatalf("finishing twice: %+v %v", again, err)
		}
		b, _ := os.ReadFile(path)
		if int64(len(b)) != info.Complete || !info.Finished {
			t.Fatalf("cut %d: %d bytes, info %+v", cut, len(b), info)
		}
		top, err := children(b)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, x := range top {
			types = append(types, x.typ)
		}
		want := []string{"ftyp", "free"}
		for range info.Fragments {
			want = append(want, "free", "mdat")
		}
		want = append(want, "moov")
		if strings.Join(types, " ") != strings.Join(want, " ") {
			t.Fatalf("cut %d: boxes %v", cut, types)
		}
		// The moov's sample sizes and chunk offsets point at the frames.
		moov := top[len(top)-1].content(b)
		stsz := find(t, moov, "trak", "mdia", "minf", "stbl", "stsz")
		co64 := find(t, moov, "trak", "mdia", "minf", "stbl", "co64")
		count := int(binary.BigEndian.Uint32(stsz[8:]))
		if count != info.Fragments*47-1 {
			t.Errorf("cut %d: %d samples for %d fragments", cut, count, info.Fragments)
		}
		off := int(binary.BigEndian.Uint64(co64[8:]))
		if size := binary.BigEndian.Uint32(stsz[12:]); size != 2 || b[off] != 0x21 {
			t.Errorf("first sample: size %d, byte %#x", size, b[off])
		}
	}
}

// find returns the content of the first box along path.
func find(t *testing.T, b []byte, path ...string) []byte {
	t.Helper()
	for _, typ := range path {
		boxes, err := children(b)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, x := range boxes {
			if x.typ == typ {
				b, found = x.content(b), true
				break
			}
		}
		if !found {
			t.Fatalf("no %s", typ)
		}
	}
	return b
}
