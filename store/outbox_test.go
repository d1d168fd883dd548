package store

import (
	"encoding/json"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/onair-studio/onair/engine/livestream"
)

// A file of schema 1 (the outbox keyed by sequence number alone) is moved
// to schema 2 on open: its items load in order, by webhook, and deleting a
// webhook removes its own and no other's.
func TestOutboxMovesToSchema2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "onair.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"wh_a", "wh_b"} {
		if err := s.PutWebhook(livestream.Webhook{ID: id, URL: "http://127.0.0.1:9/"}); err != nil {
			t.Fatal(err)
		}
	}
	// What schema 1 wrote: 8-byte keys, webhooks interleaved.
	err = s.db.Update(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		for i := range 6 {
			it := struct {
				livestream.OutboxItem
				Body []byte `json:"body"` // schema 1: base64
			}{livestream.OutboxItem{Seq: uint64(i + 1), WebhookID: []string{"wh_a", "wh_b"}[i%2], EventID: uint64(100 + i)}, []byte(`{"id":"x"}`)}
			v, _ := json.Marshal(it)
			if err := ob.Put(seqKey(it.Seq), v); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	items, err := s.LoadOutbox()
	if err != nil || len(items) != 6 {
		t.Fatalf("after the move: %d items, %v", len(items), err)
	}
	for i, it := range items { // wh_a's 100, 102, 104, then wh_b's 101, 103, 105
		want := []uint64{100, 102, 104, 101, 103, 105}[i]
		if it.EventID != want || string(it.Body) != `{"id":"x"}` {
			t.Fatalf("item %d: event %d, body %s; want %d, {\"id\":\"x\"}", i, it.EventID, it.Body, want)
		}
	}
	if err := s.DeleteWebhook("wh_a"); err != nil {
		t.Fatal(err)
	}
	items, _ = s.LoadOutbox()
	if len(items) != 3 || items[0].WebhookID != "wh_b" {
		t.Fatalf("after deleting wh_a: %+v", items)
	}
	if err := s.DropOutbox(items[:1]); err != nil {
		t.Fatal(err)
	}
	if items, _ = s.LoadOutbox(); len(items) != 2 || items[0].EventID != 103 {
		t.Fatalf("after dropping one: %+v", items)
	}
}
