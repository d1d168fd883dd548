package mp4frag

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/media"
)

// Samples lists every sample Scan found with its time and bytes, in a
// fragmented recording and in the same recording once finished.
func TestSamplesReadBack(t *testing.T) {
	file, _ := testFile(t, 3)
	path := filepath.Join(t.TempDir(), "rec.mp4")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	check := func(stage string, info *FileInfo) {
		t.Helper()
		if v := info.Samples(media.KindVideo); v != nil {
			t.Fatalf("%s: an audio recording lists %d video samples", stage, len(v))
		}
		got := info.Samples(media.KindAudio)
		const frame = time.Second * 1024 / 48000
		if len(got) != 3*47-1 { // the last frame is still held
			t.Fatalf("%s: %d samples, want %d", stage, len(got), 3*47-1)
		}
		for i, s := range got {
			want := time.Duration(i) * frame
			if d := s.DTS - want; d < -time.Millisecond || d > time.Millisecond || s.PTS != s.DTS || !s.Key {
				t.Fatalf("%s: sample %d at %v (pts %v, key %v), want %v", stage, i, s.DTS, s.PTS, s.Key, want)
			}
			b, err := ReadSample(f, s)
			if err != nil || !bytes.Equal(b, []byte{0x21, byte(i)}) {
				t.Fatalf("%s: sample %d reads %x, %v", stage, i, b, err)
			}
		}
	}
	info, err := Scan(f, int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	check("fragmented", info)
	if _, err = Finish(f); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	if info, err = Scan(f, st.Size()); err != nil || !info.Finished {
		t.Fatalf("scanning the finished file: %v %+v", err, info)
	}
	check("finished", info)
}
