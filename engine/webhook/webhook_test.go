package webhook_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/webhook"
	"github.com/onair-studio/onair/store"
)

func dispatcher(t *testing.T) *webhook.Dispatcher {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	d := &webhook.Dispatcher{Store: st, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Encode: func(ev livestream.Event) ([]byte, error) { return []byte(`{"type":"` + ev.Type + `"}`), nil },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(); st.Close() })
	return d
}

// storeItems stores outbox items as the engine does (in one transaction) and
// hands them to the dispatcher.
func storeItems(d *webhook.Dispatcher, items []livestream.OutboxItem) {
	if err := d.Store.(*store.Store).Commit([]livestream.Change{{Outbox: items}}); err != nil {
		panic(err)
	}
	d.Stored(items)
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A redirect is not followed: it counts as a failure and is tried again;
// once the receiver answers 2xx the event is delivered and leaves the outbox.
func TestRedirectNotFollowedThenDelivered(t *testing.T) {
	var elsewhere, tries atomic.Int32
	var answer atomic.Int32
	answer.Store(http.StatusFound)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tries.Add(1)
		if answer.Load() == http.StatusFound {
			http.Redirect(w, r, other.URL, http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer rcv.Close()
	d := dispatcher(t)
	u := rcv.URL
	h, err := d.Create(livestream.WebhookParams{URL: &u, Events: &[]string{livestream.EventStreamActive}})
	if err != nil {
		t.Fatal(err)
	}
	if items := d.Prepare(livestream.Event{ID: 1, Type: livestream.EventStreamIdle, StreamID: "a"}); items != nil {
		t.Fatalf("an event the webhook does not take has items: %v", items)
	}
	storeItems(d, d.Prepare(livestream.Event{ID: 2, Type: livestream.EventStreamActive, StreamID: "a"}))
	eventually(t, "two failed tries", func() bool { return tries.Load() >= 2 })
	answer.Store(http.StatusOK)
	eventually(t, "delivered", func() bool { return d.Counts().Delivered == 1 })
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the redirect was followed %d times", n)
	}
	_, ds, err := d.Get(h.ID)
	if err != nil || len(ds) < 3 || ds[0].Outcome != livestream.DeliveryDelivered || ds[1].Outcome != livestream.DeliveryFailed || ds[1].StatusCode != http.StatusFound {
		t.Fatalf("deliveries %+v %v", ds, err)
	}
	if c := d.Counts(); c.Enqueued != 1 {
		t.Errorf("stored %d events, want 1 (the filter)", c.Enqueued)
	}
}

// Sign and Verify agree; a changed body, another secret or an old time
// do not verify.
func TestSignature(t *testing.T) {
	now := time.Now()
	body := []byte(`{"id":"1"}`)
	sig := webhook.Sign("s3cret", now, body)
	if !webhook.Verify("s3cret", sig, body, now, time.Minute) {
		t.Fatal("a signature does not verify")
	}
	for name, ok := range map[string]bool{
		"other body":   webhook.Verify("s3cret", sig, []byte(`{"id":"2"}`), now, time.Minute),
		"other secret": webhook.Verify("other", sig, body, now, time.Minute),
		"too old":      webhook.Verify("s3cret", sig, body, now.Add(time.Hour), time.Minute),
		"garbage":      webhook.Verify("s3cret", "v1=zz", body, now, time.Minute),
	} {
		if ok {
			t.Errorf("%s verifies", name)
		}
	}
}
