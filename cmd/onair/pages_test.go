package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onair-studio/onair/engine/mediatest"
)

// chromium starts Debian's headless Chromium for one test, with the flags
// a loopback WebRTC session needs.
func chromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("this test needs Chromium (apt-get install chromium): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns,Translate,MediaRouter"),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("disable-gpu", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// framesIn loads url and waits until the page's onairFrames() reports
// decoded frames (30, a second's); it returns the last count.
func framesIn(ctx context.Context, t *testing.T, url string, within time.Duration) int {
	t.Helper()
	return framesAtLeast(ctx, t, url, within, 30)
}

// framesAtLeast loads url and waits until the page's onairFrames() reports
// at least atLeast decoded frames; it returns the last count.
func framesAtLeast(ctx context.Context, t *testing.T, url string, within time.Duration, atLeast int) int {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("loading %s: %v", url, err)
	}
	deadline := time.Now().Add(within)
	n := 0
	for time.Now().Before(deadline) {
		var err error
		n, err = chromedp.Run(ctx, chromedp.Evaluate[int](`Promise.resolve(window.onairFrames ? window.onairFrames() : 0)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("reading frames on %s: %v", url, err)
		}
		if n >= atLeast {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
	status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status").textContent`))
	t.Fatalf("%s decoded %d frames in %v; the page says %q", url, n, within, status)
	return n
}

// previewSound checks the preview page's sound: Opus packets arrive, the
// page starts muted with its Sound button shown, and after a press plays
// the sound aloud, the decoded sound not silence.
func previewSound(ctx context.Context, t *testing.T) {
	t.Helper()
	type sound struct {
		Packets float64 `json:"packets"`
		Energy  float64 `json:"energy"`
		Muted   bool    `json:"muted"`
		Button  bool    `json:"button"`
	}
	read := func() sound {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[sound](`window.onairSound()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("reading the preview's sound: %v", err)
		}
		return v
	}
	before := read()
	if !before.Muted || !before.Button {
		t.Fatalf("before the press: %+v; want muted, with the Sound button", before)
	}
	press, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(press, chromedp.Click("#sound")); err != nil {
		t.Fatalf("pressing Sound: %v", err)
	}
	var after sound
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		after = read()
		if after.Packets > before.Packets+50 && after.Energy > 0 && !after.Muted || time.Now().After(end) {
			break
		}
	}
	t.Logf("preview sound: %+v then %+v", before, after)
	if after.Muted || after.Packets <= before.Packets+50 || after.Energy <= 0 {
		t.Errorf("after pressing Sound: %+v; want unmuted, Opus packets arriving, sound decoded", after)
	}
	// With ONAIR_PREVIEW_SCREENSHOT set, the page (sound on) is saved there
	// (docs/screenshots/preview-page.png).
	if out := os.Getenv("ONAIR_PREVIEW_SCREENSHOT"); out != "" {
		if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(1000, 720)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPagesInChromium: the watch page (hls.js) and the preview page (WHEP
// with a minted token) each decode frames in headless Chromium while
// ffmpeg publishes.
func TestPagesInChromium(t *testing.T) {
	s, st := previewStudio(t, mediatest.Preview)
	ctx := chromium(t)

	// The page and its player are served.
	resp, err := http.Get(s.HTTPURL() + "/web/dist/hls.min.js")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("hls.js: %v %v (run make web)", err, resp.StatusCode)
	}
	resp.Body.Close()

	n := framesIn(ctx, t, s.HTTPURL()+"/watch/"+st.ID, 30*time.Second)
	t.Logf("watch page: %d frames decoded", n)

	var tok struct {
		PreviewURL string `json:"preview_url"`
	}
	p := &proc{t: t, httpAddr: strings.TrimPrefix(s.HTTPURL(), "http://")}
	if code, body := p.call("POST", "/live_streams/"+st.ID+"/preview_token", nil, &tok); code != 201 {
		t.Fatalf("preview token: %d %s", code, body)
	}
	n = framesIn(ctx, t, s.HTTPURL()+tok.PreviewURL, 20*time.Second)
	t.Logf("preview page: %d frames decoded", n)
	if s.Preview().Sessions() != 1 {
		t.Errorf("preview sessions while the page plays: %d", s.Preview().Sessions())
	}
	previewSound(ctx, t)
	// Leaving the page ends its session (DELETE on pagehide).
	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Preview().Sessions() != 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := s.Preview().Sessions(); n != 0 {
		t.Errorf("sessions after leaving the page: %d", n)
	}
}

// TestPagesHeaders: the pages are served with a strict content policy,
// unknown ids get 404, and the page's files cannot be read past the folder.
func TestPagesHeaders(t *testing.T) {
	s, st := previewStudio(t, mediatest.Preview)
	for _, c := range []struct {
		path string
		code int
		has  string
	}{
		{"/watch/" + st.ID, 200, "hls.min.js"},
		{"/preview/" + st.ID, 200, "preview.js"},
		{"/watch/..%2f..%2fetc", 404, ""},
		{"/web/../../go.mod", 404, ""},
		{"/web/watch.html", 404, ""},
		{"/web/watch.js", 200, "onairFrames"},
	} {
		resp, err := http.Get(s.HTTPURL() + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || !strings.Contains(string(b), c.has) {
			t.Errorf("%s: %d, want %d with %q", c.path, resp.StatusCode, c.code, c.has)
		}
		if c.code == 200 && strings.HasSuffix(resp.Header.Get("Content-Type"), "html; charset=utf-8") &&
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s: no content policy", c.path)
		}
	}
}

// TestPreviewPageFirstPicture: joining between two key frames of a stream
// with a 6 s key frame interval, the preview page in Chromium shows its
// first picture within a second and a half of the WHEP answer (the studio
// sends the newest key frame it holds, and sends it again over the next
// second and a half: Chromium decoded the first copy before the video
// element was ready for it in most joins with sound, then showed nothing
// until the stream's next key frame), and until that key frame decodes
// nothing but that picture — no burst of old frames played fast — then
// every frame.
func TestPreviewPageFirstPicture(t *testing.T) {
	clip := mediatest.Clip{Width: 640, Height: 360, FPS: 30, Seconds: 12, VideoKbps: 600, AudioKbps: 96, GOPSeconds: 6, NoBFrames: true}
	ctx := chromium(t) // started first: the page is opened early in the interval
	s, st := previewStudio(t, clip)
	time.Sleep(time.Second) // about 1 s into the first interval: the next key frame is 5 s away
	var tok struct {
		PreviewURL string `json:"preview_url"`
	}
	p := &proc{t: t, httpAddr: strings.TrimPrefix(s.HTTPURL(), "http://")}
	if code, body := p.call("POST", "/live_streams/"+st.ID+"/preview_token", nil, &tok); code != 201 {
		t.Fatalf("preview token: %d %s", code, body)
	}
	if _, err := chromedp.Run(ctx, chromedp.Navigate(s.HTTPURL()+tok.PreviewURL)); err != nil {
		t.Fatal(err)
	}
	type state struct {
		Answered *float64 `json:"answered"`
		First    *float64 `json:"first"`
		Now      float64  `json:"now"`
		Received int      `json:"received"`
		Decoded  int      `json:"decoded"`
		Keys     int      `json:"keys"`
	}
	read := func() state {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[state](`(async () => ({answered: window.onairAnsweredAt ?? null, first: window.onairFirstFrameAt ?? null, now: performance.now(), received: await window.onairFramesReceived(), decoded: await window.onairFrames(), keys: await window.onairKeyFrames()}))()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("reading the page: %v", err)
		}
		return v
	}
	var v state
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if v = read(); v.Answered != nil && v.Received > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no picture reached the page 10 s after loading it: %+v", v)
		}
	}
	arrived := v.Now - *v.Answered
	if arrived > 1000 {
		t.Errorf("the first picture reached the page %.0f ms after the answer; the next key frame was seconds away and the newest was held", arrived)
	}
	// Two seconds on: the first picture shown, and nothing decoded but it
	// (sent again), not old frames played fast.
	time.Sleep(2 * time.Second)
	v = read()
	if v.First == nil {
		t.Errorf("the first picture, received %.0f ms after the answer, is not shown 2 s later", arrived)
	} else if shown := *v.First - *v.Answered; shown > 1500 {
		t.Errorf("the first picture was shown %.0f ms after the answer", shown)
	}
	if v.Decoded > v.Keys || v.Decoded > 5 { // the first picture and at most four copies
		t.Errorf("%d frames decoded (%d key frames) within 2 s of the first, before the stream's next key frame: a burst of old frames", v.Decoded, v.Keys)
	}
	// After the next key frame, every frame.
	for deadline := time.Now().Add(10 * time.Second); v.Decoded < 60; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d frames decoded 10 s on", v.Decoded)
		}
		v = read()
	}
	if v.First != nil {
		t.Logf("first picture at the page within %.0f ms of the answer, shown %.0f ms after it", arrived, *v.First-*v.Answered)
	}
}
