package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/onair-studio/onair/engine/mediatest"
)

// variantPlaylists reads the multivariant playlist at uri and returns its
// variants, tallest first.
func variantPlaylists(t *testing.T, uri string) []*playlist.MultivariantVariant {
	t.Helper()
	code, body := httpGet(t, uri, 10*time.Second)
	if code != 200 {
		t.Fatalf("the multivariant playlist: %d %s", code, body)
	}
	pl, err := playlist.Unmarshal(body)
	if err != nil {
		t.Fatalf("reading the multivariant playlist: %v\n%s", err, body)
	}
	mv, ok := pl.(*playlist.Multivariant)
	if !ok {
		t.Fatalf("not a multivariant playlist:\n%s", body)
	}
	vs := slices.Clone(mv.Variants)
	slices.SortFunc(vs, func(a, b *playlist.MultivariantVariant) int { return b.Bandwidth - a.Bandwidth })
	return vs
}

// variantFiles fetches a variant's media playlist and writes its init
// section followed by each complete segment into a file of its own;
// it returns the files in order, keyed by the segments' media sequence.
func variantFiles(t *testing.T, base, name, dir string) map[int]string {
	t.Helper()
	code, body := httpGet(t, base+name, 10*time.Second)
	if code != 200 {
		t.Fatalf("%s: %d %s", name, code, body)
	}
	pl, err := playlist.Unmarshal(body)
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	media, ok := pl.(*playlist.Media)
	if !ok || media.Map == nil {
		t.Fatalf("%s is not an fMP4 media playlist:\n%s", name, body)
	}
	code, init := httpGet(t, base+media.Map.URI, 10*time.Second)
	if code != 200 {
		t.Fatalf("%s's init: %d", name, code)
	}
	files := map[int]string{}
	for i, seg := range media.Segments {
		code, b := httpGet(t, base+seg.URI, 10*time.Second)
		if code == 404 && len(files) == 0 {
			continue // the oldest left the playlist since it was read
		}
		if code != 200 {
			t.Fatalf("%s: %d", seg.URI, code)
		}
		f := filepath.Join(dir, strings.TrimSuffix(name, ".m3u8")+"-"+strconv.Itoa(media.MediaSequence+i)+".mp4")
		if err := os.WriteFile(f, append(slices.Clone(init), b...), 0o644); err != nil {
			t.Fatal(err)
		}
		files[media.MediaSequence+i] = f
	}
	return files
}

// firstPTS is the presentation time of a file's first video packet.
func firstPTS(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
		"-show_entries", "packet=pts_time", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return strings.TrimSpace(string(bytes.SplitN(out, []byte("\n"), 2)[0]))
}

// TestRenditions (issue 25, must-shows 1 and 2): ffmpeg publishes the
// 720p30 clip to an HLS output with renditions 480p and 360p. The
// multivariant playlist lists three variants with BANDWIDTH, RESOLUTION
// and CODECS; each variant's segments decode at its size without errors;
// the segments begin at the same times in every variant (key frames
// aligned). Then the transcoder is killed: the source's playlist keeps
// its cadence, the output reports errored then broadcasting, and the
// renditions' playlists move again within 5 s.
func TestRenditions(t *testing.T) {
	mediatest.RequireTools(t)
	clip := mediatest.Standard.Path(t)
	p := startServe(t, t.TempDir(), "", "")
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}})
	hlsID := ""
	for _, o := range st.Outputs {
		if o.Type == "hls" {
			hlsID = o.ID
		}
	}
	var out struct {
		Renditions []struct {
			Height  int `json:"height"`
			Bitrate int `json:"bitrate"`
		} `json:"renditions"`
	}
	body := map[string]any{"renditions": []map[string]int{{"height": 360, "bitrate": 600_000}, {"height": 480, "bitrate": 1_200_000}}}
	if code, msg := p.call("PATCH", "/live_streams/"+st.ID+"/outputs/"+hlsID, body, &out); code != 200 || len(out.Renditions) != 2 || out.Renditions[0].Height != 480 {
		t.Fatalf("PATCH renditions: %d %s %+v (want them tallest first)", code, msg, out)
	}
	bad := map[string]any{"renditions": []map[string]int{{"height": 481, "bitrate": 600_000}}}
	if code, msg := p.call("PATCH", "/live_streams/"+st.ID+"/outputs/"+hlsID, bad, nil); code != 400 || !strings.Contains(msg, "renditions[0].height") {
		t.Errorf("an odd height: %d %s", code, msg)
	}
	pub := mediatest.Publish(t, clip, "rtmp://"+p.rtmpAddr+"/live/"+st.Input.StreamKey, true)
	t.Cleanup(pub.Stop)
	uri := p.get(st.ID).hlsURI()
	base := uri[:strings.LastIndex(uri, "/")+1]
	mediaPlaylist(t, uri, 30*time.Second)
	time.Sleep(10 * time.Second) // a few segments in every variant

	vs := variantPlaylists(t, uri)
	if len(vs) != 3 {
		t.Fatalf("%d variants; want the source and two renditions", len(vs))
	}
	wantSize := []string{"1280x720", "854x480", "640x360"}
	dir := t.TempDir()
	starts := make([][]string, 3)
	all := make([]map[int]string, 3) // fetched together, checked afterwards (checking takes a while)
	for i, v := range vs {
		all[i] = variantFiles(t, base, v.URI, dir)
	}
	for i, v := range vs {
		t.Logf("variant %s: BANDWIDTH %d, RESOLUTION %s, CODECS %v", v.URI, v.Bandwidth, v.Resolution, v.Codecs)
		if v.Resolution != wantSize[i] || v.Bandwidth < 100_000 || len(v.Codecs) != 2 || !strings.HasPrefix(v.Codecs[0], "avc1.") {
			t.Errorf("variant %d: %s %d %v; want %s with its bandwidth and codecs", i, v.Resolution, v.Bandwidth, v.Codecs, wantSize[i])
		}
		files := all[i]
		if len(files) < 3 {
			t.Fatalf("%s has %d segments", v.URI, len(files))
		}
		keys := slices.Sorted(func(yield func(int) bool) {
			for k := range files {
				if !yield(k) {
					return
				}
			}
		})
		w, h := mediatest.ProbeFile(t, files[keys[len(keys)-1]]).VideoSize()
		if strconv.Itoa(w)+"x"+strconv.Itoa(h) != wantSize[i] {
			t.Errorf("%s decodes at %dx%d; want %s", v.URI, w, h, wantSize[i])
		}
		for _, k := range keys {
			if errs := mediatest.DecodeErrors(t, files[k]); errs != "" {
				t.Errorf("%s segment %d: %s", v.URI, k, errs)
			}
			starts[i] = append(starts[i], firstPTS(t, files[k]))
		}
	}
	// The renditions' segments start where the source's do: within the
	// time both playlists cover (they were fetched one after the other),
	// every start of a rendition is one of the source's, and at least
	// three are shared.
	t.Logf("segment starts: %v", starts)
	secs := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	first, last := secs(starts[0][0]), secs(starts[0][len(starts[0])-1])
	for i := 1; i < 3; i++ {
		shared := 0
		for _, s := range starts[i] {
			if v := secs(s); v < first || v > last {
				continue
			}
			if !slices.Contains(starts[0], s) {
				t.Errorf("%s has a segment starting at %s, where the source has none (%v)", vs[i].URI, s, starts[0])
			} else {
				shared++
			}
		}
		if shared < 3 {
			t.Errorf("%s shares %d segment starts with the source; want 3 or more", vs[i].URI, shared)
		}
	}

	// The transcoder killed.
	pids := mediatest.FFmpegsOf(t, p.cmd.Process.Pid, "filter_complex")
	if len(pids) != 1 {
		t.Fatalf("%d transcoding FFmpegs; want 1", len(pids))
	}
	_, rend := httpGet(t, base+vs[1].URI, 10*time.Second)
	lastRend, stopped := time.Now(), false
	killed := time.Now()
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	sawErrored := false
	var back time.Duration
	lastSource, srcBefore := time.Now(), ""
	var worstGap time.Duration
	for time.Since(killed) < 15*time.Second {
		for _, o := range p.get(st.ID).Outputs {
			if o.ID == hlsID && o.Status == "errored" {
				sawErrored = true
			}
		}
		if _, src := httpGet(t, base+vs[0].URI, 5*time.Second); string(src) != srcBefore {
			worstGap = max(worstGap, time.Since(lastSource))
			lastSource, srcBefore = time.Now(), string(src)
		}
		if back == 0 { // the 480p playlist stopped (a second without a change), then moved again
			if _, now := httpGet(t, base+vs[1].URI, 5*time.Second); string(now) != string(rend) {
				if stopped {
					back = time.Since(killed)
				}
				rend, lastRend = now, time.Now()
			} else if time.Since(lastRend) > time.Second {
				stopped = true
			}
		}
		if sawErrored && back > 0 && p.outputStatus(st.ID, hlsID) == "broadcasting" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("after the kill: errored seen %v, the 480p playlist moving again after %v, the source's playlist's longest pause %v", sawErrored, back, worstGap)
	if !sawErrored {
		t.Error("the output did not report errored while the renditions were down")
	}
	if back == 0 || back > 5*time.Second {
		t.Errorf("the renditions came back after %v; want within 5 s", back)
	}
	if s := p.outputStatus(st.ID, hlsID); s != "broadcasting" {
		t.Errorf("the output is %s after the renditions came back; want broadcasting", s)
	}
	if worstGap > time.Second {
		t.Errorf("the source's playlist paused %v while the renditions were down", worstGap)
	}
}

// outputStatus is the status of output id of stream sid.
func (p *proc) outputStatus(sid, id string) string {
	for _, o := range p.get(sid).Outputs {
		if o.ID == id {
			return o.Status
		}
	}
	return ""
}

// throttle limits the page's downloads to bytesPerSec (DevTools network
// conditions, every request).
func throttle(bytesPerSec float64) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return chromedp.Void{}, err
		}
		_, err := cdp.Call(ctx, tg, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Latency: 20, DownloadThroughput: bytesPerSec, UploadThroughput: -1}},
		})
		return chromedp.Void{}, err
	}
}

// unthrottle ends throttle's network conditions.
func unthrottle() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{},
		})
		return chromedp.Void{}, err
	}
}

// TestRenditionsInThrottledChromium (issue 25, must-show 1): the watch
// page's hls.js, in Chromium with downloads throttled to 1 Mbit/s,
// settles on a rendition below the 720p source (2.7 Mbit/s) and plays it
// without stalling.
func TestRenditionsInThrottledChromium(t *testing.T) {
	mediatest.RequireTools(t)
	clip := mediatest.Standard.Path(t)
	p := startServe(t, t.TempDir(), "", "")
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}})
	for _, o := range st.Outputs {
		if o.Type == "hls" {
			body := map[string]any{"renditions": []map[string]int{{"height": 480, "bitrate": 1_200_000}, {"height": 270, "bitrate": 350_000}}}
			if code, msg := p.call("PATCH", "/live_streams/"+st.ID+"/outputs/"+o.ID, body, nil); code != 200 {
				t.Fatalf("PATCH renditions: %d %s", code, msg)
			}
		}
	}
	pub := mediatest.Publish(t, clip, "rtmp://"+p.rtmpAddr+"/live/"+st.Input.StreamKey, true)
	t.Cleanup(pub.Stop)
	uri := p.get(st.ID).hlsURI()
	mediaPlaylist(t, uri, 30*time.Second)
	time.Sleep(4 * time.Second) // every variant has segments
	if n := len(variantPlaylists(t, uri)); n != 3 {
		t.Fatalf("%d variants; want 3", n)
	}
	ctx := chromium(t)
	if err := chromedp.Do(ctx, throttle(1_000_000/8)); err != nil {
		t.Fatalf("throttling Chromium: %v", err)
	}
	framesIn(ctx, t, "http://"+p.httpAddr+"/watch/"+st.ID, 40*time.Second)
	type level struct {
		Height   int   `json:"height"`
		Heights  []int `json:"heights"`
		Stalls   int   `json:"stalls"`
		Switches int   `json:"switches"`
	}
	read := func() level {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[level](`window.onairLevel() || {}`))
		if err != nil {
			t.Fatalf("reading hls.js's level: %v", err)
		}
		return v
	}
	time.Sleep(10 * time.Second) // hls.js measures the connection and settles
	settled := read()
	frames := func() int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.onairFrames()`))
		if err != nil {
			t.Fatalf("reading the frames: %v", err)
		}
		return n
	}
	framesBefore := frames()
	time.Sleep(15 * time.Second)
	after := read()
	framesAfter := frames()
	t.Logf("throttled to 1 Mbit/s: playing %dp of %v, %d stalls and %d switches after settling, %d frames in 15 s (then %dp, %d stalls, %d switches)",
		settled.Height, settled.Heights, settled.Stalls, settled.Switches, framesAfter-framesBefore, after.Height, after.Stalls, after.Switches)
	if len(after.Heights) != 3 || after.Height == 0 || after.Height >= 720 {
		t.Errorf("hls.js plays %dp of %v; want a rendition below the 720p source", after.Height, after.Heights)
	}
	if after.Stalls > settled.Stalls {
		t.Errorf("%d stalls while playing the rendition", after.Stalls-settled.Stalls)
	}
	if framesAfter-framesBefore < 15*25 {
		t.Errorf("%d frames decoded in 15 s", framesAfter-framesBefore)
	}
}
