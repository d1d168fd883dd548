package main

import (
	"bytes"
	"context"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

type assetJSON struct {
	PublicID     string   `json:"public_id"`
	LiveStreamID string   `json:"live_stream_id"`
	Status       string   `json:"status"`
	Error        string   `json:"error"`
	Duration     float64  `json:"duration"`
	Bytes        int64    `json:"bytes"`
	Codecs       []string `json:"codecs"`
	URL          string   `json:"url"`
}

// assets lists the assets of one stream.
func (p *proc) assets(streamID string) []assetJSON {
	p.t.Helper()
	var page struct {
		Items []assetJSON `json:"items"`
	}
	if code, msg := p.call("GET", "/assets?live_stream_id="+streamID, nil, &page); code != 200 {
		p.t.Fatalf("assets: %d %s", code, msg)
	}
	return page.Items
}

// waitAsset polls until the stream has one asset with status.
func (p *proc) waitAsset(streamID, status string, d time.Duration) assetJSON {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		as := p.assets(streamID)
		if len(as) == 1 && as[0].Status == status {
			return as[0]
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("assets of %s: %+v, want one %s after %v\n%s", streamID, as, status, d, p.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// answer is a whole HTTP answer.
type answer struct {
	StatusCode int
	Header     http.Header
}

// raw does an authenticated request and returns the whole answer.
func (p *proc) raw(method, url string, header http.Header) (answer, []byte) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, url, nil)
	maps.Copy(req.Header, header)
	req.SetBasicAuth(testKey, testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatalf("%s %s: reading: %v", method, url, err)
	}
	return answer{StatusCode: resp.StatusCode, Header: resp.Header}, b
}

// download saves an asset's file through the API.
func (p *proc) download(a assetJSON) string {
	p.t.Helper()
	resp, b := p.raw("GET", a.URL, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/mp4" || int64(len(b)) != a.Bytes {
		p.t.Fatalf("download: %d %s, %d bytes of %d", resp.StatusCode, resp.Header.Get("Content-Type"), len(b), a.Bytes)
	}
	path := filepath.Join(p.t.TempDir(), a.PublicID+".mp4")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// checkPlays asserts what ffprobe and ffmpeg read in a recording.
func checkPlays(t *testing.T, path string, wantSeconds, tolerance float64) mediatest.Probe {
	t.Helper()
	return checkPlaysAs(t, path, "h264,aac", wantSeconds, tolerance)
}

// checkPlaysAs is checkPlays for a recording of other codecs.
func checkPlaysAs(t *testing.T, path, codecs string, wantSeconds, tolerance float64) mediatest.Probe {
	t.Helper()
	pr := mediatest.ProbeFile(t, path)
	if got := strings.Join(pr.Codecs(), ","); got != codecs {
		t.Errorf("codecs %s, want %s", got, codecs)
	}
	if math.Abs(pr.Duration-wantSeconds) > tolerance {
		t.Errorf("duration %.3f s, want %.1f ± %.1f s", pr.Duration, wantSeconds, tolerance)
	}
	if errs := mediatest.DecodeErrors(t, path); errs != "" {
		t.Errorf("ffmpeg decoding the recording: %s", errs)
	}
	return pr
}

// Real ffmpeg publishes the 12 s clip; once the stream is idle its
// recording is ready, plays whole, and downloads with ranges. Public ids
// that try to leave the library are refused.
func TestArchiveRecordsASession(t *testing.T) {
	t.Parallel()
	mediatest.RequireTools(t)
	clip := mediatest.Small.Path(t)
	data := t.TempDir()
	p := startServe(t, data, "", "")
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 1})
	pub := mediatest.Publish(t, clip, st.Input.URI+"/"+st.Input.StreamKey, false)
	p.waitAsset(st.ID, "recording", 15*time.Second)
	if err, ok := pub.Wait(30 * time.Second); !ok || err != nil {
		t.Fatalf("ffmpeg: %v %v %s", ok, err, pub.Output())
	}
	p.waitStatus(st.ID, "idle", 10*time.Second)
	a := p.waitAsset(st.ID, "ready", 5*time.Second)
	if !strings.HasPrefix(a.PublicID, "live_stream_"+st.ID+"_archive_") || a.LiveStreamID != st.ID {
		t.Errorf("asset %+v", a)
	}
	path := p.download(a)
	pr := checkPlays(t, path, float64(mediatest.Small.Seconds), 0.5)
	if math.Abs(a.Duration-pr.Duration) > 0.1 {
		t.Errorf("the API says %.3f s, ffprobe %.3f s", a.Duration, pr.Duration)
	}
	whole, _ := os.ReadFile(path)
	onDisk, err := os.ReadFile(filepath.Join(data, "library", a.PublicID+".mp4"))
	if err != nil || !bytes.Equal(whole, onDisk) {
		t.Fatalf("the download differs from the library's file (%v)", err)
	}

	// Ranges: exactly the bytes asked for.
	for _, rg := range []struct {
		header     string
		start, end int
	}{{"bytes=100-199", 100, 200}, {"bytes=0-0", 0, 1}, {"bytes=-50", len(whole) - 50, len(whole)}} {
		resp, b := p.raw("GET", a.URL, http.Header{"Range": {rg.header}})
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, whole[rg.start:rg.end]) {
			t.Errorf("Range %s: %d, %d bytes, equal %v", rg.header, resp.StatusCode, len(b), bytes.Equal(b, whole[rg.start:rg.end]))
		}
	}

	// Public ids that name something outside the library.
	before, _ := os.ReadDir(data)
	for _, bad := range []string{"..%2Fonair.db", "%2e%2e%2fonair", "%2Fetc%2Fpasswd", "..%5Conair.db", "a%00b", "%2e%2e", "a%5Cb"} {
		for _, suffix := range []string{"", "/file"} {
			for _, method := range []string{"GET", "DELETE"} {
				if method == "DELETE" && suffix != "" {
					continue
				}
				resp, body := p.raw(method, p.base()+"/assets/"+bad+suffix, nil)
				if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte("public_id")) {
					t.Errorf("%s /assets/%s%s: %d %s", method, bad, suffix, resp.StatusCode, body)
				}
			}
		}
	}
	after, _ := os.ReadDir(data)
	if len(before) != len(after) {
		t.Errorf("the data folder changed: %d → %d entries", len(before), len(after))
	}
	if _, err := os.Stat(filepath.Join(data, "onair.db")); err != nil {
		t.Error(err)
	}
	if as := p.assets(st.ID); len(as) != 1 {
		t.Errorf("assets after the refused calls: %+v", as)
	}

	// Deleting the stream keeps its recording; deleting the asset removes the file.
	if code, msg := p.call("DELETE", "/live_streams/"+st.ID, nil, nil); code != 200 {
		t.Fatalf("delete stream: %d %s", code, msg)
	}
	if as := p.assets(st.ID); len(as) != 1 {
		t.Fatalf("assets after deleting the stream: %+v", as)
	}
	if code, msg := p.call("DELETE", "/assets/"+a.PublicID, nil, nil); code != 200 {
		t.Fatalf("delete asset: %d %s", code, msg)
	}
	if _, err := os.Stat(filepath.Join(data, "library", a.PublicID+".mp4")); !os.IsNotExist(err) {
		t.Errorf("file after delete: %v", err)
	}
	if code, _ := p.call("GET", "/assets/"+a.PublicID, nil, nil); code != 404 {
		t.Errorf("deleted asset: %d", code)
	}
}

// kill -9 eight seconds into a publish: after the restart the recording
// is repaired, ready, and plays at least five seconds.
func TestArchiveSurvivesKill9(t *testing.T) {
	t.Parallel()
	mediatest.RequireTools(t)
	clip := mediatest.Small.Path(t)
	data := t.TempDir()
	p := startServe(t, data, "", "")
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}})
	pub := mediatest.Publish(t, clip, st.Input.URI+"/"+st.Input.StreamKey, true)
	p.waitAsset(st.ID, "recording", 15*time.Second)
	time.Sleep(8 * time.Second)
	p.kill9()
	pub.Stop()

	p = startServe(t, data, "", "")
	a := p.waitAsset(st.ID, "ready", 5*time.Second)
	if a.Duration < 5 {
		t.Errorf("repaired recording lasts %.3f s", a.Duration)
	}
	pr := checkPlays(t, p.download(a), a.Duration, 0.1)
	if pr.Duration < 5 {
		t.Errorf("ffprobe reads %.3f s", pr.Duration)
	}
	p.stop()
}

// An encoder that reconnects within the idle timeout continues the same
// recording: one asset, timestamps increasing without a gap.
func TestArchiveContinuesAcrossReconnect(t *testing.T) {
	t.Parallel()
	mediatest.RequireTools(t)
	clip := mediatest.Clip{Width: 640, Height: 360, FPS: 30, Seconds: 6, VideoKbps: 800, AudioKbps: 96}.Path(t)
	p := startServe(t, t.TempDir(), "", "")
	// The idle timeout leaves room for a busy machine between ffmpeg's exit
	// and the status read (3 s was once too short beside the S3 tests).
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 10})
	for range 2 {
		pub := mediatest.Publish(t, clip, st.Input.URI+"/"+st.Input.StreamKey, false)
		if err, ok := pub.Wait(30 * time.Second); !ok || err != nil {
			t.Fatalf("ffmpeg: %v %v %s", ok, err, pub.Output())
		}
		if got := p.get(st.ID).Status; got != "active" {
			t.Fatalf("between the publishes the stream is %s", got)
		}
	}
	p.waitStatus(st.ID, "idle", 20*time.Second)
	a := p.waitAsset(st.ID, "ready", 5*time.Second)
	path := p.download(a)
	checkPlays(t, path, 12, 0.6)
	for _, kind := range []string{"v", "a"} {
		ts := mediatest.PacketTimes(t, path, kind)
		if len(ts) < 100 {
			t.Fatalf("%s: %d packets", kind, len(ts))
		}
		for i := 1; i < len(ts); i++ {
			if d := ts[i] - ts[i-1]; d <= 0 || d > 0.2 {
				t.Errorf("%s: timestamps %.3f → %.3f at packet %d", kind, ts[i-1], ts[i], i)
				break
			}
		}
	}
}
