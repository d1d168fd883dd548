package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/chromedp/chromedp"

	"github.com/onair-studio/onair/cmd/onair/studio"
	"github.com/onair-studio/onair/engine/mediatest"
)

// parsePlaylist parses a media playlist or fails the test.
func parsePlaylist(t *testing.T, body string) *playlist.Media {
	t.Helper()
	var pl playlist.Media
	if err := pl.Unmarshal([]byte(body)); err != nil {
		t.Fatalf("the media playlist does not parse: %v\n%.800s", err, body)
	}
	return &pl
}

func playlistDuration(pl *playlist.Media) time.Duration {
	var d time.Duration
	for _, s := range pl.Segments {
		d += s.Duration
	}
	return d
}

// TestDVRWindow: dvr_window_sec 120 on a 3-minute publish (sent at eight
// times real time, then continued live by a second publisher) keeps 120 s
// ± one segment in the playlist; ffmpeg decodes the oldest segment; hls.js
// in Chromium on the watch page seeks 60 s back and plays there; the stats
// show what is kept; a stream without a window has today's playlist.
func TestDVRWindow(t *testing.T) {
	clip := mediatest.Small.Path(t)
	t.Setenv("ONAIR_API_KEY", testKey)
	t.Setenv("ONAIR_API_SECRET", testSecret)
	cfg := studio.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", RTMPAddr: "127.0.0.1:0", SRTAddr: "127.0.0.1:0"}
	s, err := studio.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	p := &proc{t: t, httpAddr: strings.TrimPrefix(s.HTTPURL(), "http://")}
	dvr := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 120})
	plain := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 120})
	hlsID := dvr.Outputs[0].ID
	if dvr.Outputs[0].Type != "hls" {
		t.Fatalf("outputs: %+v", dvr.Outputs)
	}
	var out struct {
		DVRWindowSec *int `json:"dvr_window_sec"`
	}
	if code, msg := p.call("PATCH", "/live_streams/"+dvr.ID+"/outputs/"+hlsID, map[string]any{"dvr_window_sec": 120}, &out); code != 200 || out.DVRWindowSec == nil || *out.DVRWindowSec != 120 {
		t.Fatalf("setting the DVR window: %d %s %+v", code, msg, out)
	}

	// Three minutes of media, fast; the stream without a window gets 48 s.
	fast := mediatest.PublishFast(t, clip, s.RTMPURL()+"/"+dvr.Input.StreamKey, 15, 8)
	other := mediatest.PublishFast(t, clip, s.RTMPURL()+"/"+plain.Input.StreamKey, 4, 8)
	for _, pub := range []*mediatest.Publisher{fast, other} {
		if err, ok := pub.Wait(3 * time.Minute); !ok || err != nil {
			t.Fatalf("the fast publish did not end well: %v %v\n%s", ok, err, pub.Output())
		}
	}
	// An active stream's hls output cannot change: 409.
	if code, msg := p.call("PATCH", "/live_streams/"+dvr.ID+"/outputs/"+hlsID, map[string]any{"dvr_window_sec": 60}, nil); code != 409 {
		t.Errorf("changing the window while active: %d %s, want 409", code, msg)
	}
	// The show goes on live (the same session: a discontinuity, the same playlist).
	live := mediatest.Publish(t, clip, s.RTMPURL()+"/"+dvr.Input.StreamKey, true)
	t.Cleanup(live.Stop)

	mediaURL, body := mediaPlaylist(t, p.get(dvr.ID).hlsURI(), 20*time.Second)
	pl := parsePlaylist(t, body)
	kept := playlistDuration(pl)
	target := time.Duration(pl.TargetDuration) * time.Second
	t.Logf("the playlist keeps %v in %d segments (target %v, %d bytes)", kept, len(pl.Segments), target, len(body))
	if kept < 120*time.Second || kept > 120*time.Second+target {
		t.Errorf("the playlist keeps %v of media; want 120 s plus at most one segment (%v)", kept, target)
	}
	if pl.ServerControl == nil || pl.ServerControl.CanSkipUntil == nil {
		t.Errorf("a DVR playlist offers no delta updates: %+v", pl.ServerControl)
	}
	code, delta := httpGet(t, mediaURL+"?_HLS_skip=YES", 10*time.Second)
	if dp := parsePlaylist(t, string(delta)); code != 200 || dp.Skip == nil || dp.Skip.SkippedSegments+len(dp.Segments) < len(pl.Segments) {
		t.Errorf("the delta update: %d, %+v", code, dp.Skip)
	}

	// ffmpeg decodes the oldest segment, with its init section.
	base := mediaURL[:strings.LastIndex(mediaURL, "/")+1]
	oldest := filepath.Join(t.TempDir(), "oldest.mp4")
	var file []byte
	for _, u := range []string{pl.Map.URI, pl.Segments[0].URI} {
		code, b := httpGet(t, base+u, 10*time.Second)
		if code != 200 {
			t.Fatalf("%s: %d %s", u, code, b)
		}
		file = append(file, b...)
	}
	if err := os.WriteFile(oldest, file, 0o600); err != nil {
		t.Fatal(err)
	}
	if e := mediatest.DecodeErrors(t, oldest); strings.TrimSpace(e) != "" {
		t.Errorf("ffmpeg decoding the oldest segment: %s", e)
	}
	frames := len(mediatest.PacketTimes(t, oldest, "v"))
	if want := int(pl.Segments[0].Duration.Seconds() * 30); frames < want-2 || frames > want+2 {
		t.Errorf("the oldest segment (%v) decodes to %d frames, want about %d", pl.Segments[0].Duration, frames, want)
	}

	// The stats say what is kept, and the files hold it.
	var stats struct {
		Stats struct {
			DVR *struct {
				WindowSec float64 `json:"window_sec"`
				KeptSec   float64 `json:"kept_sec"`
				Bytes     int64   `json:"bytes"`
				LowDisk   bool    `json:"low_disk"`
			} `json:"dvr"`
		} `json:"stats"`
	}
	p.call("GET", "/live_streams/"+dvr.ID, nil, &stats)
	d := stats.Stats.DVR
	if d == nil || d.WindowSec != 120 || d.KeptSec < 120 || d.KeptSec > 120+target.Seconds()+2 || d.LowDisk {
		t.Errorf("stats.dvr: %+v", d)
	} else {
		var onDisk int64
		filepath.WalkDir(filepath.Join(s.DataDir(), "cache", "hls", dvr.ID), func(_ string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				if fi, err := e.Info(); err == nil {
					onDisk += fi.Size()
				}
			}
			return nil
		})
		if onDisk == 0 || onDisk > d.Bytes || onDisk < d.Bytes*8/10 {
			t.Errorf("%d bytes of segment files; stats say %d kept", onDisk, d.Bytes)
		}
		t.Logf("stats.dvr %+v, %d bytes in files", *d, onDisk)
	}

	// With no window: the live edge only, as before.
	_, plainBody := mediaPlaylist(t, p.get(plain.ID).hlsURI(), 10*time.Second)
	pp := parsePlaylist(t, plainBody)
	if len(pp.Segments) != 7 || (pp.ServerControl != nil && pp.ServerControl.CanSkipUntil != nil) {
		t.Errorf("without a window: %d segments (want 7), server control %+v", len(pp.Segments), pp.ServerControl)
	}

	// The watch page: live first, then 60 s back with the rewind bar's seek.
	ctx := chromium(t)
	framesIn(ctx, t, s.HTTPURL()+"/watch/"+dvr.ID, 30*time.Second)
	type dvrState struct {
		Kept   float64 `json:"kept"`
		Behind float64 `json:"behind"`
		Time   float64 `json:"time"`
		Paused bool    `json:"paused"`
	}
	read := func() (dvrState, bool, string) {
		st, err := chromedp.Run(ctx, chromedp.Evaluate[dvrState](`window.onairDVR() || {}`))
		if err != nil {
			t.Fatalf("reading the page: %v", err)
		}
		hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("dvr").hidden`))
		label, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("behind").textContent`))
		return st, hidden, label
	}
	before, hidden, label := read()
	t.Logf("at the live edge: %+v, bar hidden %v, %q", before, hidden, label)
	if before.Kept < 100 || hidden || before.Behind > 10 {
		t.Fatalf("the page at the live edge: %+v, rewind bar hidden %v", before, hidden)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.onairRewind(60), true`)); err != nil {
		t.Fatal(err)
	}
	frames0, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`window.onairFrames()`))
	deadline := time.Now().Add(20 * time.Second)
	var after dvrState
	var sought float64
	for time.Now().Before(deadline) {
		after, _, label = read()
		if sought == 0 && after.Behind > 50 {
			sought = after.Time
		}
		if sought > 0 && after.Time > sought+3 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	frames1, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`window.onairFrames()`))
	t.Logf("after seeking back: %+v, %q, frames %d → %d", after, label, frames0, frames1)
	if sought == 0 || after.Time < sought+3 || after.Paused {
		t.Fatalf("hls.js did not play 60 s back: %+v (the seek landed at %.1f)", after, sought)
	}
	if after.Behind < 55 || after.Behind > 70 {
		t.Errorf("the picture is %.1f s behind live, want about 60", after.Behind)
	}
	if frames1 < frames0+60 {
		t.Errorf("only %d frames decoded after the seek", frames1-frames0)
	}
	if !strings.Contains(label, "behind live") {
		t.Errorf("the rewind bar says %q", label)
	}
	// A stream without a window (its publisher gone: a few frames from the
	// live edge play) has no rewind bar.
	if _, err := chromedp.Run(ctx, chromedp.Navigate(s.HTTPURL()+"/watch/"+plain.ID)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`window.onairFrames ? window.onairFrames() : 0`)); n >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watch page of the stream without a window played nothing")
		}
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // the bar is updated each second
	if hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("dvr").hidden`)); err != nil || !hidden {
		t.Errorf("the watch page of a stream without a window shows the rewind bar (%v)", err)
	}
	// With ONAIR_WATCH_SCREENSHOT set, the page is saved there
	// (docs/screenshots/watch-rewind.png).
	if out := os.Getenv("ONAIR_WATCH_SCREENSHOT"); out != "" {
		framesIn(ctx, t, s.HTTPURL()+"/watch/"+dvr.ID, 30*time.Second)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.onairRewind(60), true`)); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(1000, 720)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
