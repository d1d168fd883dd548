package playback_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/onair-studio/onair/api/playback"
)

// bigHLS answers every request with 64 MiB, more than the socket buffers
// hold, so a viewer that does not read blocks the write.
type bigHLS struct{}

func (bigHLS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	buf := make([]byte, 1<<20)
	for range 64 {
		if _, err := w.Write(buf); err != nil {
			return
		}
	}
}

func server(t *testing.T, hls http.Handler, timeout time.Duration) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	(&playback.Server{
		Files:   fstest.MapFS{"watch.html": {Data: []byte("<p>watch</p>")}, "preview.html": {Data: []byte("<p>preview</p>")}},
		ValidID: func(id string) bool { return len(id) == 32 },
		HLS: func(string) http.Handler {
			if hls == nil {
				return nil
			}
			return hls
		},
		HLSTimeout: timeout,
	}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// A viewer that stops reading is dropped when the HLS time limit passes.
func TestSlowHLSReaderDropped(t *testing.T) {
	srv := server(t, bigHLS{}, 500*time.Millisecond)
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id := strings.Repeat("ab", 16)
	if _, err := io.WriteString(c, "GET /hls/"+id+"/stream_seg1.mp4 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(c)
	done := make(chan int64, 1)
	start := time.Now()
	go func() {
		time.Sleep(2 * time.Second) // read nothing for 2 s, then everything that comes
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _ := io.Copy(io.Discard, rd)
		done <- n
	}()
	select {
	case n := <-done:
		if n >= 64<<20 {
			t.Fatalf("the viewer received all %d bytes after %v: it was never dropped", n, time.Since(start))
		}
	case <-time.After(15 * time.Second):
		t.Fatal("a viewer that does not read was kept")
	}
}

// HLS answers CORS preflights and carries its headers; no credentials are
// asked; an idle stream and a bad id answer 404; other methods 405.
func TestHLSIsPublic(t *testing.T) {
	srv := server(t, nil, time.Second)
	id := strings.Repeat("ab", 16)
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{http.MethodOptions, "/hls/" + id + "/index.m3u8", http.StatusNoContent},
		{http.MethodGet, "/hls/" + id + "/index.m3u8", http.StatusNotFound},
		{http.MethodGet, "/hls/nope/index.m3u8", http.StatusNotFound},
		{http.MethodPost, "/hls/" + id + "/index.m3u8", http.StatusMethodNotAllowed},
		{http.MethodGet, "/watch/" + id, http.StatusOK},
		{http.MethodGet, "/watch/short", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.code)
		}
		if strings.HasPrefix(c.path, "/hls/") && resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s %s: no CORS header", c.method, c.path)
		}
	}
}
