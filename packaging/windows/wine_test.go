//go:build wine

// Package windows tests the Windows build of the studio as a Windows user
// runs it, under Wine (make test-windows): headless streaming, the window,
// and the installer.
package windows

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

// wine is a Wine prefix with the studio's Windows build.
type wine struct {
	t      *testing.T
	prefix string // WINEPREFIX
	exe    string // the studio's .exe (Linux path)
}

func newWine(t *testing.T) *wine {
	t.Helper()
	w := &wine{t: t, prefix: os.Getenv("WINEPREFIX"), exe: os.Getenv("ONAIR_WINDOWS_EXE")}
	if w.prefix == "" || w.exe == "" {
		t.Fatal("make test-windows sets WINEPREFIX (a prefix with the ProcessPrng shim) and ONAIR_WINDOWS_EXE (the studio's .exe)")
	}
	if _, err := exec.LookPath("wine"); err != nil {
		t.Fatalf("wine is required (apt-get install wine wine64): %v", err)
	}
	w.settle() // nothing left from an earlier test
	return w
}

// cmd is a command run by Wine in the prefix, with the DLL override the Go
// runtime needs on Wine 8 (bcryptprimitives' ProcessPrng, from the shim).
func (w *wine) cmd(ctx context.Context, args ...string) *exec.Cmd {
	return w.command(ctx, "wine", args...)
}

// command is a Wine tool (wine, wineserver) run in the prefix.
func (w *wine) command(ctx context.Context, tool string, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, tool, args...)
	// A UTF-8 locale that every Debian has: Wine maps Windows names to Unix
	// ones with the locale's encoding, and its X11 driver needs a locale
	// it can load (make's LANG may name one that is not generated).
	c.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "WINEPREFIX="+w.prefix, "WINEDEBUG=-all",
		"WINEDLLOVERRIDES=bcryptprimitives=n;mscoree,mshtml=", "ONAIR_API_KEY=k", "ONAIR_API_SECRET=s")
	return c
}

// settle waits until Wine's own processes for the prefix (the wineserver,
// the desktop explorer.exe, services) have ended with the last program, and
// ends them after a minute. The next test starts a new desktop with its own
// DISPLAY: one left from a test without a screen would be reused, and a
// window could not be made in it ("Failed to create helper window").
func (w *wine) settle() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.command(ctx, "wineserver", "-w").Run(); err != nil {
		w.t.Logf("Wine's processes had not ended (%v): ending them", err)
		_ = w.command(context.Background(), "wineserver", "-k").Run()
	}
}

// linuxPath is where a C:\ path of the prefix is on this machine.
func (w *wine) linuxPath(winPath string) string {
	rest := strings.ReplaceAll(strings.TrimPrefix(winPath, `C:\`), `\`, "/")
	return filepath.Join(w.prefix, "drive_c", rest)
}

// studio is one run of the Windows studio.
type studio struct {
	w          *wine
	cmd        *exec.Cmd
	out        bytes.Buffer
	done       chan struct{}
	http, rtmp string
}

func freePort(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serve starts `exe serve` with data (a Windows path) on the given ports
// ("" picks free ones) and waits for its API.
func (w *wine) serve(exe, data, httpAddr, rtmpAddr string) *studio {
	w.t.Helper()
	if httpAddr == "" {
		httpAddr, rtmpAddr = freePort(w.t, "tcp"), freePort(w.t, "tcp")
	}
	s := &studio{w: w, http: httpAddr, rtmp: rtmpAddr, done: make(chan struct{})}
	args := []string{exe, "serve", "--http", httpAddr, "--rtmp", rtmpAddr, "--srt", freePort(w.t, "udp")}
	if data != "" { // else the default, %APPDATA%\OnAirStudio
		args = append(args, "--data", data)
	}
	s.cmd = w.cmd(context.Background(), args...)
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		w.t.Fatalf("starting the Windows studio: %v", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	w.t.Cleanup(s.stop)
	deadline := time.Now().Add(90 * time.Second)
	for {
		if code, _ := s.call("GET", "/status", nil, nil); code == 200 {
			return s
		}
		select {
		case <-s.done:
			w.t.Fatalf("the Windows studio exited at start:\n%s", s.out.String())
		case <-time.After(500 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("the Windows studio did not answer within 90 s:\n%s", s.out.String())
		}
	}
}

// stop ends the studio as closing its console would (Wine kills it).
func (s *studio) stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
	<-s.done
	s.w.settle()
}

func (s *studio) api() string { return "http://" + s.http + "/v2/video/local" }

// call makes an API call; out, when not nil, receives the envelope's data.
func (s *studio) call(method, path string, body, out any) (int, string) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.api()+path, r)
	req.SetBasicAuth("k", "s")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c := http.Client{Timeout: 20 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		var env struct{ Data json.RawMessage }
		if json.Unmarshal(b, &env) == nil {
			_ = json.Unmarshal(env.Data, out)
		}
	}
	return resp.StatusCode, string(b)
}

type streamJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Input  struct {
		URI       string `json:"uri"`
		StreamKey string `json:"stream_key"`
	} `json:"input"`
	Outputs []struct {
		Type string `json:"type"`
		URI  string `json:"uri"`
	} `json:"outputs"`
}

type assetJSON struct {
	PublicID string `json:"public_id"`
	Status   string `json:"status"`
	URL      string `json:"url"`
}

func (s *studio) waitFor(what string, d time.Duration, ok func() bool) {
	s.w.t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			s.w.t.Fatalf("%s: not within %v\n%s", what, d, s.out.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// pullSegments fetches the HLS media playlist and every segment it lists,
// again and again until ctx ends, as a player does while the studio deletes
// the oldest; it counts the segments read.
func pullSegments(ctx context.Context, index string, got *atomic.Int64) {
	base := index[:strings.LastIndex(index, "/")+1]
	c := http.Client{Timeout: 5 * time.Second}
	get := func(u string) []byte {
		resp, err := c.Get(u)
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return nil
		}
		return b
	}
	uri := regexp.MustCompile(`(?m)^[^#\s]\S*`)
	for ctx.Err() == nil {
		for _, v := range uri.FindAllString(string(get(index)), -1) {
			for _, seg := range uri.FindAllString(string(get(base+v)), -1) {
				if get(base+seg) != nil {
					got.Add(1)
				}
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// The Windows studio under Wine, headless, as a streamer uses it: a data
// folder whose path has a space and a non-ASCII letter; a stream created
// over the API; ffmpeg publishes 12 s; its HLS decodes while a reader pulls
// the segments the studio is deleting; the recording is ready and decodes;
// after a restart the stream is still there; nothing in the log about
// files in use or access denied; the API says the preview (UDP, which Wine
// 8 cannot set up) is unavailable and why.
func TestWindowsStudioUnderWine(t *testing.T) {
	mediatest.RequireTools(t)
	clip := mediatest.Small.Path(t)
	w := newWine(t)
	data := `C:\users\Public\OnAir Données`
	_ = os.RemoveAll(w.linuxPath(data))
	s := w.serve(w.exe, data, "", "")

	var st streamJSON
	if code, msg := s.call("POST", "/live_streams", map[string]any{"name": "Wine", "input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 2}, &st); code != 201 {
		t.Fatalf("creating a stream: %d %s", code, msg)
	}
	var hls string
	for _, o := range st.Outputs {
		if o.Type == "hls" {
			hls = o.URI
		}
	}
	pub := mediatest.Publish(t, clip, "rtmp://"+s.rtmp+"/live/"+st.Input.StreamKey, false)
	s.waitFor("the stream active", 30*time.Second, func() bool {
		var got streamJSON
		s.call("GET", "/live_streams/"+st.ID, nil, &got)
		return got.Status == "active"
	})
	ctx, cancel := context.WithCancel(context.Background())
	var pulled atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() { pullSegments(ctx, hls, &pulled) })
	s.waitFor("HLS segments", 30*time.Second, func() bool { return pulled.Load() > 0 })
	dctx, dcancel := context.WithTimeout(context.Background(), 40*time.Second)
	dec, err := exec.CommandContext(dctx, "ffmpeg", "-v", "error", "-i", hls, "-t", "4", "-f", "null", "-").CombinedOutput()
	dcancel()
	if err != nil || strings.TrimSpace(string(dec)) != "" {
		t.Errorf("decoding the Windows studio's HLS: %v\n%s", err, dec)
	}
	if err, ok := pub.Wait(40 * time.Second); !ok || err != nil {
		t.Fatalf("ffmpeg: exited %v, %v\n%s", ok, err, pub.Output())
	}
	cancel()
	wg.Wait()
	t.Logf("a reader pulled %d segments while the studio deleted old ones", pulled.Load())

	var asset assetJSON
	s.waitFor("the recording ready", 60*time.Second, func() bool {
		var page struct {
			Items []assetJSON `json:"items"`
		}
		s.call("GET", "/assets?live_stream_id="+st.ID, nil, &page)
		if len(page.Items) == 1 && page.Items[0].Status == "ready" {
			asset = page.Items[0]
			return true
		}
		return false
	})
	rec := filepath.Join(t.TempDir(), "rec.mp4")
	download(t, asset.URL, rec)
	pr := mediatest.ProbeFile(t, rec)
	if got := strings.Join(pr.Codecs(), ","); got != "h264,aac" || pr.Duration < 10 {
		t.Errorf("the recording: %s, %.1f s", got, pr.Duration)
	}
	if errs := mediatest.DecodeErrors(t, rec); errs != "" {
		t.Errorf("decoding the recording: %s", errs)
	}

	var status struct {
		Parts []struct {
			Name   string `json:"name"`
			Up     bool   `json:"up"`
			Reason string `json:"reason"`
		} `json:"parts"`
	}
	s.call("GET", "/status", nil, &status)
	var preview string
	for _, p := range status.Parts {
		if p.Name == "preview" && !p.Up {
			preview = p.Reason
		}
	}
	if preview == "" {
		t.Errorf("the status does not say the preview is unavailable: %+v", status)
	}
	t.Logf("preview under Wine: %s", preview)

	// A restart keeps the stream.
	s.stop()
	s = w.serve(w.exe, data, s.http, s.rtmp)
	if code, msg := s.call("GET", "/live_streams/"+st.ID, nil, nil); code != 200 {
		t.Errorf("after a restart: %d %s", code, msg)
	}
	s.stop()

	logs, _ := os.ReadFile(filepath.Join(w.linuxPath(data), "logs", "onair.log"))
	if len(logs) == 0 {
		t.Errorf("no log in %s", w.linuxPath(data))
	}
	for _, bad := range []string{"sharing violation", "Access is denied", "being used by another process", "panic"} {
		if strings.Contains(string(logs)+s.out.String(), bad) {
			t.Errorf("the log says %q:\n%s", bad, logs)
		}
	}
}

func download(t *testing.T, url, to string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.SetBasicAuth("k", "s")
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("downloading %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("downloading %s: %s", url, resp.Status)
	}
	f, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
}

// windowTitled waits until the screen has a window with title and returns
// its id (xwininfo).
func windowTitled(t *testing.T, display, title string, d time.Duration, s *studio) string {
	t.Helper()
	re := regexp.MustCompile(`(0x[0-9a-f]+) "` + regexp.QuoteMeta(title) + `"`)
	deadline := time.Now().Add(d)
	for {
		c := exec.Command("xwininfo", "-root", "-tree")
		c.Env = append(os.Environ(), "DISPLAY="+display)
		out, err := c.Output()
		if err != nil {
			t.Fatalf("xwininfo (apt-get install x11-utils): %v", err)
		}
		if m := re.FindSubmatch(out); m != nil {
			return string(m[1])
		}
		if time.Now().After(deadline) {
			t.Fatalf("no window %q within %v:\n%s\n%s", title, d, out, s.out.String())
		}
		time.Sleep(time.Second)
	}
}

// The Windows build's window opens under Wine: a window titled as the
// studio's shows on the screen while its API serves. With
// ONAIR_WINDOWS_SCREENSHOT set, the screen is saved there (docs/screenshots
// keeps one).
func TestWindowsWindowUnderWine(t *testing.T) {
	w := newWine(t)
	display, _ := mediatest.Xvfb(t, "1280x900x24")
	data := `C:\users\Public\OnAir Window`
	_ = os.RemoveAll(w.linuxPath(data))
	s := &studio{w: w, http: freePort(t, "tcp"), rtmp: freePort(t, "tcp"), done: make(chan struct{})}
	s.cmd = w.cmd(context.Background(), w.exe, "--data", data, "--http", s.http, "--rtmp", s.rtmp, "--srt", "off")
	s.cmd.Env = append(s.cmd.Env, "DISPLAY="+display)
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.stop)
	s.waitFor("the API of the studio with its window", 90*time.Second, func() bool { code, _ := s.call("GET", "/status", nil, nil); return code == 200 })
	for _, name := range []string{"Morning show", "Evening show"} {
		if code, msg := s.call("POST", "/live_streams", map[string]any{"name": name, "input": map[string]any{"type": "rtmp"}}, nil); code != 201 {
			t.Fatalf("creating a stream: %d %s", code, msg)
		}
	}
	id := windowTitled(t, display, "OnAir Studio", 60*time.Second, s)
	t.Logf("the studio's window: %s", id)
	// The window is made first and the studio's page put in it once it is
	// up (ui.Run); the studio says so in its log (a GUI program's standard
	// error goes nowhere on Windows: the log file).
	s.waitFor("the studio's page in its window", 30*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(w.linuxPath(data), "logs", "onair.log"))
		return strings.Contains(string(b), "the window shows the studio")
	})
	if out := os.Getenv("ONAIR_WINDOWS_SCREENSHOT"); out != "" {
		time.Sleep(5 * time.Second) // the list shows the streams created
		c := exec.Command("import", "-window", "root", out)
		c.Env = append(os.Environ(), "DISPLAY="+display)
		if b, err := c.CombinedOutput(); err != nil {
			t.Errorf("screenshot: %v %s", err, b)
		}
	}
}

// findFile returns the paths under root named name.
func findFile(root, name string) []string {
	var found []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == name {
			found = append(found, p)
		}
		return nil
	})
	return found
}

// The installer as a user runs it, silently: it installs the studio, the
// installed studio starts and serves with its default data folder, and the
// uninstaller removes the program and keeps the data folder (the user's
// streams, keys and recordings) since it was not asked to remove it.
func TestWindowsInstallerUnderWine(t *testing.T) {
	w := newWine(t)
	setup := os.Getenv("ONAIR_WINDOWS_SETUP")
	if setup == "" {
		t.Fatal("make test-windows sets ONAIR_WINDOWS_SETUP (the NSIS installer)")
	}
	drive := filepath.Join(w.prefix, "drive_c")
	for _, old := range findFile(drive, "OnAir Studio.exe") {
		_ = os.RemoveAll(filepath.Dir(old))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := w.cmd(ctx, setup, "/S").CombinedOutput(); err != nil {
		t.Fatalf("the installer: %v\n%s", err, out)
	}
	w.settle()
	installed := findFile(drive, "OnAir Studio.exe")
	if len(installed) != 1 {
		t.Fatalf("installed %d copies of the studio: %v", len(installed), installed)
	}
	dir := filepath.Dir(installed[0])
	t.Logf("installed in %s", strings.TrimPrefix(dir, drive))
	if len(findFile(dir, "Uninstall.exe")) != 1 {
		t.Fatalf("no uninstaller in %s", dir)
	}

	// The installed studio starts, with the default data folder.
	s := w.serve(installed[0], "", "", "")
	var st streamJSON
	if code, msg := s.call("POST", "/live_streams", map[string]any{"name": "Installed", "input": map[string]any{"type": "rtmp"}}, &st); code != 201 {
		t.Fatalf("the installed studio: %d %s", code, msg)
	}
	s.stop()
	stores := findFile(drive, "onair.db")
	var data string
	for _, p := range stores {
		if strings.Contains(p, "OnAirStudio") {
			data = filepath.Dir(p)
		}
	}
	if data == "" {
		t.Fatalf("no store in the default data folder (%%APPDATA%%\\OnAirStudio): %v", stores)
	}

	if out, err := w.cmd(ctx, filepath.Join(dir, "Uninstall.exe"), "/S").CombinedOutput(); err != nil {
		t.Fatalf("the uninstaller: %v\n%s", err, out)
	}
	w.settle()
	deadline := time.Now().Add(30 * time.Second)
	for len(findFile(drive, "OnAir Studio.exe")) > 0 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond) // NSIS's uninstaller runs from a copy of itself
	}
	if left := findFile(drive, "OnAir Studio.exe"); len(left) > 0 {
		t.Errorf("the uninstaller left the program: %v", left)
	}
	if _, err := os.Stat(filepath.Join(data, "onair.db")); err != nil {
		t.Errorf("the uninstaller removed the user's data: %v", err)
	}
}
