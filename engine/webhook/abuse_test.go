package webhook_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/webhook"
	"github.com/onair-studio/onair/store"
)

// countingHandler counts log records at warning level and above.
type countingHandler struct {
	n atomic.Int64
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.n.Add(1)
	}
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

// deadReceiver accepts connections and never answers; it counts them.
func deadReceiver(t *testing.T) (url string, conns *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = &atomic.Int64{}
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			conns.Add(1)
			held = append(held, c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return "http://" + ln.Addr().String() + "/hook", conns
}

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func start(t *testing.T, d *webhook.Dispatcher) {
	t.Helper()
	if d.Encode == nil {
		d.Encode = func(ev livestream.Event) ([]byte, error) {
			return fmt.Appendf(nil, `{"id":"%d","type":%q,"pad":%q}`, ev.ID, ev.Type, strings.Repeat("x", 600)), nil
		}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
}

func create(t *testing.T, d *webhook.Dispatcher, url string) livestream.Webhook {
	t.Helper()
	h, err := d.Create(livestream.WebhookParams{URL: &url})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// emit queues and stores n events, each of its own stream when streams
// is n, else spread over streams.
func emit(d *webhook.Dispatcher, n, streams int) {
	var items []livestream.OutboxItem
	for i := range n {
		items = append(items, d.Prepare(livestream.Event{ID: uint64(i + 1), Type: livestream.EventStreamUpdated, StreamID: fmt.Sprintf("s%d", i%streams)})...)
		if i%100 == 99 || i == n-1 {
			storeItems(d, items)
			items = nil
		}
	}
}

// A receiver that never answers holds its own slots only: a healthy one
// gets every event at once.
func TestHungReceiverDelaysOnlyItself(t *testing.T) {
	dead, _ := deadReceiver(t)
	var got atomic.Int64
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	defer ok.Close()
	st := openStore(t, filepath.Join(t.TempDir(), "onair.db"))
	defer st.Close()
	d := &webhook.Dispatcher{Store: st, Timeout: 10 * time.Second}
	start(t, d)
	defer d.Close()
	create(t, d, dead)
	create(t, d, ok.URL)
	emit(d, 20, 20)
	eventually(t, "the healthy receiver has all 20 events", func() bool { return got.Load() == 20 })
}

// A dead receiver with events of 2,000 streams pending costs one attempt
// per backoff, not one per stream, and a log line per interval.
func TestDeadReceiverBacksOffPerWebhook(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var attempts atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	st := openStore(t, filepath.Join(t.TempDir(), "onair.db"))
	defer st.Close()
	logs := &countingHandler{}
	d := &webhook.Dispatcher{Store: st, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		LogEvery: 500 * time.Millisecond, Logger: slog.New(logs)}
	start(t, d)
	defer d.Close()
	create(t, d, "http://"+ln.Addr().String()+"/hook")
	emit(d, 2000, 2000)
	time.Sleep(2 * time.Second)
	// 50+100+200+200… ms: about 11 attempts in 2 s; per stream it would be thousands.
	if n := attempts.Load(); n < 3 || n > 20 {
		t.Errorf("%d attempts in 2 s to a failing webhook with 2,000 streams pending: want one per backoff (3..20)", n)
	}
	if n := logs.n.Load(); n < 1 || n > 6 {
		t.Errorf("%d warning lines in 2 s with one every 500 ms at most: want 1..6", n)
	}
}

// A dead webhook's queue stays at its cap: the oldest are dropped and
// counted, the store keeps the cap's worth, and the file stays small.
func TestQueueBounded(t *testing.T) {
	dead, _ := deadReceiver(t)
	path := filepath.Join(t.TempDir(), "onair.db")
	st := openStore(t, path)
	d := &webhook.Dispatcher{Store: st, MaxQueued: 500, Timeout: 30 * time.Second}
	start(t, d)
	h := create(t, d, dead)
	emit(d, 10000, 50)
	eventually(t, "the queue at its cap", func() bool {
		w, _, err := d.Get(h.ID)
		return err == nil && w.Queued == 500 && w.Dropped == 9500
	})
	if c := d.Counts(); c.Abandoned != 9500 {
		t.Errorf("abandoned %d, want 9500", c.Abandoned)
	}
	d.Close()
	items, err := st.LoadOutbox()
	if err != nil || len(items) > 500+50 { // at most one in flight per stream beyond the cap
		t.Fatalf("%d items stored for a queue capped at 500: %v", len(items), err)
	}
	st.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// 10,000 events of ~700 bytes would take ~8 MB (bbolt grows its file by
	// doubling: 8 MB is the next size up from 4); the cap's worth takes well
	// under 2 MB, and a busy machine, whose slower deliveries keep read
	// transactions open longer, pins freed pages for one doubling more.
	if fi.Size() > 4<<20 {
		t.Errorf("onair.db is %d bytes after 10,000 events to a capped queue", fi.Size())
	}
	// A restart keeps at most the cap.
	st = openStore(t, path)
	defer st.Close()
	d = &webhook.Dispatcher{Store: st, MaxQueued: 500, Timeout: 30 * time.Second}
	start(t, d)
	defer d.Close()
	w, _, err := d.Get(h.ID)
	if err != nil || w.Queued > 500 {
		t.Fatalf("after a restart: %d queued, %v", w.Queued, err)
	}
}

// The studio keeps at most MaxWebhooks; URLs with a password never show
// it; link-local receivers and an empty event filter are refused.
func TestWebhookLimitsAndRedaction(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "onair.db"))
	defer st.Close()
	d := &webhook.Dispatcher{Store: st}
	start(t, d)
	defer d.Close()
	for i := range webhook.MaxWebhooks {
		create(t, d, fmt.Sprintf("http://user:hunter2@127.0.0.1:9/%d", i))
	}
	u := "http://127.0.0.1:9/one-more"
	if _, err := d.Create(livestream.WebhookParams{URL: &u}); err == nil || !strings.Contains(err.Error(), fmt.Sprint(webhook.MaxWebhooks)) {
		t.Errorf("webhook %d: %v, want an error naming the cap", webhook.MaxWebhooks+1, err)
	}
	for _, w := range d.List() {
		if strings.Contains(w.URL, "hunter2") {
			t.Errorf("the list shows a URL's password: %s", w.URL)
		}
	}
	for _, bad := range []string{"http://169.254.169.254/latest/meta-data", "http://[fe80::1]:80/x"} {
		if _, err := d.Update(d.List()[0].ID, livestream.WebhookParams{URL: &bad}); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	none := []string{}
	if _, err := d.Update(d.List()[0].ID, livestream.WebhookParams{Events: &none}); err == nil {
		t.Error("an empty event filter accepted")
	}
}

// A delivery's error names the kind of failure, not what the target sent.
func TestDeliveryErrorHidesBanner(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.2p1 secret-banner\r\n"))
			c.Close()
		}
	}()
	st := openStore(t, filepath.Join(t.TempDir(), "onair.db"))
	defer st.Close()
	d := &webhook.Dispatcher{Store: st}
	start(t, d)
	defer d.Close()
	h := create(t, d, "http://"+ln.Addr().String()+"/")
	emit(d, 1, 1)
	var ds []livestream.WebhookDelivery
	eventually(t, "a failed delivery", func() bool {
		_, ds, _ = d.Get(h.ID)
		return len(ds) > 0
	})
	if strings.Contains(ds[0].Error, "OpenSSH") || strings.Contains(ds[0].Error, "banner") || ds[0].Error == "" {
		t.Errorf("delivery error %q", ds[0].Error)
	}
}
