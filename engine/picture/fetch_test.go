package picture

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/onair-studio/onair/engine/mediatest"
)

// stand-in: the system's OpenH264 (Debian's libopenh264-7), compressed
// with bzip2 as Cisco serves its builds, on a local server.
func standIn(t *testing.T) (srv *httptest.Server, d Download) {
	t.Helper()
	libs, _ := filepath.Glob("/usr/lib/*/libopenh264.so.7")
	if len(libs) == 0 {
		t.Fatal("libopenh264.so.7 is needed as the stand-in for Cisco's build (apt-get install libopenh264-7)")
	}
	bz, err := exec.Command("bzip2", "-c", libs[0]).Output()
	if err != nil {
		t.Fatalf("bzip2 (apt-get install bzip2): %v", err)
	}
	sum, err := fileSHA256(libs[0])
	if err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/libopenh264-test.so.bz2" {
			http.NotFound(w, r)
			return
		}
		w.Write(bz)
	}))
	t.Cleanup(srv.Close)
	return srv, Download{URL: srv.URL + "/libopenh264-test.so.bz2", File: "libopenh264-test.so", SHA256: sum}
}

// A download whose SHA-256 is not the pinned one is refused with a clear
// error, and nothing is kept; the right one is kept once.
func TestFetchChecksTheSum(t *testing.T) {
	srv, d := standIn(t)
	dir := t.TempDir()
	wrong := d
	wrong.SHA256 = strings.Repeat("0", 64)
	_, err := Fetch(context.Background(), srv.Client(), wrong, dir)
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "nothing was kept or loaded") {
		t.Fatalf("a mismatching download: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("a refused download left %d files", len(left))
	}
	if err := LoadFetched(wrong, dir); err == nil {
		t.Error("LoadFetched loaded a library it has no file for")
	}
	path, err := Fetch(context.Background(), srv.Client(), d, dir)
	if err != nil || filepath.Base(path) != d.File {
		t.Fatalf("the right download: %q %v", path, err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("%d files kept, want the library only", len(left))
	}
	missing := d
	missing.URL = srv.URL + "/nothing.bz2"
	if _, err := Fetch(context.Background(), srv.Client(), missing, t.TempDir()); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a download that is not there: %v", err)
	}
}

// In a process where OpenH264 was never loaded: a refused download loads
// nothing, then the right one is fetched, loaded, and decodes a real H.264
// key frame into a picture of the clip's size. The child runs in its own
// process because OpenH264, a C library, stays loaded once it is.
func TestFetchedLibraryDecodes(t *testing.T) {
	if os.Getenv("ONAIR_FETCH_CHILD") == "" {
		mediatest.RequireTools(t)
		mediatest.Small.Path(t) // made here, where the tools are checked
		cmd := exec.Command(os.Args[0], "-test.run", "^TestFetchedLibraryDecodes$", "-test.v")
		cmd.Env = append(os.Environ(), "ONAIR_FETCH_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "decoded 640x360") {
			t.Fatalf("the child: %v\n%s", err, out)
		}
		return
	}
	srv, d := standIn(t)
	dir := t.TempDir()
	wrong := d
	wrong.SHA256 = strings.Repeat("f", 64)
	if _, err := Fetch(context.Background(), srv.Client(), wrong, dir); !errors.Is(err, ErrChecksum) {
		t.Fatalf("a mismatching download: %v", err)
	}
	if err := LoadFetched(wrong, dir); err == nil || loaded {
		t.Fatalf("a refused download was loaded: %v", err)
	}
	if _, err := Fetch(context.Background(), srv.Client(), d, dir); err != nil {
		t.Fatal(err)
	}
	if err := LoadFetched(d, dir); err != nil || !loaded {
		t.Fatalf("loading the fetched library: %v", err)
	}
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var pic Picture
	for i, au := range accessUnits(t, mediatest.Small.Path(t), 10) {
		ok, err := dec.Decode(au, &pic)
		if err != nil {
			t.Fatalf("decoding access unit %d: %v", i, err)
		}
		if ok {
			fmt.Printf("decoded %dx%d\n", pic.Width, pic.Height)
			return
		}
	}
	t.Fatal("ten access units from a key frame on gave no picture")
}

// accessUnits are the first n access units of an FLV clip in Annex B
// form, the first with the SPS and PPS in front.
func accessUnits(t *testing.T, clip string, n int) [][]byte {
	t.Helper()
	tags, err := mediatest.ReadFLV(clip)
	if err != nil {
		t.Fatal(err)
	}
	var sets, aus [][]byte
	for _, tag := range tags {
		if !tag.Video || len(tag.Body) < 5 {
			continue
		}
		b := tag.Body[5:]
		if tag.Body[1] == 0 && len(b) > 8 { // AVCDecoderConfigurationRecord: one SPS, one PPS
			spsLen := int(binary.BigEndian.Uint16(b[6:]))
			sps := b[8 : 8+spsLen]
			ppsLen := int(binary.BigEndian.Uint16(b[9+spsLen:]))
			sets = [][]byte{sps, b[11+spsLen : 11+spsLen+ppsLen]}
			continue
		}
		if sets == nil || (aus == nil && tag.Body[0]>>4 != 1) {
			continue
		}
		var nalus h264.AVCC
		if err := nalus.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		if aus == nil {
			nalus = append(sets, nalus...)
		}
		out, err := h264.AnnexB(nalus).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if aus = append(aus, out); len(aus) == n {
			return aus
		}
	}
	t.Fatal("no key frame in " + clip)
	return nil
}
