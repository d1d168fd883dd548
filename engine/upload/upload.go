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
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

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

// put uploads the file (minio-go adds a CRC32C to each request, which the
// service checks) and confirms the copy: the same size and the same
// CRC32C as the file here — the service's own for an object sent in one
// piece, else computed from the object read back (a multipart object's
// checksum is of its parts).
func (u *Uploader) put(ctx context.Context, set livestream.StorageSettings, key, path string) error {
	c, err := u.client(set)
	if err != nil {
		return err
	}
	sum, size, err := fileCRC(path)
	if err != nil {
		return err
	}
	u.mu.Lock()
	u.current = filepath.Base(path)
	u.mu.Unlock()
	u.sent.Store(0)
	u.total.Store(size)
	defer func() {
		u.mu.Lock()
		u.current = ""
		u.mu.Unlock()
	}()
	_, err = c.FPutObject(ctx, set.Bucket, key, path, minio.PutObjectOptions{ContentType: "video/mp4", Progress: progress{&u.sent}})
	if err != nil {
		return explain(set, err)
	}
	info, err := c.StatObject(ctx, set.Bucket, key, minio.StatObjectOptions{Checksum: true})
	if err != nil {
		return explain(set, err)
	}
	if info.Size != size {
		return fmt.Errorf("the copy in the bucket has %d bytes, the file here %d: it is uploaded again", info.Size, size)
	}
	got := info.ChecksumCRC32C
	if got == "" || strings.Contains(got, "-") { // none kept, or per part only: read it back
		if got, err = objectCRC(ctx, c, set.Bucket, key); err != nil {
			return explain(set, err)
		}
	}
	if got != sum {
		return fmt.Errorf("the copy in the bucket has CRC32C %s, the file here %s: it is uploaded again", got, sum)
	}
	return nil
}

// progress counts the bytes minio-go has sent (it reads as it sends).
type progress struct{ n *atomic.Int64 }

func (p progress) Read(b []byte) (int, error) {
	p.n.Add(int64(len(b)))
	return len(b), nil
}

// Progress tells how far the upload of a recording is: ok is false when
// it is not being uploaded now.
func (u *Uploader) Progress(publicID string) (sent, total int64, ok bool) {
	u.mu.Lock()
	cur := u.current
	u.mu.Unlock()
	if cur != publicID+".mp4" {
		return 0, 0, false
	}
	return min(u.sent.Load(), u.total.Load()), u.total.Load(), true
}

// fileCRC is a file's CRC32C (base64, as S3 writes it) and size.
func fileCRC(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("reading the recording to upload: %w", err)
	}
	defer f.Close()
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("reading the recording to upload: %w", err)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), n, nil
}

// objectCRC reads an object back and returns its CRC32C.
func objectCRC(ctx context.Context, c *minio.Client, bucket, key string) (string, error) {
	obj, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return "", err
	}
	defer func() { _ = obj.Close() }()
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	if _, err := io.Copy(h, obj); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// client is the minio-go client of these settings, made once.
func (u *Uploader) client(set livestream.StorageSettings) (*minio.Client, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if c, ok := u.clients[set]; ok {
		return c, nil
	}
	c, err := newClient(set)
	if err != nil {
		return nil, err
	}
	u.clients[set] = c
	return c, nil
}

func newClient(set livestream.StorageSettings) (*minio.Client, error) {
	e, err := url.Parse(set.Endpoint)
	if err != nil || e.Host == "" {
		return nil, fmt.Errorf("the object store's endpoint %q is not an address such as https://s3.eu-west-1.amazonaws.com", set.Endpoint)
	}
	lookup := minio.BucketLookupAuto
	if set.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(e.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(set.AccessKeyID, set.SecretAccessKey, ""),
		Secure:       e.Scheme == "https",
		Region:       set.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("setting up the object store client for %s: %w", set.Endpoint, err)
	}
	return c, nil
}

// Check tries the settings as an upload would: it writes a small object
// under the prefix and deletes it, saying in plain words what failed.
func (u *Uploader) Check(ctx context.Context, set livestream.StorageSettings) error {
	c, err := newClient(set)
	if err != nil {
		return err
	}
	key := set.Prefix + ".onair-connection-test"
	body := "OnAir Studio checks that it may write here; this object is deleted at once.\n"
	if _, err := c.PutObject(ctx, set.Bucket, key, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{ContentType: "text/plain"}); err != nil {
		return explain(set, err)
	}
	if err := c.RemoveObject(ctx, set.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("writing worked, deleting the test object %s did not: %w", key, explain(set, err))
	}
	return nil
}

// URL is a presigned download address of an asset's copy in the bucket,
// working for PresignFor.
func (u *Uploader) URL(ctx context.Context, a livestream.Asset) (string, error) {
	if a.Remote == nil || a.Remote.Status != livestream.RemoteUploaded {
		return "", fmt.Errorf("%w: asset %s has no copy in the object store", livestream.ErrNotFound, a.PublicID)
	}
	set := u.Settings()
	if set.Endpoint != a.Remote.Endpoint || set.Bucket != a.Remote.Bucket {
		return "", fmt.Errorf("%w: asset %s is in the bucket %s at %s, which the settings no longer name", livestream.ErrConflict, a.PublicID, a.Remote.Bucket, a.Remote.Endpoint)
	}
	c, err := u.client(set)
	if err != nil {
		return "", err
	}
	params := url.Values{"response-content-disposition": {`inline; filename="` + a.PublicID + `.mp4"`}}
	p, err := c.PresignedGetObject(ctx, a.Remote.Bucket, a.Remote.Key, PresignFor, params)
	if err != nil {
		return "", explain(set, err)
	}
	return p.String(), nil
}

// removeRemote deletes a deleted asset's copy, if the settings still name
// its bucket.
func (u *Uploader) removeRemote(r livestream.AssetRemote) {
	set := u.Settings()
	if set.Endpoint != r.Endpoint || set.Bucket != r.Bucket {
		return
	}
	c, err := u.client(set)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err = explain(set, c.RemoveObject(ctx, r.Bucket, r.Key, minio.RemoveObjectOptions{}))
		cancel()
	}
	if err != nil {
		u.Logger.Warn("removing a deleted recording from the object store", "bucket", r.Bucket, "key", r.Key, "error", err)
	}
}

// explain says in plain words what the object store answered, naming
// the service's error code.
func explain(set livestream.StorageSettings, err error) error {
	if err == nil {
		return nil
	}
	resp := minio.ToErrorResponse(err)
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case resp.Code == minio.NoSuchBucket:
		return fmt.Errorf("the bucket %q does not exist at %s (NoSuchBucket): create it there, or correct the name", set.Bucket, set.Endpoint)
	case resp.Code == minio.AccessDenied, resp.Code == minio.InvalidAccessKeyID, resp.Code == minio.SignatureDoesNotMatch:
		return fmt.Errorf("%s refused the access key (%s): check the key ID and its secret, and that they may write to %q", set.Endpoint, resp.Code, set.Bucket)
	case resp.Code != "":
		return fmt.Errorf("%s answered %d %s: %s", set.Endpoint, resp.StatusCode, resp.Code, resp.Message)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("the name %s does not resolve (DNS): check the service address", dnsErr.Name)
	case errors.As(err, &certErr):
		return fmt.Errorf("the certificate of %s is not trusted (TLS): %w", set.Endpoint, certErr.Err)
	case errors.As(err, &recErr):
		return fmt.Errorf("%s does not speak TLS: use http:// for it, or the service's https port", set.Endpoint)
	}
	return fmt.Errorf("cannot reach the object store at %s: %w", set.Endpoint, err)
}
