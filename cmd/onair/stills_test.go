package main

import (
	"bytes"
	"image"
	"image/jpeg"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

// picture fetches a JPEG through the API and decodes it.
func (p *proc) picture(url string) image.Image {
	p.t.Helper()
	resp, b := p.raw("GET", url, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" {
		p.t.Fatalf("GET %s: %d %s %.300s", url, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		p.t.Fatalf("GET %s: not a JPEG: %v", url, err)
	}
	return img
}

var thumbDecodes = regexp.MustCompile(`(?m)^onair_thumbnail_decodes_total ([0-9.e+]+)$`)

func (p *proc) thumbnailDecodes() int {
	p.t.Helper()
	m := thumbDecodes.FindStringSubmatch(scrape(p.t, "http://"+p.httpAddr))
	if m == nil {
		p.t.Fatal("/metrics has no onair_thumbnail_decodes_total")
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	return int(n)
}

// keyTimes are the clip's key frames' times (a key frame every GOP).
func keyTimes(c mediatest.Clip) []time.Duration {
	var ts []time.Duration
	for s := 0; s < c.Seconds; s += 2 {
		ts = append(ts, time.Duration(s)*time.Second)
	}
	return ts
}

// A live stream's thumbnail is a JPEG of its size showing the test pattern
// at one of its key frames; a hundred requests at once cost one decode;
// an idle stream answers 409. Its recording then has a poster, and
// pictures at two times differ; bad parameters answer 400.
func TestStillsOfALiveStreamAndItsRecording(t *testing.T) {
	t.Parallel()
	mediatest.RequireTools(t)
	clip := mediatest.Small
	p := startServe(t, t.TempDir(), "", "")
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 30})
	idle := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}})
	thumb := p.base() + "/live_streams/" + st.ID + "/thumbnail.jpg"

	if resp, b := p.raw("GET", p.base()+"/live_streams/"+idle.ID+"/thumbnail.jpg", nil); resp.StatusCode != http.StatusConflict || !bytes.Contains(b, []byte("idle")) {
		t.Fatalf("thumbnail of an idle stream: %d %s", resp.StatusCode, b)
	}
	pub := mediatest.Publish(t, clip.Path(t), st.Input.URI+"/"+st.Input.StreamKey, false)
	p.waitStatus(st.ID, "active", 15*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, _ := p.raw("GET", thumb, nil)
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no thumbnail 10 s after the stream went active: %d", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	img := p.picture(thumb)
	if b := img.Bounds(); b.Dx() != clip.Width || b.Dy() != clip.Height {
		t.Fatalf("thumbnail of %v, the stream is %dx%d", b, clip.Width, clip.Height)
	}
	got := mediatest.MeanCells(img)
	matched := false
	for _, at := range keyTimes(clip) {
		if got.Close(mediatest.PatternCells(t, clip.Width, clip.Height, at), 16) {
			matched = true
			break
		}
	}
	if !matched {
		t.Fatalf("the thumbnail's colours %.0f match the test pattern at none of the clip's key frames", got)
	}

	// The publisher ends; the stream stays active with its last key frame.
	if err, ok := pub.Wait(30 * time.Second); !ok || err != nil {
		t.Fatalf("ffmpeg: %v %v %s", ok, err, pub.Output())
	}
	before := p.thumbnailDecodes()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	sums := map[string]int{}
	for range 100 {
		wg.Go(func() {
			resp, b := p.raw("GET", thumb+"?width=320", nil)
			mu.Lock()
			defer mu.Unlock()
			if c, err := jpeg.DecodeConfig(bytes.NewReader(b)); resp.StatusCode != http.StatusOK || err != nil || c.Width != 320 || c.Height != 180 {
				failed = append(failed, strconv.Itoa(resp.StatusCode)+" "+string(b[:min(len(b), 200)]))
			}
			sums[string(b)]++
		})
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d of 100 requests at width 320 failed, the first: %s", len(failed), failed[0])
	}
	if d := p.thumbnailDecodes() - before; d != 1 || len(sums) != 1 {
		t.Fatalf("100 requests of one key frame cost %d decodes and gave %d different pictures", d, len(sums))
	}

	// Polling with the picture's ETag: 304 while the key frame is the same.
	resp, b := p.raw("GET", thumb+"?width=320", nil)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || etag == "" {
		t.Fatalf("thumbnail: %d, ETag %q", resp.StatusCode, etag)
	}
	if resp, b := p.raw("GET", thumb+"?width=320", http.Header{"If-None-Match": {etag}}); resp.StatusCode != http.StatusNotModified || len(b) != 0 {
		t.Fatalf("If-None-Match with the picture's ETag: %d, %d bytes", resp.StatusCode, len(b))
	}
	if resp, b2 := p.raw("GET", thumb+"?width=320", http.Header{"If-None-Match": {`"other"`}}); resp.StatusCode != http.StatusOK || !bytes.Equal(b, b2) {
		t.Fatalf("If-None-Match with another ETag: %d", resp.StatusCode)
	}

	// The recording: a poster, and two times two pictures.
	if code, msg := p.call("POST", "/live_streams/"+st.ID+"/idle", nil, nil); code != 200 {
		t.Fatalf("idle: %d %s", code, msg)
	}
	a := p.waitAsset(st.ID, "ready", 10*time.Second)
	poster := p.base() + "/assets/" + a.PublicID + "/poster.jpg"
	if b := p.picture(poster).Bounds(); b.Dx() != clip.Width || b.Dy() != clip.Height {
		t.Fatalf("poster of %v", b)
	}
	if b := p.picture(poster + "?width=200").Bounds(); b.Dx() != 200 || b.Dy() != 113 {
		t.Fatalf("poster at width 200: %v", b)
	}
	at2, at9 := p.picture(poster+"?time=2.5"), p.picture(poster+"?time=9")
	c2, c9 := mediatest.MeanCells(at2), mediatest.MeanCells(at9)
	if c2.Close(c9, 2) {
		t.Fatalf("the pictures at 2.5 s and 9 s are the same: %.0f", c2)
	}
	if !c9.Close(mediatest.PatternCells(t, clip.Width, clip.Height, 9*time.Second), 16) {
		t.Fatalf("the picture at 9 s is not the pattern at 9 s: %.0f", c9)
	}
	for _, q := range []string{"?time=-1", "?time=abc", "?time=13", "?time=NaN", "?time=1e9", "?width=8", "?width=4000", "?width=x"} {
		if resp, b := p.raw("GET", poster+q, nil); resp.StatusCode != http.StatusBadRequest ||
			!bytes.Contains(b, []byte(map[bool]string{true: "width", false: "time"}[q[1] == 'w'])) {
			t.Errorf("poster%s: %d %s", q, resp.StatusCode, b)
		}
	}
	if resp, b := p.raw("GET", thumb, nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("thumbnail once idle: %d %s", resp.StatusCode, b)
	}
	if resp, _ := p.raw("GET", p.base()+"/assets/nope/poster.jpg", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("poster of no asset: %d", resp.StatusCode)
	}
}
