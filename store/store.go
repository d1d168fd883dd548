// Package store keeps the studio's state in one bbolt file: live streams
// (with their outputs), the asset library's index, settings, webhooks with
// their outbox and latest deliveries, one transaction per change, with the
// schema version recorded.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/onair-studio/onair/engine/livestream"
)

// SchemaVersion is the layout this code reads and writes.
//
//	1: the first layout
//	2: webhook outbox items keyed by webhook id, then sequence number
const SchemaVersion = 2

var (
	bucketMeta     = []byte("meta")
	bucketStreams  = []byte("live_streams")
	bucketSettings = []byte("settings")
	bucketAssets   = []byte("assets")
	bucketHooks    = []byte("webhooks")
	bucketOutbox   = []byte("webhook_outbox")
	bucketDeliver  = []byte("webhook_deliveries")
	keySchema      = []byte("schema_version")
)

// ErrNewerSchema means the file was written by a newer version of the studio.
var ErrNewerSchema = errors.New("store was written by a newer version of OnAir Studio")

// Store is the bbolt-backed repository.
type Store struct {
	db *bolt.DB
}

// Open opens (creating if needed) the store file at path.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("opening store %s: another OnAir Studio is using it", path)
		}
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketStreams, bucketSettings, bucketAssets, bucketHooks, bucketOutbox, bucketDeliver} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keySchema); v != nil {
			var n int
			if err := json.Unmarshal(v, &n); err != nil {
				return fmt.Errorf("reading schema version: %w", err)
			}
			if n > SchemaVersion {
				return fmt.Errorf("%w (schema %d, this version reads %d)", ErrNewerSchema, n, SchemaVersion)
			}
			if n < 2 {
				if err := rekeyOutbox(tx); err != nil {
					return fmt.Errorf("moving the webhook outbox to schema 2: %w", err)
				}
			}
		}
		return meta.Put(keySchema, []byte(fmt.Sprint(SchemaVersion)))
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("preparing store %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// LoadStreams returns every stored live stream.
func (s *Store) LoadStreams() ([]livestream.LiveStream, error) {
	return loadAll[livestream.LiveStream](s.db, bucketStreams, "live stream")
}

// PutStream writes one live stream with its outputs.
func (s *Store) PutStream(ls livestream.LiveStream) error {
	return s.Commit([]livestream.Change{{Put: &ls}})
}

// DeleteStream removes one live stream.
func (s *Store) DeleteStream(id string) error {
	return s.Commit([]livestream.Change{{Delete: id}})
}

// Commit stores a group of changes in one transaction (one fsync), in
// order: streams written or removed, outbox items numbered and added.
// Either all of them are durable when it returns nil, or none is.
func (s *Store) Commit(changes []livestream.Change) error {
	vals := make([][]byte, len(changes))
	for i, c := range changes {
		if c.Put == nil {
			continue
		}
		v, err := json.Marshal(c.Put)
		if err != nil {
			return fmt.Errorf("encoding live stream %s: %w", c.Put.ID, err)
		}
		vals[i] = v
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		streams := tx.Bucket(bucketStreams)
		for i, c := range changes {
			switch {
			case c.Put != nil:
				if err := streams.Put([]byte(c.Put.ID), vals[i]); err != nil {
					return err
				}
			case c.Delete != "":
				if err := streams.Delete([]byte(c.Delete)); err != nil {
					return err
				}
			}
			if err := enqueue(tx, c.Outbox); err != nil {
				return err
			}
		}
		return nil
	})
}

// Setting reads a setting; ok is false when it was never set.
func (s *Store) Setting(key string) (value string, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketSettings).Get([]byte(key)); v != nil {
			value, ok = string(v), true
		}
		return nil
	})
	return value, ok, err
}

// SetSettings writes several settings in one transaction.
func (s *Store) SetSettings(kv map[string]string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		for k, v := range kv {
			if err := b.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
}

// LoadAssets returns every indexed asset.
func (s *Store) LoadAssets() ([]livestream.Asset, error) {
	return loadAll[livestream.Asset](s.db, bucketAssets, "asset")
}

// PutAsset writes one asset.
func (s *Store) PutAsset(a livestream.Asset) error {
	v, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encoding asset %s: %w", a.PublicID, err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAssets).Put([]byte(a.PublicID), v)
	})
}

// DeleteAsset removes one asset from the index.
func (s *Store) DeleteAsset(publicID string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAssets).Delete([]byte(publicID))
	})
}

// loadAll decodes every value of a bucket, in key order; what names the
// values in errors.
func loadAll[T any](db *bolt.DB, bucket []byte, what string) ([]T, error) {
	var out []T
	err := db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			var x T
			if err := json.Unmarshal(v, &x); err != nil {
				return fmt.Errorf("decoding %s %q: %w", what, k, err)
			}
			out = append(out, x)
			return nil
		})
	})
	return out, err
}
