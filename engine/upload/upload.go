// Package upload copies finished recordings to S3-compatible object
// storage (with minio-go): one at a time, in the order they finished,
// tried again with backoff until the copy is there; then, unless the
// settings keep it, the local file goes and downloads come from the
// bucket through presigned addresses. Each recording's state is in its
// asset (livestream.AssetRemote), so uploads resume after a restart.
package upload

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/onair-studio/onair/engine/livestream"
)

// Library is what the uploader needs of the asset library.
type Library interface {
	List(after *livestream.AssetPosition, limit int, streamID string) (items []livestream.Asset, total int, more bool)
	Get(publicID string) (livestream.Asset, error)
	Path(publicID string) (string, error)
	SetRemote(publicID string, r livestream.AssetRemote) error
	DropLocal(publicID string) error
}

// Defaults of an Uploader.
const (
	DefaultMinBackoff = 2 * time.Second
	DefaultMaxBackoff = 5 * time.Minute
	// PresignFor is how long a download address from the bucket works.
	PresignFor = time.Hour
)

// Uploader is the recordings' uploader.
type Uploader struct {
	// Library is required.
	Library Library
	// Settings returns the object store's settings as they are now; the
	// uploader is idle while they are off. Required.
	Settings func() livestream.StorageSettings
	// MinBackoff and MaxBackoff pace the tries after a failure.
	MinBackoff, MaxBackoff time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	mu    sync.Mutex
	queue []string // public ids, in the order they finished
	// current is the recording being uploaded ("": none), sent its bytes
	// sent so far of total.
	current     string
	sent, total atomic.Int64
	clients     map[livestream.StorageSettings]*minio.Client
	wake        chan struct{}
	cancel      context.CancelFunc
	done        chan struct{}
}

// Start queues every finished recording without a copy in the bucket and
// starts the worker.
func (u *Uploader) Start() error {
	if u.Library == nil || u.Settings == nil {
		return errors.New("upload: Library and Settings are required")
	}
	u.Logger = cmp.Or(u.Logger, slog.Default())
	u.MinBackoff = cmp.Or(u.MinBackoff, DefaultMinBackoff)
	u.MaxBackoff = cmp.Or(u.MaxBackoff, DefaultMaxBackoff)
	u.clients = map[livestream.StorageSettings]*minio.Client{}
	u.wake = make(chan struct{}, 1)
	u.done = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	u.cancel = cancel
	u.Rescan()
	go u.run(ctx)
	return nil
}

// Close stops the worker; an upload under way is abandoned (it is tried
// again at the next start).
func (u *Uploader) Close() {
	if u.cancel != nil {
		u.cancel()
		<-u.done
	}
}

// Rescan queues, oldest first, every finished recording that has no copy
// in the bucket, and wakes the worker: at start, and when the settings
// change.
func (u *Uploader) Rescan() {
	items, _, _ := u.Library.List(nil, 1<<30, "")
	slices.Reverse(items) // oldest first
	for _, a := range items {
		if needsUpload(a) {
			u.add(a.PublicID)
		}
	}
	u.poke()
}

func (u *Uploader) poke() {
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// OnEvent follows the library: a finished recording is queued, a deleted
// one's copy is removed from the bucket.
func (u *Uploader) OnEvent(ev livestream.Event) {
	switch {
	case ev.Asset == nil:
	case ev.Type == livestream.EventAssetReady && needsUpload(*ev.Asset):
		u.add(ev.Asset.PublicID)
	case ev.Type == livestream.EventAssetDeleted && ev.Asset.Remote != nil && ev.Asset.Remote.Status == livestream.RemoteUploaded:
		go u.removeRemote(*ev.Asset.Remote)
	}
}

func needsUpload(a livestream.Asset) bool {
	return a.Status == livestream.AssetReady && !a.LocalGone && (a.Remote == nil || a.Remote.Status != livestream.RemoteUploaded)
}

func (u *Uploader) add(publicID string) {
	u.mu.Lock()
	if !slices.Contains(u.queue, publicID) {
		u.queue = append(u.queue, publicID)
	}
	u.mu.Unlock()
	u.poke()
}

// run uploads the queue while the settings are on; after a failure it
// waits, doubling the wait up to MaxBackoff, and tries the same recording
// again (the store being down fails every recording alike).
func (u *Uploader) run(ctx context.Context) {
	defer close(u.done)
	backoff := u.MinBackoff
	for {
		id, ok := u.next()
		set := u.Settings()
		if !ok || !set.On() {
			select { // until a recording finishes or the settings change (Rescan)
			case <-ctx.Done():
				return
			case <-u.wake:
			}
			continue
		}
		if err := u.upload(ctx, set, id); err != nil {
			if ctx.Err() != nil {
				return
			}
			u.Logger.Warn("copying a recording to the object store; trying again", "asset", id, "in", backoff, "error", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, u.MaxBackoff)
			continue
		}
		backoff = u.MinBackoff
		u.pop(id)
	}
}

func (u *Uploader) next() (string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.queue) == 0 {
		return "", false
	}
	return u.queue[0], true
}

func (u *Uploader) pop(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.queue) > 0 && u.queue[0] == id {
		u.queue = u.queue[1:]
	}
}

// upload copies one recording; a recording that is gone or no longer
// needs it is done.
func (u *Uploader) upload(ctx context.Context, set livestream.StorageSettings, id string) error {
	a, err := u.Library.Get(id)
	if err != nil || !needsUpload(a) {
		return nil //nolint:nilerr // deleted meanwhile: nothing to do
	}
	path, err := u.Library.Path(id)
	if err != nil {
		return nil //nolint:nilerr // its file went meanwhile
	}
	r := livestream.AssetRemote{Status: livestream.RemoteUploading, Bucket: set.Bucket, Key: set.Prefix + id + ".mp4", Endpoint: set.Endpoint}
	if a.Remote != nil {
		r.Attempts = a.Remote.Attempts
	}
	r.Attempts++
	if err := u.Library.SetRemote(id, r); err != nil {
		return err
	}
	err = u.put(ctx, set, r.Key, path)
	if err != nil {
		r.Status, r.Error = livestream.RemoteFailed, err.Error()
		if ctx.Err() == nil {
			_ = u.Library.SetRemote(id, r) // the error shows on the asset
		}
		if errors.As(err, new(localError)) {
			// The file here cannot be read: the asset says why, and it is
			// tried again at the next start or change of the settings.
			u.Logger.Warn("a recording cannot be read to copy it; the next ones go on", "asset", id, "error", err)
			return nil
		}
		return err
	}
	r.Status, r.Error, r.UploadedAt = livestream.RemoteUploaded, "", time.Now().UTC()
	if err := u.Library.SetRemote(id, r); err != nil {
		return err
	}
	u.Logger.Info("recording copied to the object store", "asset", id, "bucket", r.Bucket, "key", r.Key)
	if set.DeleteLocal {
		if err := u.Library.DropLocal(id); err != nil {
			u.Logger.Warn("removing the local file of a recording now in the object store", "asset", id, "error", err)
		}
	}
	return nil
}
