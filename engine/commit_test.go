package engine_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/store"
)

// countingRepo stores through a real store, counts the transactions and
// the changes in each, holds the first while hold is open, and refuses
// any group with a stream named "refused".
type countingRepo struct {
	*store.Store
	mu     sync.Mutex
	groups []int
	hold   chan struct{}
}

func (r *countingRepo) Commit(changes []livestream.Change) error {
	r.mu.Lock()
	r.groups = append(r.groups, len(changes))
	hold := r.hold
	r.hold = nil
	r.mu.Unlock()
	if hold != nil {
		<-hold
	}
	for _, c := range changes {
		if c.Put != nil && c.Put.Name == "refused" {
			return errors.New("refused by the test")
		}
	}
	return r.Store.Commit(changes)
}

// recordingOutbox wants every event and records what it is handed.
type recordingOutbox struct {
	mu     sync.Mutex
	stored []livestream.OutboxItem
}

func (o *recordingOutbox) Prepare(ev livestream.Event) []livestream.OutboxItem {
	return []livestream.OutboxItem{{WebhookID: "w", EventID: ev.ID, Type: ev.Type, StreamID: ev.StreamID, Body: []byte(`{}`)}}
}

func (o *recordingOutbox) Stored(items []livestream.OutboxItem) {
	o.mu.Lock()
	o.stored = append(o.stored, items...)
	o.mu.Unlock()
}

// Changes that arrive while a transaction is being written are stored
// together in the next one; a change the store refuses fails alone, its
// stream unchanged and without an event; events reach subscribers and the
// outbox in the order of their ids, each outbox item numbered in that
// order; after a restart every stored change is there.
func TestGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "onair.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	repo := &countingRepo{Store: st}
	ob := &recordingOutbox{}
	eng := &engine.Service{Repo: repo, Outbox: ob, RTMPURL: "rtmp://x/live", HTTPURL: "http://x", Outputs: hlsOnly(), Logger: quiet()}
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	const n = 40
	var ids []string
	for range n {
		ids = append(ids, create(t, eng, 60).ID)
	}
	events, _, _ := eng.SubscribeAfter(t.Context(), 0)
	repo.mu.Lock()
	repo.groups, repo.hold = nil, make(chan struct{})
	hold := repo.hold
	repo.mu.Unlock()

	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		name := fmt.Sprint("renamed ", i)
		if i == 7 {
			name = "refused"
		}
		wg.Go(func() { _, errs[i] = eng.Update(id, livestream.UpdateParams{Name: &name}) })
		if i == 0 {
			time.Sleep(50 * time.Millisecond) // the first is being written
		}
	}
	time.Sleep(200 * time.Millisecond) // the others queue behind it
	close(hold)
	wg.Wait()

	for i, err := range errs {
		if (i == 7) != (err != nil) {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	repo.mu.Lock()
	groups := repo.groups
	repo.mu.Unlock()
	if len(groups) < 2 || groups[1] < n/2 {
		t.Fatalf("transactions of %v changes: the changes that waited were not stored together", groups)
	}
	if s, _ := eng.Get(ids[7]); s.Name == "refused" {
		t.Fatal("a refused change was applied")
	}
	var last uint64
	for range n - 1 {
		ev := <-events
		if ev.ID <= last || ev.Type != livestream.EventStreamUpdated || ev.StreamID == ids[7] {
			t.Fatalf("event %d %s of %s after %d", ev.ID, ev.Type, ev.StreamID, last)
		}
		last = ev.ID
	}
	ob.mu.Lock()
	for i := 1; i < len(ob.stored); i++ {
		a, b := ob.stored[i-1], ob.stored[i]
		if b.EventID <= a.EventID || b.Seq <= a.Seq {
			t.Fatalf("outbox item %d (event %d) after %d (event %d)", b.Seq, b.EventID, a.Seq, a.EventID)
		}
	}
	ob.mu.Unlock()

	eng.Close()
	st.Close()
	st, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	again := &engine.Service{Repo: st, RTMPURL: "rtmp://x/live", HTTPURL: "http://x", Outputs: hlsOnly(), Logger: quiet()}
	if err := again.Start(); err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	for i, id := range ids {
		s, err := again.Get(id)
		if want := fmt.Sprint("renamed ", i); err != nil || (i != 7 && s.Name != want) || (i == 7 && s.Name == "refused") {
			t.Fatalf("after a restart stream %d is %q (%v)", i, s.Name, err)
		}
	}
}
