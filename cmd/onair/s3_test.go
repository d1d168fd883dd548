package main

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/upload/s3test"
)

type remoteJSON struct {
	Status   string `json:"status"`
	Bucket   string `json:"bucket"`
	Key      string `json:"key"`
	Error    string `json:"error"`
	Attempts int    `json:"attempts"`
}

type s3AssetJSON struct {
	assetJSON
	Storage   string      `json:"storage"`
	Local     bool        `json:"local"`
	SecureURL string      `json:"secure_url"`
	Remote    *remoteJSON `json:"remote"`
}

// storageBody is the storage settings of bucket on s3 as the API takes them.
func storageBody(s3 *s3test.Server, bucket, secret string, deleteLocal bool) map[string]any {
	return map[string]any{"endpoint": s3.Endpoint(), "region": "us-east-1", "bucket": bucket, "prefix": "shows/",
		"access_key_id": s3test.AccessKey, "secret_access_key": secret, "path_style": true, "delete_local_after_upload": deleteLocal}
}

// TestRecordingReachesS3: a real studio, ffmpeg and a real S3 server
// (VersityGW). A wrong field is refused by name and a wrong secret named
// by the test; a published session is copied under the prefix with the
// same bytes as the file here, the asset says storage "s3" with a
// secure_url curl downloads; with delete_local_after_upload the next
// session's file is gone here and the asset's file address redirects to
// the bucket, where it plays whole; after a restart it is still there,
// and deleting it removes the copy.
func TestRecordingReachesS3(t *testing.T) {
	t.Parallel()
	mediatest.RequireTools(t)
	clip := mediatest.Small.Path(t)
	s3 := s3test.Start(t)
	s3.MakeBucket("studio-recordings")
	data := t.TempDir()
	p := startServe(t, data, "", "")

	if code, msg := p.call("PATCH", "/settings/storage", map[string]any{"endpoint": "s3.example.com", "bucket": "b-1"}, nil); code != 400 || !strings.HasPrefix(msg, "storage.endpoint") {
		t.Fatalf("bad storage settings: %d %q", code, msg)
	}
	if code, msg := p.call("PATCH", "/settings/storage", storageBody(s3, "studio-recordings", "wrong-secret", false), nil); code != 200 {
		t.Fatalf("storage settings: %d %s", code, msg)
	}
	if code, msg := p.call("POST", "/settings/storage/test", nil, nil); code != http.StatusBadGateway || !strings.Contains(msg, "SignatureDoesNotMatch") {
		t.Fatalf("test with a wrong secret: %d %q", code, msg)
	}
	var shown struct {
		Secret string `json:"secret_access_key"`
	}
	if code, msg := p.call("PATCH", "/settings/storage", map[string]any{"secret_access_key": s3test.SecretKey}, &shown); code != 200 || shown.Secret != "********" {
		t.Fatalf("storage settings: %d %s, secret shown as %q", code, msg, shown.Secret)
	}
	if code, msg := p.call("POST", "/settings/storage/test", nil, nil); code != 200 {
		t.Fatalf("test: %d %s", code, msg)
	}

	// Kept here: the copy has the same bytes, and curl fetches the secure_url.
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 1})
	a := publishSession(t, p, clip, st.ID, st.Input.URI+"/"+st.Input.StreamKey, 1)
	local, err := os.ReadFile(filepath.Join(data, "library", a.PublicID+".mp4"))
	if err != nil || !a.Local || a.Storage != "s3" || a.Remote.Key != "shows/"+a.PublicID+".mp4" {
		t.Fatalf("asset %+v remote %+v (%v)", a, a.Remote, err)
	}
	if copyBytes := objectBytes(t, s3, "studio-recordings", a.Remote.Key); !bytes.Equal(copyBytes, local) {
		t.Fatalf("the copy (%d bytes) differs from the file here (%d bytes)", len(copyBytes), len(local))
	}
	out, err := exec.Command("curl", "-sSf", a.SecureURL).Output()
	if err != nil || !bytes.Equal(out, local) {
		t.Fatalf("curl of the secure_url: %v, %d bytes of %d", err, len(out), len(local))
	}

	// Deleted here: the file address sends the client to the bucket.
	if code, msg := p.call("PATCH", "/settings/storage", map[string]any{"delete_local_after_upload": true}, nil); code != 200 {
		t.Fatalf("delete_local_after_upload: %d %s", code, msg)
	}
	b := publishSession(t, p, clip, st.ID, st.Input.URI+"/"+st.Input.StreamKey, 2)
	// The copy is recorded first, then the file here removed: wait for both.
	b = p.waitAssetWhere(b.PublicID, 10*time.Second, func(a s3AssetJSON) bool { return !a.Local })
	if b.Local || b.Storage != "s3" {
		t.Fatalf("second asset %+v", b)
	}
	if _, err := os.Stat(filepath.Join(data, "library", b.PublicID+".mp4")); !os.IsNotExist(err) {
		t.Fatalf("the local file is still there: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, b.URL, nil)
	req.SetBasicAuth(testKey, testSecret)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, s3.Endpoint()+"/studio-recordings/shows/") {
		t.Fatalf("file address: %d to %q", resp.StatusCode, loc)
	}
	code, body := httpGet(t, loc, 30*time.Second)
	if code != 200 || int64(len(body)) != b.Bytes {
		t.Fatalf("from the bucket: %d, %d bytes of %d", code, len(body), b.Bytes)
	}
	path := filepath.Join(t.TempDir(), "from-bucket.mp4")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	checkPlays(t, path, float64(mediatest.Small.Seconds), 0.5)

	p.stop()
	p = startServe(t, data, "", "")
	if again := p.asset(b.PublicID); again.Storage != "s3" || again.Local {
		t.Fatalf("after a restart: %+v", again)
	}
	if code, msg := p.call("DELETE", "/assets/"+b.PublicID, nil, nil); code != 200 {
		t.Fatalf("delete: %d %s", code, msg)
	}
	waitGone(t, s3, "studio-recordings", b.Remote.Key)
}

// TestS3Faults: a wrong secret keeps a recording here, the asset naming
// the service's error code and the log never the secret; kill -9 of the
// studio in the middle of a 150 MB upload, then a start: the copy is made,
// once, with the CRC32C of the file here.
func TestS3Faults(t *testing.T) {
	t.Parallel()
	mediatest.RequireTools(t)
	s3 := s3test.Start(t)
	s3.MakeBucket("faults")
	data := t.TempDir()
	bigRecording(t, filepath.Join(data, "library"), "bigshow_20261201-100000", 110)
	const secret = "a-wrong-secret-never-logged"
	p := startServe(t, data, "", "")
	if code, msg := p.call("PATCH", "/settings/storage", storageBody(s3, "faults", secret, false), nil); code != 200 {
		t.Fatalf("storage settings: %d %s", code, msg)
	}
	a := p.waitAssetWhere("bigshow_20261201-100000", 30*time.Second, func(a s3AssetJSON) bool {
		return a.Remote != nil && a.Remote.Status == "failed"
	})
	if !a.Local || a.Storage != "uploading" || !strings.Contains(a.Remote.Error, "SignatureDoesNotMatch") {
		t.Fatalf("with a wrong secret: %+v remote %+v", a, a.Remote)
	}
	if strings.Contains(p.logs.String(), secret) {
		t.Fatal("the log holds the secret")
	}

	if code, msg := p.call("PATCH", "/settings/storage", map[string]any{"secret_access_key": s3test.SecretKey}, nil); code != 200 {
		t.Fatalf("storage settings: %d %s", code, msg)
	}
	p.waitAssetWhere(a.PublicID, 30*time.Second, func(a s3AssetJSON) bool { return a.Remote != nil && a.Remote.Status == "uploading" })
	time.Sleep(100 * time.Millisecond) // under way
	p.kill9()
	if _, err := s3.Object("faults", "shows/"+a.PublicID+".mp4"); err == nil {
		t.Fatal("the upload was over before the kill: make the recording bigger")
	}
	p = startServe(t, data, "", "")
	done := p.waitAssetWhere(a.PublicID, 60*time.Second, func(a s3AssetJSON) bool { return a.Storage == "s3" })
	if !done.Local || done.Remote.Attempts < 2 {
		t.Fatalf("after the restart: %+v remote %+v", done, done.Remote)
	}
	ctx := context.Background()
	n := 0
	for o := range s3.Client().ListObjects(ctx, "faults", minio.ListObjectsOptions{Prefix: "shows/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		n++
	}
	local, err := os.ReadFile(filepath.Join(data, "library", a.PublicID+".mp4"))
	if err != nil {
		t.Fatal(err)
	}
	table := crc32.MakeTable(crc32.Castagnoli)
	if got, want := crc32.Checksum(objectBytes(t, s3, "faults", done.Remote.Key), table), crc32.Checksum(local, table); n != 1 || got != want {
		t.Fatalf("%d objects; the copy's CRC32C %08x, the file's %08x (%d MB)", n, got, want, len(local)>>20)
	}
}

// publishSession publishes the clip once and returns the stream's n-th
// asset once it is in the bucket.
func publishSession(t *testing.T, p *proc, clip, streamID, url string, n int) s3AssetJSON {
	t.Helper()
	pub := mediatest.Publish(t, clip, url, false)
	if err, ok := pub.Wait(30 * time.Second); !ok || err != nil {
		t.Fatalf("ffmpeg: %v %v %s", ok, err, pub.Output())
	}
	p.waitStatus(streamID, "idle", 10*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var page struct {
			Items []s3AssetJSON `json:"items"`
		}
		p.call("GET", "/assets?live_stream_id="+streamID, nil, &page)
		if len(page.Items) == n && page.Items[0].Storage == "s3" {
			return page.Items[0] // newest first
		}
		if time.Now().After(deadline) {
			t.Fatalf("assets of %s: %+v, want %d, the newest in the bucket\n%s", streamID, page.Items, n, p.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// asset reads one asset.
func (p *proc) asset(publicID string) s3AssetJSON {
	p.t.Helper()
	var a s3AssetJSON
	if code, msg := p.call("GET", "/assets/"+publicID, nil, &a); code != 200 {
		p.t.Fatalf("asset %s: %d %s", publicID, code, msg)
	}
	return a
}

// waitAssetWhere polls one asset until ok.
func (p *proc) waitAssetWhere(publicID string, d time.Duration, ok func(s3AssetJSON) bool) s3AssetJSON {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		var a s3AssetJSON
		if code, _ := p.call("GET", "/assets/"+publicID, nil, &a); code == 200 && ok(a) {
			return a
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("asset %s is %+v (remote %+v) after %v\n%s", publicID, a, a.Remote, d, p.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bigRecording writes a fragmented MP4 of the small clip looped n times
// into the library folder: a stray the library indexes (and finishes into
// an ordinary MP4) at start.
func bigRecording(t *testing.T, dir, name string, n int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".mp4")
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-stream_loop", fmt.Sprint(n), "-i", mediatest.Small.Path(t),
		"-c", "copy", "-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-f", "mp4", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg making a big recording: %v %s", err, out)
	}
}

func objectBytes(t *testing.T, s3 *s3test.Server, bucket, key string) []byte {
	t.Helper()
	obj, err := s3.Client().GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("reading %s/%s: %v", bucket, key, err)
	}
	return b
}

func waitGone(t *testing.T, s3 *s3test.Server, bucket, key string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := s3.Object(bucket, key); err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s is still in the bucket", bucket, key)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
