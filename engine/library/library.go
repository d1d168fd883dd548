// Package library is the asset library: the folder of recordings and
// their index. It names each new recording's file, keeps the index in the
// store, repairs at start-up what a crash left recording, indexes files
// put in the folder by hand, and serves listings, downloads and deletes.
package library

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/shareopen"
)

// Repository keeps the index. Each call is one durable transaction.
type Repository interface {
	LoadAssets() ([]livestream.Asset, error)
	PutAsset(livestream.Asset) error
	DeleteAsset(publicID string) error
}

// Library is the asset library.
type Library struct {
	//
	// parameters
	//
	// Folder holds the files. Required.
	Folder string
	// Repo keeps the index. Required.
	Repo Repository
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	//
	// callbacks
	//
	// OnEvent receives asset.recording, asset.ready and asset.deleted.
	// Optional. It is called without the library's lock.
	OnEvent func(livestream.Event)

	//
	// private
	//
	mu     sync.Mutex
	assets map[string]*livestream.Asset
	// repaired are the recordings Start finished, until announced.
	repaired []livestream.Asset
	// pending are the clips a stop left unfinished, until taken.
	pending []livestream.Asset
}

// fileTime is the form of the time in a recording's file name.
const fileTime = "20060102-150405"

// Start makes the folder, loads the index, repairs recordings a crash left
// open and indexes files that are in the folder but not in the index.
func (l *Library) Start() error {
	l.Logger = cmp.Or(l.Logger, slog.Default())
	if l.Folder == "" || l.Repo == nil {
		return errors.New("library: Folder and Repo are required")
	}
	if err := os.MkdirAll(l.Folder, 0o700); err != nil {
		return fmt.Errorf("creating the library folder %s: %w", l.Folder, err)
	}
	list, err := l.Repo.LoadAssets()
	if err != nil {
		return fmt.Errorf("loading the library index: %w", err)
	}
	l.assets = make(map[string]*livestream.Asset, len(list))
	for i := range list {
		a := list[i]
		if a.Status == livestream.AssetProcessing {
			l.pending = append(l.pending, clone(a)) // cut again from the start
		}
		if a.Status == livestream.AssetRecording {
			a = l.repair(a)
			if err := l.Repo.PutAsset(a); err != nil {
				return fmt.Errorf("indexing repaired recording %s: %w", a.PublicID, err)
			}
			l.repaired = append(l.repaired, clone(a))
		}
		l.assets[a.PublicID] = &a
	}
	return l.indexStrays()
}

// AnnounceRepaired sends, once, asset.ready for each recording that Start
// finished after a crash (its status says whether it was saved or is
// damaged): call it once OnEvent leads somewhere, since Start runs before
// the studio's events do.
func (l *Library) AnnounceRepaired() {
	l.mu.Lock()
	list := l.repaired
	l.repaired = nil
	l.mu.Unlock()
	for _, a := range list {
		l.emit(livestream.EventAssetReady, a)
	}
}

// Dir returns the folder.
func (l *Library) Dir() string { return l.Folder }

// path is the file of a valid public id.
func (l *Library) path(publicID string) string {
	return filepath.Join(l.Folder, publicID+".mp4")
}

// Create opens the file of a new recording and indexes it as recording.
// Its public id is publicID and the start time, with a number added when
// that name is taken: files are never overwritten.
func (l *Library) Create(streamID, publicID string, began time.Time) (*os.File, livestream.Asset, error) {
	base := publicID + "_" + began.Local().Format(fileTime)
	l.mu.Lock()
	var f *os.File
	var id string
	for n := 1; ; n++ {
		id = base
		if n > 1 {
			id = fmt.Sprintf("%s-%d", base, n)
		}
		if err := livestream.ValidatePublicID(id); err != nil {
			l.mu.Unlock()
			return nil, livestream.Asset{}, err
		}
		if _, taken := l.assets[id]; taken {
			continue
		}
		var err error
		f, err = os.OpenFile(l.path(id), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			l.mu.Unlock()
			return nil, livestream.Asset{}, fmt.Errorf("creating %s: %w", l.path(id), err)
		}
		break
	}
	a := livestream.Asset{PublicID: id, StreamID: streamID, Status: livestream.AssetRecording,
		Started: began.UTC().Truncate(time.Millisecond), CreatedAt: livestream.Now()}
	err := l.indexNewLocked(&a, f, "recording")
	l.mu.Unlock()
	if err != nil {
		return nil, livestream.Asset{}, err
	}
	l.emit(livestream.EventAssetRecording, a)
	return f, a, nil
}

// indexNewLocked stores a, whose file f was just made, and lists it; when
// it cannot be stored the file is closed and removed. l.mu is held.
func (l *Library) indexNewLocked(a *livestream.Asset, f *os.File, what string) error {
	if err := l.Repo.PutAsset(*a); err != nil {
		f.Close()
		os.Remove(l.path(a.PublicID))
		return fmt.Errorf("indexing %s %s: %w", what, a.PublicID, err)
	}
	l.assets[a.PublicID] = a
	return nil
}

// Progress updates a recording's figures in memory (the index gets them
// when it finishes).
func (l *Library) Progress(a livestream.Asset) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.assets[a.PublicID]; ok && cur.Status == livestream.AssetRecording {
		cur.Duration, cur.Bytes, cur.Codecs, cur.Width, cur.Height = a.Duration, a.Bytes, a.Codecs, a.Width, a.Height
	}
}

// Finish indexes a recording that ended.
func (l *Library) Finish(a livestream.Asset) error {
	if a.Ended.IsZero() {
		a.Ended = time.Now()
	}
	a.Ended = a.Ended.UTC()
	l.mu.Lock()
	if _, ok := l.assets[a.PublicID]; !ok {
		l.mu.Unlock()
		return fmt.Errorf("recording %s: %w", a.PublicID, livestream.ErrNotFound)
	}
	err := l.Repo.PutAsset(a)
	if err == nil {
		l.assets[a.PublicID] = &a
	}
	l.mu.Unlock()
	if err != nil {
		return fmt.Errorf("indexing recording %s: %w", a.PublicID, err)
	}
	l.emit(livestream.EventAssetReady, a)
	return nil
}

// Discard removes a recording that holds no media.
func (l *Library) Discard(a livestream.Asset) error {
	return l.remove(a.PublicID, true)
}

// Delete removes an asset and its file. A recording in progress cannot be
// deleted.
func (l *Library) Delete(publicID string) error {
	return l.remove(publicID, false)
}

func (l *Library) remove(publicID string, recording bool) error {
	if err := livestream.ValidatePublicID(publicID); err != nil {
		return err
	}
	l.mu.Lock()
	a, ok := l.assets[publicID]
	if !ok {
		l.mu.Unlock()
		return fmt.Errorf("asset %q: %w", publicID, livestream.ErrNotFound)
	}
	if a.Status == livestream.AssetRecording && !recording {
		l.mu.Unlock()
		return fmt.Errorf("%w: asset %s is still recording; switch the stream's recording off or idle the stream first", livestream.ErrConflict, publicID)
	}
	if a.Status == livestream.AssetProcessing {
		l.mu.Unlock()
		return fmt.Errorf("%w: clip %s is being cut; delete it once it is ready", livestream.ErrConflict, publicID)
	}
	if err := os.Remove(l.path(publicID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.mu.Unlock()
		return fmt.Errorf("deleting the file of asset %s: %w", publicID, err)
	}
	if err := l.Repo.DeleteAsset(publicID); err != nil {
		l.mu.Unlock()
		return fmt.Errorf("deleting asset %s from the index: %w", publicID, err)
	}
	delete(l.assets, publicID)
	gone := *a
	l.mu.Unlock()
	l.emit(livestream.EventAssetDeleted, gone)
	return nil
}

// Get returns one asset.
func (l *Library) Get(publicID string) (livestream.Asset, error) {
	if err := livestream.ValidatePublicID(publicID); err != nil {
		return livestream.Asset{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.assets[publicID]
	if !ok {
		return livestream.Asset{}, fmt.Errorf("asset %q: %w", publicID, livestream.ErrNotFound)
	}
	return clone(*a), nil
}

// ErrOnlyRemote means the asset's file is no longer on this computer, only in
// the object store (Asset.Remote).
var ErrOnlyRemote = errors.New("the recording's file is in the object store only")

// Open opens an asset's file for reading.
func (l *Library) Open(publicID string) (*os.File, livestream.Asset, error) {
	a, err := l.Get(publicID)
	if err != nil {
		return nil, a, err
	}
	if a.LocalGone {
		return nil, a, fmt.Errorf("asset %s: %w", publicID, ErrOnlyRemote)
	}
	f, err := shareopen.Open(l.path(publicID))
	if err != nil {
		return nil, a, fmt.Errorf("opening the file of asset %s: %w", publicID, err)
	}
	return f, a, nil
}

// Path returns the file of an asset.
func (l *Library) Path(publicID string) (string, error) {
	a, err := l.Get(publicID)
	if err != nil {
		return "", err
	}
	if a.LocalGone {
		return "", fmt.Errorf("asset %s: %w", publicID, ErrOnlyRemote)
	}
	return l.path(publicID), nil
}

// SetRemote records the state of an asset's copy in the object store and
// announces it (asset.updated).
func (l *Library) SetRemote(publicID string, r livestream.AssetRemote) error {
	return l.update(publicID, func(a *livestream.Asset) error {
		a.Remote = &r
		return nil
	})
}

// DropLocal deletes the file of an asset whose copy is in the object
// store; the asset stays, its downloads come from there.
func (l *Library) DropLocal(publicID string) error {
	return l.update(publicID, func(a *livestream.Asset) error {
		if a.Remote == nil || a.Remote.Status != livestream.RemoteUploaded {
			return fmt.Errorf("%w: asset %s has no copy in the object store yet", livestream.ErrConflict, publicID)
		}
		if err := os.Remove(l.path(publicID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("deleting the local file of asset %s: %w", publicID, err)
		}
		a.LocalGone = true
		return nil
	})
}

// update changes a finished asset with change, stores it and announces it.
func (l *Library) update(publicID string, change func(*livestream.Asset) error) error {
	l.mu.Lock()
	cur, ok := l.assets[publicID]
	if !ok || cur.Status == livestream.AssetRecording {
		l.mu.Unlock()
		return fmt.Errorf("finished asset %q: %w", publicID, livestream.ErrNotFound)
	}
	next := clone(*cur)
	if err := change(&next); err != nil {
		l.mu.Unlock()
		return err
	}
	if err := l.Repo.PutAsset(next); err != nil {
		l.mu.Unlock()
		return fmt.Errorf("indexing asset %s: %w", publicID, err)
	}
	l.assets[publicID] = &next
	l.mu.Unlock()
	l.emit(livestream.EventAssetUpdated, next)
	return nil
}

// List returns at most limit assets after the position (nil: from the
// first), newest first, of one stream when streamID is set; how many
// match in all; and whether more follow.
func (l *Library) List(after *livestream.AssetPosition, limit int, streamID string) (items []livestream.Asset, total int, more bool) {
	l.mu.Lock()
	all := make([]livestream.Asset, 0, len(l.assets))
	for _, a := range l.assets {
		if streamID == "" || a.StreamID == streamID {
			all = append(all, clone(*a))
		}
	}
	l.mu.Unlock()
	slices.SortFunc(all, compare)
	start := 0
	if after != nil {
		pos := livestream.Asset{Started: after.Started, PublicID: after.PublicID}
		start, _ = slices.BinarySearchFunc(all, pos, compare)
		if start < len(all) && all[start].PublicID == after.PublicID {
			start++
		}
	}
	end := min(start+limit, len(all))
	if start > end {
		start = end
	}
	return all[start:end], len(all), end < len(all)
}

// compare orders assets newest first, then by public id.
func compare(a, b livestream.Asset) int {
	if c := b.Started.Compare(a.Started); c != 0 {
		return c
	}
	return strings.Compare(a.PublicID, b.PublicID)
}

func clone(a livestream.Asset) livestream.Asset {
	a.Codecs = slices.Clone(a.Codecs)
	if a.Remote != nil {
		r := *a.Remote
		a.Remote = &r
	}
	if a.Clip != nil {
		c := *a.Clip
		a.Clip = &c
	}
	return a
}

func (l *Library) emit(typ string, a livestream.Asset) {
	if l.OnEvent != nil {
		c := clone(a)
		l.OnEvent(livestream.Event{Type: typ, StreamID: a.StreamID, AssetID: a.PublicID, Status: string(a.Status), Asset: &c})
	}
}
