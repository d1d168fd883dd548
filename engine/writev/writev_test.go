package writev

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// More buffers than one call takes, some empty, land in order, and the
// caller's list is left as it was.
func TestWriteManyBuffers(t *testing.T) {
	var bufs [][]byte
	var want []byte
	for i := range 2500 {
		b := bytes.Repeat([]byte{byte(i)}, i%7)
		bufs = append(bufs, b)
		want = append(want, b...)
	}
	orig := append([][]byte(nil), bufs...)
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := Write(f, bufs)
	f.Close()
	if err != nil || n != int64(len(want)) {
		t.Fatalf("wrote %d of %d: %v", n, len(want), err)
	}
	got, _ := os.ReadFile(f.Name())
	if !bytes.Equal(got, want) {
		t.Fatal("the file differs from the buffers")
	}
	for i := range bufs {
		if len(bufs[i]) != len(orig[i]) {
			t.Fatalf("buffer %d changed", i)
		}
	}
}

// skip drops whole buffers and a part of the next, without changing them.
func TestSkip(t *testing.T) {
	bufs := [][]byte{[]byte("ab"), []byte("cde"), []byte("f")}
	got := skip(bufs, 3)
	if len(got) != 2 || string(got[0]) != "de" || string(got[1]) != "f" || string(bufs[1]) != "cde" {
		t.Fatalf("skip 3: %q (input now %q)", got, bufs)
	}
	if got := skip(bufs, 6); len(got) != 0 {
		t.Fatalf("skip all: %q", got)
	}
}
