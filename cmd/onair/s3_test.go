package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	Local  bool        `json:"local"`
	Remote *remoteJSON `json:"remote"`
}

// TestRecordingsToS3: a real studio with a real S3 server (VersityGW).
// Wrong settings are refused by name and the check says what is wrong;
// a session ffmpeg publishes is recorded, copied to the bucket under the
// prefix and its local file removed; the asset's file address sends the
// client to the bucket, where the recording plays whole; after a restart
// it is still there and deleting it removes the copy.
func TestRecordingsToS3(t *testing.T) {
	t.Parallel()
	mediatest.RequireTools(t)
	clip := mediatest.Small.Path(t)
	s3 := s3test.Start(t)
	s3.MakeBucket("studio-recordings")
	data := t.TempDir()
	p := startServe(t, data, "", "")

	set := s3.Settings("studio-recordings")
	body := map[string]any{"s3": map[string]any{"endpoint": set.Endpoint, "region": set.Region, "bucket": set.Bucket,
		"prefix": "shows/", "access_key": set.AccessKey, "secret_key": "wrong-secret"}}
	if code, msg := p.call("PATCH", "/settings", map[string]any{"s3": map[string]any{"endpoint": "s3.example.com", "bucket": "b-1"}}, nil); code != 400 || !strings.HasPrefix(msg, "s3.") {
		t.Fatalf("bad s3 settings: %d %q", code, msg)
	}
	if code, msg := p.call("PATCH", "/settings", body, nil); code != 200 {
		t.Fatalf("s3 settings: %d %s", code, msg)
	}
	if code, msg := p.call("POST", "/settings/s3/check", nil, nil); code != http.StatusBadGateway || !strings.Contains(msg, "refused the access key") {
		t.Fatalf("check with a wrong secret: %d %q", code, msg)
	}
	var shown struct {
		S3 struct {
			SecretKey string `json:"secret_key"`
		} `json:"s3"`
	}
	body["s3"].(map[string]any)["secret_key"] = set.SecretKey
	if code, msg := p.call("PATCH", "/settings", body, &shown); code != 200 || shown.S3.SecretKey != "********" {
		t.Fatalf("s3 settings: %d %s, secret shown as %q", code, msg, shown.S3.SecretKey)
	}
	if code, msg := p.call("POST", "/settings/s3/check", nil, nil); code != 200 {
		t.Fatalf("check: %d %s", code, msg)
	}

	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 1})
	pub := mediatest.Publish(t, clip, st.Input.URI+"/"+st.Input.StreamKey, false)
	if err, ok := pub.Wait(30 * time.Second); !ok || err != nil {
		t.Fatalf("ffmpeg: %v %v %s", ok, err, pub.Output())
	}
	p.waitStatus(st.ID, "idle", 10*time.Second)
	a := p.waitRemote(st.ID, 30*time.Second)
	if a.Local || a.Remote.Key != "shows/"+a.PublicID+".mp4" || a.Remote.Bucket != "studio-recordings" {
		t.Fatalf("asset %+v remote %+v", a, a.Remote)
	}
	if _, err := os.Stat(filepath.Join(data, "library", a.PublicID+".mp4")); !os.IsNotExist(err) {
		t.Fatalf("the local file is still there: %v", err)
	}
	if size, err := s3.Object("studio-recordings", a.Remote.Key); err != nil || size != a.Bytes {
		t.Fatalf("the bucket holds %d bytes (%v), the asset says %d", size, err, a.Bytes)
	}
	// The file address answers 302 to the bucket; the recording plays from there.
	req, _ := http.NewRequest(http.MethodGet, a.URL, nil)
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
	code, b := httpGet(t, loc, 30*time.Second)
	if code != 200 || int64(len(b)) != a.Bytes {
		t.Fatalf("from the bucket: %d, %d bytes of %d", code, len(b), a.Bytes)
	}
	path := filepath.Join(t.TempDir(), "from-bucket.mp4")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	checkPlays(t, path, float64(mediatest.Small.Seconds), 0.5)

	p.stop()
	p = startServe(t, data, "", "")
	if again := p.waitRemote(st.ID, 5*time.Second); again.Remote.Status != "uploaded" || again.Local {
		t.Fatalf("after a restart: %+v", again)
	}
	if code, msg := p.call("DELETE", "/assets/"+a.PublicID, nil, nil); code != 200 {
		t.Fatalf("delete: %d %s", code, msg)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := s3.Object("studio-recordings", a.Remote.Key); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the deleted recording is still in the bucket")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitRemote polls until the stream's one asset is in the bucket.
func (p *proc) waitRemote(streamID string, d time.Duration) s3AssetJSON {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		var page struct {
			Items []s3AssetJSON `json:"items"`
		}
		if code, msg := p.call("GET", "/assets?live_stream_id="+streamID, nil, &page); code != 200 {
			p.t.Fatalf("assets: %d %s", code, msg)
		}
		if len(page.Items) == 1 && page.Items[0].Remote != nil && page.Items[0].Remote.Status == "uploaded" {
			return page.Items[0]
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("assets of %s: %+v, want one in the bucket after %v\n%s", streamID, page.Items, d, p.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
