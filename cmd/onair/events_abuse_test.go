package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// sseClient reads a Server-Sent Events stream over a raw connection with
// a small receive buffer, so that not reading makes it fall behind.
type sseClient struct {
	conn net.Conn
	rd   *bufio.Reader
}

func openSSE(t *testing.T, p *proc, lastID string) *sseClient {
	t.Helper()
	c, err := net.Dial("tcp", p.httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).SetReadBuffer(64 << 10)
	req, _ := http.NewRequest(http.MethodGet, p.base()+"/events", nil)
	req.SetBasicAuth(testKey, testSecret)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	if err := req.Write(c); err != nil {
		t.Fatal(err)
	}
	s := &sseClient{conn: c, rd: bufio.NewReaderSize(c, 4096)}
	resp, err := http.ReadResponse(s.rd, req) //nolint:bodyclose // the body is the stream, read until the test closes the connection
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("opening the event stream: %v %v", err, resp)
	}
	s.rd = bufio.NewReader(resp.Body)
	return s
}

// next returns the next event's id and type ("" id for history_gap);
// ok is false when the stream ended or nothing came within d.
func (s *sseClient) next(d time.Duration) (id uint64, typ string, ok bool) {
	_ = s.conn.SetReadDeadline(time.Now().Add(d))
	for {
		line, err := s.rd.ReadString('\n')
		if err != nil {
			return 0, "", false
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "id: "):
			id, _ = strconv.ParseUint(line[4:], 10, 64)
		case strings.HasPrefix(line, "event: "):
			typ = line[7:]
		case line == "" && typ != "":
			return id, typ, true
		}
	}
}

// patchMany makes n changes (one event each) with a few writers.
func patchMany(t *testing.T, p *proc, id string, n int) {
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if code, msg := p.call("PATCH", "/live_streams/"+id, map[string]any{"name": fmt.Sprint("n", i)}, nil); code != 200 {
					t.Errorf("PATCH: %d %s", code, msg)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestSSEResumeAfterRestartIsAGap: after kill -9 and a restart, resuming
// from an id of before (the events after it were lost with the process)
// gets a history_gap, not a silent stream.
func TestSSEResumeAfterRestartIsAGap(t *testing.T) {
	data := t.TempDir()
	p := startServe(t, data, "", "")
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}})
	c := openSSE(t, p, "")
	defer c.conn.Close()
	patchMany(t, p, st.ID, 20)
	var last uint64
	for range 20 {
		id, typ, ok := c.next(5 * time.Second)
		if !ok || typ != "live_stream.updated" {
			t.Fatalf("event: %q %v", typ, ok)
		}
		last = id
	}
	p.kill9()
	p = startServe(t, data, p.httpAddr, p.rtmpAddr)
	a := openSSE(t, p, strconv.FormatUint(last-5, 10))
	defer a.conn.Close()
	if _, typ, ok := a.next(3 * time.Second); !ok || typ != "history_gap" {
		t.Fatalf("resuming after a restart from an old id: %q %v, want history_gap", typ, ok)
	}
	// The studio still answers and the feed goes on.
	patchMany(t, p, st.ID, 1)
	if id, typ, ok := a.next(5 * time.Second); !ok || typ != "live_stream.updated" || id <= last {
		t.Fatalf("after the gap: %d %q %v", id, typ, ok)
	}
}
