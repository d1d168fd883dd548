package library

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/onair-studio/onair/engine/livestream"
)

// Clips are indexed processing before they are cut (engine/clip), and a
// clip still processing at Start is cut again: these are its calls.

// CreateClip opens the file of a clip to be cut and indexes it as
// processing (asset.processing). The public id must be free: ErrConflict
// when an asset has it.
func (l *Library) CreateClip(publicID, streamID string, c livestream.AssetClip) (*os.File, livestream.Asset, error) {
	if err := livestream.ValidatePublicID(publicID); err != nil {
		return nil, livestream.Asset{}, err
	}
	l.mu.Lock()
	if _, taken := l.assets[publicID]; taken {
		l.mu.Unlock()
		return nil, livestream.Asset{}, fmt.Errorf("%w: an asset named %s exists; choose another public_id", livestream.ErrConflict, publicID)
	}
	f, err := os.OpenFile(l.path(publicID), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		l.mu.Unlock()
		return nil, livestream.Asset{}, fmt.Errorf("%w: the library folder has a file named %s.mp4; choose another public_id", livestream.ErrConflict, publicID)
	}
	if err != nil {
		l.mu.Unlock()
		return nil, livestream.Asset{}, fmt.Errorf("creating %s: %w", l.path(publicID), err)
	}
	now := livestream.Now()
	a := livestream.Asset{PublicID: publicID, StreamID: streamID, Status: livestream.AssetProcessing, Started: now, CreatedAt: now, Clip: &c}
	err = l.indexNewLocked(&a, f, "clip")
	l.mu.Unlock()
	if err != nil {
		return nil, livestream.Asset{}, err
	}
	l.emit(livestream.EventAssetProcessing, a)
	return f, clone(a), nil
}

// Pending returns, once, the clips that a stop left unfinished: their
// files are to be cut again (ReopenClip).
func (l *Library) Pending() []livestream.Asset {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.pending
	l.pending = nil
	return p
}

// ReopenClip empties and opens the file of a clip still processing, to cut
// it again.
func (l *Library) ReopenClip(publicID string) (*os.File, error) {
	a, err := l.Get(publicID)
	if err != nil {
		return nil, err
	}
	if a.Status != livestream.AssetProcessing {
		return nil, fmt.Errorf("%w: asset %s is %s, not a clip being cut", livestream.ErrConflict, publicID, a.Status)
	}
	f, err := os.OpenFile(l.path(publicID), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the clip %s again: %w", publicID, err)
	}
	return f, nil
}
