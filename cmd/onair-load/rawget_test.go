package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// The lean client reads what net/http's server sends: bodies whole and in
// order over one connection, a closing answer and a failed status.
func TestRawClientReadsAnswers(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 7000) // beyond net/http's buffers
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			w.Write(big)
		case "/small":
			w.Write([]byte("#EXTM3U\n" + r.URL.RawQuery))
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("bye"))
		default:
			http.NotFound(w, r)
		}
	}))
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := newRawClient(srv.URL + "/small")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	deadline := time.Now().Add(10 * time.Second)
	for i := range 3 {
		n, b, err := c.get("/small?"+strconv.Itoa(i), true, deadline)
		if want := "#EXTM3U\n" + strconv.Itoa(i); err != nil || n != len(want) || string(b) != want {
			t.Fatalf("small answer %d: %d %q %v; want %q", i, n, b, err, want)
		}
		n, b, err = c.get("/big", true, deadline)
		if err != nil || n != len(big) || !bytes.Equal(b, big) {
			t.Fatalf("big answer %d: %d bytes, %v", i, n, err)
		}
		if n, _, err := c.get("/big", false, deadline); err != nil || n != len(big) {
			t.Fatalf("big answer discarded %d: %d bytes, %v", i, n, err)
		}
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("%d connections for 9 requests; want 1 (keep-alive)", got)
	}
	if _, _, err := c.get("/missing", false, deadline); err == nil {
		t.Error("a 404 answer was not an error")
	}
	if n, b, err := c.get("/close", true, deadline); err != nil || string(b) != "bye" || n != 3 {
		t.Fatalf("closing answer: %d %q %v", n, b, err)
	}
	if _, _, err := c.get("/small", true, deadline); err != nil {
		t.Fatalf("after a closing answer: %v", err)
	}
	if got := conns.Load(); got < 3 {
		t.Errorf("%d connections; want new ones after the 404 and after the closing answer", got)
	}
	if _, err := newRawClient("https://example.invalid/x"); err == nil {
		t.Error("an https URL was accepted")
	}
}
