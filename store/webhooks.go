package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/onair-studio/onair/engine/livestream"
)

// deliveriesKept is how many of a webhook's latest deliveries are kept.
const deliveriesKept = 50

// LoadWebhooks returns every webhook.
func (s *Store) LoadWebhooks() ([]livestream.Webhook, error) {
	return loadAll[livestream.Webhook](s.db, bucketHooks, "webhook")
}

// PutWebhook writes one webhook.
func (s *Store) PutWebhook(w livestream.Webhook) error {
	v, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("encoding webhook %s: %w", w.ID, err)
	}
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketHooks).Put([]byte(w.ID), v) })
}

// DeleteWebhook removes a webhook with what waits for it and its
// deliveries; it reads only that webhook's part of the outbox.
func (s *Store) DeleteWebhook(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketHooks).Delete([]byte(id)); err != nil {
			return err
		}
		prefix := outboxPrefix(id)
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketDeliver).DeleteBucket([]byte(id)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return err
		}
		return nil
	})
}

// DropOutbox removes items from the outbox without a delivery record (a
// webhook's queue was full), in one transaction.
func (s *Store) DropOutbox(items []livestream.OutboxItem) error {
	if len(items) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		for _, it := range items {
			if err := ob.Delete(outboxKey(it.WebhookID, it.Seq)); err != nil {
				return err
			}
		}
		return nil
	})
}

// enqueue numbers items in order and writes them to the outbox.
func enqueue(tx *bolt.Tx, items []livestream.OutboxItem) error {
	b := tx.Bucket(bucketOutbox)
	for i := range items {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		items[i].Seq = seq
		v, err := json.Marshal(items[i])
		if err != nil {
			return fmt.Errorf("encoding an outbox item: %w", err)
		}
		if err := b.Put(outboxKey(items[i].WebhookID, seq), v); err != nil {
			return err
		}
	}
	return nil
}

// outboxKey orders the outbox by webhook, then by the order of the events.
func outboxKey(webhookID string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(outboxPrefix(webhookID), seq)
}

func outboxPrefix(webhookID string) []byte {
	return append([]byte(webhookID), 0)
}

// rekeyOutbox moves items stored by sequence number alone (schema 1)
// under their webhook's keys.
func rekeyOutbox(tx *bolt.Tx) error {
	ob := tx.Bucket(bucketOutbox)
	var old []livestream.OutboxItem
	var keys [][]byte
	err := ob.ForEach(func(k, v []byte) error {
		// Schema 1 kept the body as base64.
		var it struct {
			livestream.OutboxItem
			Body []byte `json:"body"`
		}
		if len(k) != 8 {
			return nil
		}
		if err := json.Unmarshal(v, &it); err != nil {
			return fmt.Errorf("decoding outbox item %x: %w", k, err)
		}
		it.OutboxItem.Body = it.Body
		old, keys = append(old, it.OutboxItem), append(keys, bytes.Clone(k))
		return nil
	})
	if err != nil {
		return err
	}
	for i, it := range old {
		v, err := json.Marshal(it)
		if err != nil {
			return err
		}
		if err := ob.Delete(keys[i]); err != nil {
			return err
		}
		if err := ob.Put(outboxKey(it.WebhookID, it.Seq), v); err != nil {
			return err
		}
	}
	return nil
}

// LoadOutbox returns what waits for delivery: by webhook, each one's
// oldest first.
func (s *Store) LoadOutbox() ([]livestream.OutboxItem, error) {
	return loadAll[livestream.OutboxItem](s.db, bucketOutbox, "outbox item")
}

// Delivered records an attempt; a delivered or abandoned item leaves the
// outbox, a failed one is written back with its next try.
func (s *Store) Delivered(it livestream.OutboxItem, d livestream.WebhookDelivery) error {
	v, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encoding a delivery: %w", err)
	}
	iv, err := json.Marshal(it)
	if err != nil {
		return fmt.Errorf("encoding an outbox item: %w", err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		if d.Outcome == livestream.DeliveryFailed {
			key := outboxKey(it.WebhookID, it.Seq)
			if ob.Get(key) == nil {
				return nil // its webhook was deleted meanwhile
			}
			if err := ob.Put(key, iv); err != nil {
				return err
			}
		} else if err := ob.Delete(outboxKey(it.WebhookID, it.Seq)); err != nil {
			return err
		}
		if tx.Bucket(bucketHooks).Get([]byte(d.WebhookID)) == nil {
			return nil
		}
		db, err := tx.Bucket(bucketDeliver).CreateBucketIfNotExists([]byte(d.WebhookID))
		if err != nil {
			return err
		}
		n, err := db.NextSequence()
		if err != nil {
			return err
		}
		if err := db.Put(seqKey(n), v); err != nil {
			return err
		}
		if n > deliveriesKept {
			return db.Delete(seqKey(n - deliveriesKept))
		}
		return nil
	})
}

// Deliveries returns a webhook's latest deliveries, newest first.
func (s *Store) Deliveries(id string, limit int) ([]livestream.WebhookDelivery, error) {
	var out []livestream.WebhookDelivery
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDeliver).Bucket([]byte(id))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var d livestream.WebhookDelivery
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("decoding a delivery: %w", err)
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

func seqKey(n uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], n)
	return k[:]
}
