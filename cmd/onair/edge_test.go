package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onair-studio/onair/engine/mediatest"
)

// startNginxEdge runs Debian's nginx with packaging/edge/nginx-onair.conf in
// front of origin (host:port) and returns the edge's address.
func startNginxEdge(t *testing.T, origin string) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/nginx"); e != nil {
			t.Fatalf("this test needs nginx (apt-get install nginx-light): %v", err)
		}
		bin = "/usr/sbin/nginx"
	}
	site, err := os.ReadFile("../../packaging/edge/nginx-onair.conf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr := freePort(t)
	conf := strings.NewReplacer("CACHE_DIR", filepath.Join(dir, "cache"), "ORIGIN", origin, "LISTEN", addr).Replace(string(site))
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	user := "" // workers as the test's user: the test's folders are its own
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	main := fmt.Sprintf(`daemon off;
%[2]s
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  include %[1]s/site.conf;
}
`, dir, user)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	return runEdge(t, "nginx", addr, exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf")),
		func() string { b, _ := os.ReadFile(filepath.Join(dir, "error.log")); return string(b) })
}

// runEdge starts an edge's process (in its own process group: the
// workers hold the output too, and all end with the test), shows its
// output and log when the test fails, and returns addr once it answers.
func runEdge(t *testing.T, name, addr string, cmd *exec.Cmd, log func() string) string {
	t.Helper()
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s: %s\n%s", name, out.String(), log())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start: %v\n%s", name, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startVarnishEdge runs Debian's varnishd with packaging/edge's VCL in
// front of origin (host:port) and returns the edge's address.
func startVarnishEdge(t *testing.T, origin string) string {
	t.Helper()
	bin, err := exec.LookPath("varnishd")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/varnishd"); e != nil {
			t.Fatalf("this test needs Varnish (apt-get install varnish): %v", err)
		}
		bin = "/usr/sbin/varnishd"
	}
	vcl, err := os.ReadFile("../../packaging/edge/varnish-onair.vcl")
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(origin, ":")
	dir := t.TempDir()
	conf := strings.NewReplacer("ORIGIN_HOST", host, "ORIGIN_PORT", port).Replace(string(vcl))
	if err := os.WriteFile(filepath.Join(dir, "onair.vcl"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	// -F: in the foreground; -j none: no switch to Varnish's own user (the
	// test's folders are the test user's); a small cache in memory.
	return runEdge(t, "varnishd", addr, exec.Command(bin, "-F", "-j", "none", "-a", addr, "-f", filepath.Join(dir, "onair.vcl"),
		"-n", filepath.Join(dir, "work"), "-s", "malloc,256m"), func() string { return "" })
}

// llRecord is what one client saw: when it fetched each part, and how
// many playlists it asked for.
type llRecord struct {
	got       map[string]time.Time
	playlists int
}

func newRecord() *llRecord { return &llRecord{got: map[string]time.Time{}} }

var (
	partRE = regexp.MustCompile(`#EXT-X-PART:[^\n]*URI="([^"]+)"`)
	hintRE = regexp.MustCompile(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="[^"]*_part(\d+)_(\d+)\.mp4"`)
)

// llClient follows a stream's LL-HLS playlist through base with blocking
// reloads until stop, fetching every part the playlists list after its
// first; it returns the parts it fetched and those it saw listed. When
// rec is set, it records when each part was fetched and counts the
// playlist requests.
func llClient(base string, stop time.Time, rec ...*llRecord) (fetched, listed map[string]bool, err error) {
	fetched, listed = map[string]bool{}, map[string]bool{}
	client := &http.Client{Timeout: 15 * time.Second}
	get := func(u string) ([]byte, error) {
		resp, err := client.Get(u)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %d", u, resp.StatusCode)
		}
		return b, err
	}
	url := base + "/stream.m3u8"
	first := true
	for time.Now().Before(stop) {
		if len(rec) > 0 {
			rec[0].playlists++
		}
		pl, err := get(url)
		if err != nil {
			return fetched, listed, err
		}
		for _, m := range partRE.FindAllSubmatch(pl, -1) {
			name := string(m[1])
			if first {
				fetched[name] = false // there before this client: not its to fetch
				continue
			}
			if old, seen := fetched[name]; seen && !old {
				continue // listed in its first playlist: not this client's
			}
			listed[name] = true
			if _, done := fetched[name]; !done {
				if _, err := get(base + "/" + name); err != nil {
					return fetched, listed, err
				}
				fetched[name] = true
				if len(rec) > 0 {
					rec[0].got[name] = time.Now()
				}
			}
		}
		first = false
		h := hintRE.FindSubmatch(pl)
		if h == nil {
			return fetched, listed, fmt.Errorf("no preload hint in:\n%s", pl)
		}
		msn, _ := strconv.Atoi(string(h[1]))
		part, _ := strconv.Atoi(string(h[2]))
		url = fmt.Sprintf("%s/stream.m3u8?_HLS_msn=%d&_HLS_part=%d", base, msn, part)
	}
	return fetched, listed, nil
}

// originCounts reads the studio's HLS requests by kind from /metrics.
func originCounts(t *testing.T, p *proc) map[string]float64 {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.httpAddr+"/metrics", nil)
	req.SetBasicAuth(testKey, testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "onair_stream_hls_requests_by_kind_total{") {
			continue
		}
		_, kind, _ := strings.Cut(line, `kind="`)
		kind, _, _ = strings.Cut(kind, `"`)
		v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		out[kind] += v
	}
	return out
}

// The edge tests' load: 20 clients for 20 s in make test; the figures in
// docs/PERFORMANCE.md come from -edge-clients 200 -edge-time 60s.
var (
	edgeClients = flag.Int("edge-clients", 20, "LL-HLS clients through the edge in TestThroughNginx and TestThroughVarnish")
	edgeTime    = flag.Duration("edge-time", 20*time.Second, "how long the clients follow the stream through the edge")
)

// TestThroughNginx: LL-HLS clients follow a live stream through nginx
// with packaging/edge's site: none misses a part, and the studio serves
// each part about once for all of them (nginx collapses their blocking
// reloads and part requests).
//
// nginx's waiting requests look at the cache every 500 ms (its lock wait
// is a fixed timer), so a part reaches them up to half a second after the
// first: the bound is 600 ms here, and the README says to prefer Varnish
// for low latency.
func TestThroughNginx(t *testing.T) { throughEdge(t, "nginx", startNginxEdge, 600*time.Millisecond) }

// TestThroughVarnish: the same through Varnish with packaging/edge's VCL
// (its waiting list collapses concurrent misses).
func TestThroughVarnish(t *testing.T) {
	throughEdge(t, "varnish", startVarnishEdge, 150*time.Millisecond)
}

// throughEdge runs the edge in front of a live studio: -edge-clients
// clients follow blocking reloads through it for -edge-time, one more
// goes straight to the studio. None misses a part; the origin serves each
// part and each blocking playlist at most about twice; a part reaches the
// clients through the edge at most lag (p95) after the direct client.
func throughEdge(t *testing.T, name string, start func(*testing.T, string) string, lag time.Duration) {
	p := startServe(t, t.TempDir(), "", "")
	edge := start(t, p.httpAddr)
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}})
	pub := mediatest.Publish(t, mediatest.Preview.Path(t), "rtmp://"+p.rtmpAddr+"/live/"+st.Input.StreamKey, true)
	t.Cleanup(pub.Stop)
	mediaPlaylist(t, st.hlsURI(), 20*time.Second) // live at the origin
	before := originCounts(t, p)

	clients := *edgeClients
	stop := time.Now().Add(*edgeTime)
	var mu sync.Mutex
	all := map[string]bool{}
	direct := newRecord()
	var received []*llRecord // per client through the edge
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, _, err := llClient("http://"+p.httpAddr+"/hls/"+st.ID, stop.Add(2*time.Second), direct); err != nil {
			t.Errorf("the direct client: %v", err)
		}
	})
	for range clients {
		wg.Go(func() {
			at := newRecord()
			fetched, listed, err := llClient("http://"+edge+"/hls/"+st.ID, stop, at)
			if err != nil {
				t.Errorf("a client through %s: %v", name, err)
				return
			}
			missed := 0
			for part := range listed {
				if !fetched[part] {
					missed++
				}
			}
			if missed > 0 || len(listed) < 40 {
				t.Errorf("a client through %s: %d parts listed, %d missed", name, len(listed), missed)
			}
			mu.Lock()
			for part := range at.got {
				all[part] = true
			}
			received = append(received, at)
			mu.Unlock()
		})
	}
	wg.Wait()
	// How much later than the direct client each part reached a client
	// through the edge (parts both fetched).
	var delays []time.Duration
	for _, at := range received {
		for part, when := range at.got {
			if d, ok := direct.got[part]; ok {
				delays = append(delays, when.Sub(d))
			}
		}
	}
	slices.Sort(delays)
	if len(delays) < 40 {
		t.Fatalf("only %d parts fetched both directly and through %s", len(delays), name)
	}
	p50, p95 := delays[len(delays)/2], delays[len(delays)*95/100]
	t.Logf("a part reached the clients through %s %v later than the direct client at the median, %v at p95", name, p50.Round(time.Millisecond), p95.Round(time.Millisecond))
	if p95 > lag {
		t.Errorf("parts through %s are %v (p95) later than direct: more than %v", name, p95, lag)
	}
	after := originCounts(t, p)
	// What the edge asked for: all the origin served but the direct client's.
	parts := after["part"] - before["part"] - float64(len(direct.got))
	blocking := after["blocking_playlist"] - before["blocking_playlist"] - float64(direct.playlists)
	t.Logf("%d clients through %s for %v, %d distinct parts: the origin served %.0f part requests and %.0f blocking playlists",
		clients, name, *edgeTime, len(all), parts, blocking)
	if parts > 2*float64(len(all))+5 {
		t.Errorf("the origin served %.0f part requests for %d parts: the edge does not collapse them", parts, len(all))
	}
	if blocking > 3*float64(len(all))+10 {
		t.Errorf("the origin served %.0f blocking playlists for %d parts: the edge does not collapse them", blocking, len(all))
	}
}

// TestPublicPlaybackAddress: the public playback address set over the API
// is the HLS output's uri at once, and that uri plays through the edge it
// names; a wrong one is refused by name; --public-url overrides the saved
// one for a run without saving it.
func TestPublicPlaybackAddress(t *testing.T) {
	data := t.TempDir()
	p := startServe(t, data, "", "")
	edge := startNginxEdge(t, p.httpAddr)
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}})
	if !strings.HasPrefix(st.hlsURI(), "http://"+p.httpAddr+"/hls/") {
		t.Fatalf("uri before: %s", st.hlsURI())
	}
	var set struct {
		PublicURL string `json:"public_url"`
	}
	if code, msg := p.call("PATCH", "/settings", map[string]any{"public_url": "http://" + edge + "/"}, &set); code != 200 || set.PublicURL != "http://"+edge+"/" {
		t.Fatalf("PATCH public_url: %d %s %+v", code, msg, set)
	}
	uri := p.get(st.ID).hlsURI()
	if uri != "http://"+edge+"/hls/"+st.ID+"/index.m3u8" {
		t.Fatalf("uri after: %s", uri)
	}
	pub := mediatest.Publish(t, mediatest.Preview.Path(t), "rtmp://"+p.rtmpAddr+"/live/"+st.Input.StreamKey, true)
	t.Cleanup(pub.Stop)
	before := originCounts(t, p)
	mediaPlaylist(t, uri, 20*time.Second) // through the edge
	if after := originCounts(t, p); after["multivariant"] <= before["multivariant"] {
		t.Fatal("the playlist did not come from the studio through the edge")
	}
	if code, msg := p.call("PATCH", "/settings", map[string]any{"public_url": "cdn.example.com"}, nil); code != 400 || !strings.HasPrefix(msg, "public_url") {
		t.Fatalf("a public_url without a scheme: %d %q", code, msg)
	}
	pub.Stop()
	p.stop()

	p = startServe(t, data, "", "", "--public-url", "https://cdn.example.com")
	if uri := p.get(st.ID).hlsURI(); uri != "https://cdn.example.com/hls/"+st.ID+"/index.m3u8" {
		t.Fatalf("uri with --public-url: %s", uri)
	}
	if _, _ = p.call("GET", "/settings", nil, &set); set.PublicURL != "http://"+edge+"/" {
		t.Fatalf("--public-url changed the saved address: %q", set.PublicURL)
	}
}

// TestWatchThroughVarnish: the watch page (hls.js, low-latency mode) in
// Chromium plays a live stream straight from the studio and through a
// Varnish edge; the picture is behind live by about as much either way
// (within 1 s: an edge that kept playlists would put hls.js a segment,
// 2 s, or more behind; two players on two busy cores differ by up to
// ~0.6 s on their own), measured as the clock minus the frame's program
// date-time. Both pages play at once, in two tabs, and are sampled in
// turn, so that a busy machine slows both alike.
func TestWatchThroughVarnish(t *testing.T) {
	s, st := previewStudio(t, mediatest.Preview)
	edge := startVarnishEdge(t, strings.TrimPrefix(s.HTTPURL(), "http://"))
	ctx := chromium(t)
	framesIn(ctx, t, s.HTTPURL()+"/watch/"+st.ID, 30*time.Second) // the stream is well under way
	edgeTab, closeTab := chromedp.NewContext(ctx)
	defer closeTab()
	framesIn(edgeTab, t, "http://"+edge+"/watch/"+st.ID, 30*time.Second)
	m := watchLatencies(t, ctx, edgeTab)
	direct, through := m[0], m[1]
	t.Logf("hls.js behind live: %.2f s from the studio, %.2f s through Varnish (medians)", direct, through)
	if through-direct > 1.0 {
		t.Errorf("through Varnish the picture is %.2f s behind live, %.2f s more than straight from the studio", through, through-direct)
	}
}

// watchLatencies samples playing watch pages in turn over 10 s and
// returns the medians of how far behind live each picture is.
func watchLatencies(t *testing.T, tabs ...context.Context) []float64 {
	t.Helper()
	samples := make([][]float64, len(tabs))
	for range 20 {
		time.Sleep(500 * time.Millisecond)
		for i, tab := range tabs {
			v, err := chromedp.Run(tab, chromedp.Evaluate[float64](`Promise.resolve(window.onairLatency() || -1)`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("reading the latency: %v", err)
			}
			if v > 0 {
				samples[i] = append(samples[i], v)
			}
		}
	}
	medians := make([]float64, len(tabs))
	for i, s := range samples {
		if len(s) < 10 {
			t.Fatalf("the latency was known %d times of 20", len(s))
		}
		slices.Sort(s)
		medians[i] = s[len(s)/2]
	}
	return medians
}
