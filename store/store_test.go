package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/onair-studio/onair/engine/livestream"
)

func sample(id string) livestream.LiveStream {
	now := time.UnixMilli(1_700_000_000_000).UTC()
	return livestream.LiveStream{
		ID: id, Name: "Show " + id[:4], Input: livestream.Input{Type: "rtmp", StreamKey: "key-" + id},
		IdleTimeoutSec: 120, MaxRuntimeSec: 10800, CreatedAt: now, UpdatedAt: now,
		Outputs: []livestream.Output{{ID: livestream.NewID(), Name: "HLS", Type: livestream.OutputHLS, CreatedAt: now, UpdatedAt: now}},
	}
}

func TestStreamsRoundTripAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "onair.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := sample(livestream.NewID()), sample(livestream.NewID())
	for _, ls := range []livestream.LiveStream{a, b} {
		if err := s.PutStream(ls); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteStream(b.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSettings(map[string]string{"cloud_name": "demo"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	list, err := s.LoadStreams()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != a.ID || list[0].Input.StreamKey != a.Input.StreamKey ||
		len(list[0].Outputs) != 1 || !list[0].CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("got %+v", list)
	}
	if v, ok, err := s.Setting("cloud_name"); err != nil || !ok || v != "demo" {
		t.Fatalf("setting: %q %v %v", v, ok, err)
	}
	if _, ok, _ := s.Setting("missing"); ok {
		t.Fatal("missing setting found")
	}
}

func TestRefusesNewerSchemaAndSecondOpener(t *testing.T) {
	path := filepath.Join(t.TempDir(), "onair.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil {
		t.Fatal("a second opener got the file")
	}
	s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte("99")) })
	s.Close()
	if _, err := Open(path); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("want ErrNewerSchema, got %v", err)
	}
}
