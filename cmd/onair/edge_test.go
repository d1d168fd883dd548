package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// nginx's workers hold the output too: the whole group is ended, and
	// Wait does not wait on them for long.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx: %s\n%s", out.String(), b)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not start: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var (
	partRE = regexp.MustCompile(`#EXT-X-PART:[^\n]*URI="([^"]+)"`)
	hintRE = regexp.MustCompile(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="[^"]*_part(\d+)_(\d+)\.mp4"`)
)

// llClient follows a stream's LL-HLS playlist through base with blocking
// reloads until stop, fetching every part the playlists list after its
// first; it returns the parts it fetched and those it saw listed.
func llClient(base string, stop time.Time) (fetched, listed map[string]bool, err error) {
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

// TestThroughNginx: 20 LL-HLS clients follow a live stream through nginx
// with packaging/edge's site for 20 s: none misses a part, and the studio
// serves each part about once for all of them (nginx collapses their
// blocking reloads and part requests).
func TestThroughNginx(t *testing.T) {
	p := startServe(t, t.TempDir(), "", "")
	edge := startNginxEdge(t, p.httpAddr)
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}})
	pub := mediatest.Publish(t, mediatest.Preview.Path(t), "rtmp://"+p.rtmpAddr+"/live/"+st.Input.StreamKey, true)
	t.Cleanup(pub.Stop)
	mediaPlaylist(t, st.hlsURI(), 20*time.Second) // live at the origin
	before := originCounts(t, p)

	const clients = 20
	stop := time.Now().Add(20 * time.Second)
	base := "http://" + edge + "/hls/" + st.ID
	var mu sync.Mutex
	all := map[string]bool{}
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			fetched, listed, err := llClient(base, stop)
			if err != nil {
				t.Errorf("a client through nginx: %v", err)
				return
			}
			missed := 0
			for name := range listed {
				if !fetched[name] {
					missed++
				}
			}
			if missed > 0 || len(listed) < 40 {
				t.Errorf("a client through nginx: %d parts listed, %d missed", len(listed), missed)
			}
			mu.Lock()
			for name := range listed {
				all[name] = true
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	after := originCounts(t, p)
	parts := after["part"] - before["part"]
	blocking := after["blocking_playlist"] - before["blocking_playlist"]
	t.Logf("%d clients through nginx, %d distinct parts: the origin served %.0f part requests and %.0f blocking playlists",
		clients, len(all), parts, blocking)
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
