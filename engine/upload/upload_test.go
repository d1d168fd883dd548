package upload_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"go.uber.org/goleak"

	"github.com/onair-studio/onair/engine/library"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/upload"
	"github.com/onair-studio/onair/engine/upload/s3test"
	"github.com/onair-studio/onair/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fixture is a real library on a real store, an uploader and a VersityGW.
type fixture struct {
	t   *testing.T
	lib *library.Library
	s3  *s3test.Server
	up  *upload.Uploader

	mu  sync.Mutex
	set livestream.StorageSettings
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, s3: s3test.Start(t)}
	f.s3.MakeBucket("recordings")
	f.set = f.s3.Settings("recordings")
	f.set.Prefix = "shows/"
	f.set.DeleteLocal = true
	f.lib = &library.Library{Folder: filepath.Join(t.TempDir(), "library"), Repo: st, Logger: quiet()}
	if err := f.lib.Start(); err != nil {
		t.Fatal(err)
	}
	f.startUploader()
	return f
}

func (f *fixture) startUploader() {
	f.up = &upload.Uploader{Library: f.lib, Settings: f.settings, MinBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond, Logger: quiet()}
	f.lib.OnEvent = f.up.OnEvent
	if err := f.up.Start(); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(f.up.Close)
}

func (f *fixture) settings() livestream.StorageSettings {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.set
}

// record makes a finished recording of n random bytes.
func (f *fixture) record(name string, n int) (livestream.Asset, []byte) {
	f.t.Helper()
	file, a, err := f.lib.Create("stream1", name, time.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	data := make([]byte, n)
	_, _ = rand.Read(data)
	if _, err := file.Write(data); err != nil {
		f.t.Fatal(err)
	}
	file.Close()
	a.Status, a.Bytes = livestream.AssetReady, int64(n)
	if err := f.lib.Finish(a); err != nil {
		f.t.Fatal(err)
	}
	return a, data
}

func (f *fixture) until(what string, ok func(livestream.Asset) bool, id string) livestream.Asset {
	f.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		a, err := f.lib.Get(id)
		if err == nil && ok(a) {
			return a
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%s: asset is %+v (remote %+v, %v)", what, a, a.Remote, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func uploaded(a livestream.Asset) bool {
	return a.Remote != nil && a.Remote.Status == livestream.RemoteUploaded
}

// A finished recording (12 MiB: a multipart upload) is copied under the
// prefix, its local file goes, and a presigned address serves the same
// bytes; deleting the asset deletes the copy.
func TestUploadThenServeFromTheBucket(t *testing.T) {
	f := newFixture(t)
	a, data := f.record("show", 12<<20)
	path, _ := f.lib.Path(a.PublicID)
	got := f.until("uploaded and the local file gone", func(a livestream.Asset) bool { return uploaded(a) && a.LocalGone }, a.PublicID)
	if got.Remote.Key != "shows/"+a.PublicID+".mp4" || got.Remote.Bucket != "recordings" || got.Remote.Attempts != 1 {
		t.Fatalf("remote %+v", got.Remote)
	}
	if size, err := f.s3.Object("recordings", got.Remote.Key); err != nil || size != int64(len(data)) {
		t.Fatalf("the bucket holds %d bytes (%v), want %d", size, err, len(data))
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the local file is still there: %v", err)
	}
	u, err := f.up.URL(context.Background(), got)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("presigned GET: %d, %d bytes, same: %v", resp.StatusCode, len(body), bytes.Equal(body, data))
	}
	if err := f.lib.Delete(a.PublicID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := f.s3.Object("recordings", got.Remote.Key); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the deleted asset's copy is still in the bucket")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// With the store down a recording is marked failed with the reason and
// kept here; when the store is back it is copied; without
// delete_local_after_upload the file stays.
func TestUploadFailsThenResumes(t *testing.T) {
	f := newFixture(t)
	f.mu.Lock()
	f.set.DeleteLocal = false
	f.mu.Unlock()
	f.s3.Stop()
	a, _ := f.record("while-down", 1<<20)
	failed := f.until("failed", func(a livestream.Asset) bool { return a.Remote != nil && a.Remote.Status == livestream.RemoteFailed }, a.PublicID)
	if !strings.Contains(failed.Remote.Error, "cannot reach the object store") || failed.LocalGone {
		t.Fatalf("failed remote %+v, local gone %v", failed.Remote, failed.LocalGone)
	}
	f.s3.Restart()
	got := f.until("uploaded after the store came back", uploaded, a.PublicID)
	if got.LocalGone || got.Remote.Attempts < 2 {
		t.Fatalf("local gone %v; attempts %d", got.LocalGone, got.Remote.Attempts)
	}
	if p, err := f.lib.Path(a.PublicID); err != nil {
		t.Fatal(err)
	} else if _, err := os.Stat(p); err != nil {
		t.Fatalf("the file went: %v", err)
	}
}

// A recording whose upload a stop interrupted is copied at the next start.
func TestUploadResumesAtStart(t *testing.T) {
	f := newFixture(t)
	f.up.Close()
	f.mu.Lock()
	on := f.set
	f.set = livestream.StorageSettings{} // off: nothing is copied
	f.mu.Unlock()
	a, _ := f.record("interrupted", 1<<20)
	if err := f.lib.SetRemote(a.PublicID, livestream.AssetRemote{Status: livestream.RemoteUploading, Bucket: "recordings", Key: "x", Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.set = on
	f.mu.Unlock()
	f.startUploader()
	f.until("uploaded after a new start", uploaded, a.PublicID)
}

// Check says what is wrong in plain words.
func TestCheck(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.up.Check(ctx, f.settings()); err != nil {
		t.Fatalf("good settings: %v", err)
	}
	bad := f.settings()
	bad.SecretAccessKey = "wrong-secret"
	if err := f.up.Check(ctx, bad); err == nil || !strings.Contains(err.Error(), "refused the access key") {
		t.Fatalf("wrong secret: %v", err)
	}
	missing := f.settings()
	missing.Bucket = "no-such-bucket"
	if err := f.up.Check(ctx, missing); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing bucket: %v", err)
	}
}

// The store stops in the middle of a 200 MB upload and comes back: the
// recording is copied after the backoff, once, with the CRC32C of the
// file here.
func TestStoreStopsMidUpload(t *testing.T) {
	f := newFixture(t)
	f.mu.Lock()
	f.set.DeleteLocal = false
	f.mu.Unlock()
	a, data := f.record("big", 200<<20)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if sent, total, ok := f.up.Progress(a.PublicID); ok && sent > total/5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the upload did not get a fifth of the way")
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.s3.Stop()
	f.until("failed while the store is down", func(a livestream.Asset) bool {
		return a.Remote != nil && a.Remote.Status == livestream.RemoteFailed
	}, a.PublicID)
	f.s3.Restart()
	got := f.until("uploaded once the store is back", uploaded, a.PublicID)
	ctx := context.Background()
	var keys []string
	for o := range f.s3.Client().ListObjects(ctx, "recordings", minio.ListObjectsOptions{Prefix: "shows/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	if len(keys) != 1 || keys[0] != got.Remote.Key {
		t.Fatalf("objects under the prefix: %v", keys)
	}
	obj, err := f.s3.Client().GetObject(ctx, "recordings", got.Remote.Key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	table := crc32.MakeTable(crc32.Castagnoli)
	h := crc32.New(table)
	if _, err := io.Copy(h, obj); err != nil {
		t.Fatal(err)
	}
	if h.Sum32() != crc32.Checksum(data, table) {
		t.Fatal("the copy's CRC32C differs from the file's")
	}
	t.Logf("copied after %d attempts", got.Remote.Attempts)
}

// A recording whose file here cannot be read is marked failed with the
// reason and does not hold up the ones after it.
func TestUnreadableRecordingHoldsNothingUp(t *testing.T) {
	f := newFixture(t)
	f.mu.Lock()
	on := f.set
	f.set = livestream.StorageSettings{} // off while the recordings are made
	f.mu.Unlock()
	bad, _ := f.record("unreadable", 1<<10)
	good, _ := f.record("fine", 1<<10)
	path, _ := f.lib.Path(bad.PublicID)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil { // opens, but reads fail
		t.Fatal(err)
	}
	f.mu.Lock()
	f.set = on
	f.mu.Unlock()
	f.up.Rescan()
	f.until("the next one copied", uploaded, good.PublicID)
	got := f.until("the unreadable one failed", func(a livestream.Asset) bool {
		return a.Remote != nil && a.Remote.Status == livestream.RemoteFailed
	}, bad.PublicID)
	if !strings.Contains(got.Remote.Error, "reading the recording") {
		t.Fatalf("error %q", got.Remote.Error)
	}
}
