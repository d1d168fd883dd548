package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// stalledWriter is an SSE client that stops reading: once armed, every
// write waits until it is released.
type stalledWriter struct {
	header  http.Header
	mu      sync.Mutex
	buf     bytes.Buffer
	flushed chan struct{} // closed at the first flush (the stream is open)
	once    sync.Once
	release chan struct{}
}

func (w *stalledWriter) Header() http.Header { return w.header }
func (w *stalledWriter) WriteHeader(int)     {}
func (w *stalledWriter) Write(p []byte) (int, error) {
	select {
	case <-w.flushed:
		<-w.release // armed: the client reads nothing until released
	default:
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}
func (w *stalledWriter) Flush() { w.once.Do(func() { close(w.flushed) }) }

// A client that stops reading while 4,000 events happen is told it fell
// behind (history_gap, then its stream ends) rather than losing events
// with the stream open; resuming from the last id it had, it gets every
// event after it or a history_gap.
func TestEventsLaggingClientIsTold(t *testing.T) {
	f := newFixture(t)
	st, err := f.eng.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}})
	if err != nil {
		t.Fatal(err)
	}
	w := &stalledWriter{header: http.Header{}, flushed: make(chan struct{}), release: make(chan struct{})}
	req := httptest.NewRequest(http.MethodGet, f.base+"/events", nil)
	req.SetBasicAuth(key, secret)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req = req.WithContext(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.srv.Config.Handler.ServeHTTP(w, req)
	}()
	select {
	case <-w.flushed:
	case <-done:
		t.Fatalf("the event stream did not open: %s", w.buf.String())
	}
	for i := range 4000 {
		if _, err := f.eng.Update(st.ID, livestream.UpdateParams{Name: new(fmt.Sprint("n", i))}); err != nil {
			t.Fatal(err)
		}
	}
	close(w.release)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cancel()
		<-done
		t.Fatal("the lagging client's stream stayed open")
	}
	w.mu.Lock()
	out := w.buf.String()
	w.mu.Unlock()
	var last uint64
	gap := false
	for block := range strings.SplitSeq(out, "\n\n") {
		for line := range strings.SplitSeq(block, "\n") {
			if id, ok := strings.CutPrefix(line, "id: "); ok {
				n, _ := strconv.ParseUint(id, 10, 64)
				if last != 0 && n != last+1 {
					t.Fatalf("event %d after %d: events skipped without a history_gap", n, last)
				}
				last = n
			}
			if line == "event: history_gap" {
				gap = true
			}
		}
	}
	if !gap || last == 0 || !strings.HasSuffix(strings.TrimSpace(out), "}") {
		t.Fatalf("the lagging client was not told it fell behind (gap %v, last id %d)", gap, last)
	}
	if !strings.Contains(out[strings.LastIndex(out, "event: "):], "history_gap") {
		t.Fatal("history_gap is not the stream's last event")
	}

	// Resuming from the last id it had: every event after it, or a gap.
	rctx, rcancel := context.WithCancel(context.Background())
	defer rcancel()
	got := make(chan sseEvent, 5000)
	readEvents(rctx, t, f, strconv.FormatUint(last, 10), got)
	n := 0
	for {
		select {
		case ev := <-got:
			if ev.Type == "history_gap" {
				t.Logf("resumed: %d events, then a gap", n)
				return
			}
			id, _ := strconv.ParseUint(ev.ID, 10, 64)
			if id != last+1 {
				t.Fatalf("resumed: event %d after %d", id, last)
			}
			last = id
			n++
		case <-time.After(time.Second):
			if n == 0 {
				t.Fatal("resuming gave neither the missed events nor a history_gap")
			}
			t.Logf("resumed: %d events, none missing", n)
			return
		}
	}
}

// A huge Last-Event-ID is refused without being echoed back whole.
func TestEventsLongLastEventID(t *testing.T) {
	f := newFixture(t)
	req := httptest.NewRequest(http.MethodGet, f.base+"/events", nil)
	req.SetBasicAuth(key, secret)
	req.Header.Set("Last-Event-ID", strings.Repeat("9x", 450_000))
	rec := httptest.NewRecorder()
	f.srv.Config.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || rec.Body.Len() > 1000 {
		t.Fatalf("a 900 KB Last-Event-ID: %d, %d bytes answered", rec.Code, rec.Body.Len())
	}
}
