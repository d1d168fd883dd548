package main

import (
	"context"
	"io"
	"math"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

// clipJSON is a clip as the API shows it.
type clipJSON struct {
	assetJSON
	Clip *struct {
		Source         string  `json:"source"`
		Start          float64 `json:"start"`
		RequestedStart float64 `json:"requested_start"`
		End            float64 `json:"end"`
	} `json:"clip"`
}

// rawBody sends an authenticated request with a JSON body as it is.
func (p *proc) rawBody(method, url, body string) (answer, []byte) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(testKey, testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{StatusCode: resp.StatusCode, Header: resp.Header}, b
}

// getAsset reads one asset.
func (p *proc) getAsset(id string) clipJSON {
	p.t.Helper()
	var a clipJSON
	if code, msg := p.call("GET", "/assets/"+id, nil, &a); code != http.StatusOK {
		p.t.Fatalf("asset %s: %d %s", id, code, msg)
	}
	return a
}

// waitReady polls until the asset is ready (and fails on damaged).
func (p *proc) waitReady(id string, d time.Duration) clipJSON {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		a := p.getAsset(id)
		switch {
		case a.Status == "ready":
			return a
		case a.Status == "damaged" || time.Now().After(deadline):
			p.t.Fatalf("clip %s: %+v after %v\n%s", id, a, d, p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startTimes are the start times ffprobe reads for a file's video and
// audio (edit lists applied).
func startTimes(t *testing.T, path string) (video, audio float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries", "stream=codec_type,start_time", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	video, audio = math.NaN(), math.NaN()
	for line := range strings.Lines(string(out)) {
		kind, v, _ := strings.Cut(strings.TrimSpace(line), ",")
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch kind {
		case "video":
			video = f
		case "audio":
			audio = f
		}
	}
	return video, audio
}

// A clip of 10 s → 20 s of a 30 s recording starts at the key frame before
// 10 s, lasts 10 s give or take a GOP, decodes cleanly with audio and video
// starting together; clips interrupted by kill -9 are cut again at the
// next start; bad requests answer 400 naming the field.
func TestClipsFromARecording(t *testing.T) {
	t.Parallel()
	mediatest.RequireTools(t)
	c := mediatest.Clip{Width: 640, Height: 360, FPS: 30, Seconds: 30, VideoKbps: 800, AudioKbps: 96}
	data := t.TempDir()
	p := startServe(t, data, "", "")
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 1})
	pub := mediatest.Publish(t, c.Path(t), st.Input.URI+"/"+st.Input.StreamKey, false)
	if err, ok := pub.Wait(60 * time.Second); !ok || err != nil {
		t.Fatalf("ffmpeg: %v %v %s", ok, err, pub.Output())
	}
	p.waitStatus(st.ID, "idle", 10*time.Second)
	src := p.waitAsset(st.ID, "ready", 10*time.Second)
	clips := p.base() + "/assets/" + src.PublicID + "/clips"

	var a clipJSON
	if code, msg := p.call("POST", "/assets/"+src.PublicID+"/clips", map[string]any{"start": 10.0, "end": 20.0, "public_id": "best_bit"}, &a); code != http.StatusAccepted {
		t.Fatalf("clip: %d %s", code, msg)
	}
	if a.PublicID != "best_bit" || a.Clip == nil || a.Clip.Source != src.PublicID || a.Clip.RequestedStart != 10 || a.Clip.Start > 10 || a.Clip.Start < 8 || a.Clip.End != 20 {
		t.Fatalf("the new clip: %+v %+v", a, a.Clip)
	}
	a = p.waitReady("best_bit", 20*time.Second)
	path := p.download(a.assetJSON)
	want := 20 - a.Clip.Start
	checkPlays(t, path, want, 0.1)
	if math.Abs(want-10) > 2 {
		t.Errorf("the clip lasts %.3f s, not 10 s ± a GOP", want)
	}
	if v, au := startTimes(t, path); math.IsNaN(v) || math.IsNaN(au) || math.Abs(v-au) > 0.05 {
		t.Errorf("video starts at %.3f s, audio at %.3f s", v, au)
	}

	// Bad requests.
	for _, body := range []string{
		`{"end": 20}`, `{"start": 10}`, `{"start": -1, "end": 5}`, `{"start": 10, "end": 5}`,
		`{"start": 10, "end": 10}`, `{"start": 10, "end": 31}`, `{"start": 40, "end": 45}`,
		`{"start": 0, "end": 90000}`, `{"start": 1, "end": 2, "public_id": "../x"}`, `{"start": 1,`,
		`{"start": 1, "end": 2, "begin": 0}`, `{"start": "10", "end": 20}`,
	} {
		resp, b := p.rawBody("POST", clips, body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s", body, resp.StatusCode, b)
		}
	}
	if resp, b := p.rawBody("POST", clips, `{"start": 1, "end": 2, "public_id": "best_bit"}`); resp.StatusCode != http.StatusConflict {
		t.Errorf("a public_id taken: %d %s", resp.StatusCode, b)
	}
	if resp, b := p.rawBody("POST", p.base()+"/assets/nope/clips", `{"start": 1, "end": 2}`); resp.StatusCode != http.StatusNotFound {
		t.Errorf("no such recording: %d %s", resp.StatusCode, b)
	}

	// kill -9 while clips are being cut (one at a time: the later ones
	// wait): at the next start they are cut again and all play.
	ids := []string{"k1", "k2", "k3", "k4"}
	for i, id := range ids {
		if code, msg := p.call("POST", "/assets/"+src.PublicID+"/clips", map[string]any{"start": float64(2 * i), "end": float64(2*i + 20), "public_id": id}, nil); code != http.StatusAccepted {
			t.Fatalf("clip %s: %d %s", id, code, msg)
		}
	}
	p.kill9()
	p2 := startServe(t, data, p.httpAddr, p.rtmpAddr)
	for _, id := range ids {
		a := p2.waitReady(id, 30*time.Second)
		checkPlays(t, p2.download(a.assetJSON), a.Clip.End-a.Clip.Start, 0.1)
	}
	if !strings.Contains(p2.logs.String(), "cutting a clip a stop interrupted again") {
		t.Errorf("no clip was being cut when the studio was killed; the test did not test that:\n%s", p2.logs.String())
	}
}
