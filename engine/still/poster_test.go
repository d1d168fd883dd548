package still

import (
	"errors"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// TestPostersCloseWaits: Close returns only once a poster being made in
// the background is done (its files are written into the data folder,
// which a studio that stopped must not be touching), and a recording
// ready after Close makes none.
func TestPostersCloseWaits(t *testing.T) {
	entered, release := make(chan string, 2), make(chan struct{})
	p := &Posters{Folder: t.TempDir(), File: func(id string) (string, error) {
		entered <- id
		<-release
		return "", errors.New("not on this computer")
	}}
	ready := func(id string) livestream.Event {
		return livestream.Event{Type: livestream.EventAssetReady, Asset: &livestream.Asset{PublicID: id, Status: livestream.AssetReady}}
	}
	p.OnEvent(ready("first"))
	<-entered
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a poster was being made")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return once the poster was done")
	}
	p.OnEvent(ready("second"))
	select {
	case id := <-entered:
		t.Fatalf("a poster of %q was made after Close", id)
	case <-time.After(100 * time.Millisecond):
	}
}
