package ui

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/api"
	"github.com/onair-studio/onair/api/playback"
	"github.com/onair-studio/onair/assets"
	"github.com/onair-studio/onair/engine"
	"github.com/onair-studio/onair/engine/ingest"
	"github.com/onair-studio/onair/engine/library"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/obs"
	"github.com/onair-studio/onair/engine/output"
	"github.com/onair-studio/onair/engine/output/archive"
	"github.com/onair-studio/onair/engine/output/hls"
	"github.com/onair-studio/onair/engine/output/simulcast"
	"github.com/onair-studio/onair/engine/preview"
	"github.com/onair-studio/onair/engine/webhook"
	"github.com/onair-studio/onair/store"
	"github.com/onair-studio/onair/ui/player"
)

// testStudio keeps the API credentials and settings in the real store, as
// the command's studio does.
type testStudio struct {
	mu      sync.Mutex
	st      *store.Store
	key     string
	secret  string
	rtmp    string
	http    string
	dir     string
	lib     *library.Library
	eng     *engine.Service
	preview *preview.Server
	hooks   *webhook.Dispatcher
	obs     livestream.OBSSettings // under mu
}

func (s *testStudio) Library() Library { return s.lib }

func (s *testStudio) OBS() OBS { return &testOBS{s: s} }

func (s *testStudio) Webhooks() Webhooks {
	if s.hooks == nil {
		return nil
	}
	return s.hooks
}

func (s *testStudio) Preview() Preview {
	if s.preview == nil {
		return nil
	}
	return testPreview{s}
}

// testPreview reaches the preview over the test's HTTP server, as the
// command's window does.
type testPreview struct{ s *testStudio }

func (p testPreview) Client(id string) player.Client {
	key, secret := p.s.Credentials()
	return player.Client{URL: p.s.http + "/v2/video/local/live_streams/" + id + "/whep", Username: key, Password: secret}
}

func (p testPreview) PageURL(id string) (string, error) {
	_, secret := p.s.Credentials()
	tok, _ := api.NewPreviewToken(secret, id, time.Now())
	return p.s.http + "/preview/" + id + "#token=" + tok, nil
}

// testOBS drives a real OBS through engine/obs, as the command does.
type testOBS struct{ s *testStudio }

func (o *testOBS) Settings() livestream.OBSSettings {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	return o.s.obs
}

func (o *testOBS) SaveSettings(set livestream.OBSSettings) error {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	o.s.obs = set
	return nil
}

func (o *testOBS) client() *obs.Client {
	set := o.Settings()
	return &obs.Client{Host: set.Host, Port: set.Port, Password: set.Password}
}

func (o *testOBS) Status(ctx context.Context) (livestream.OBSStatus, error) {
	return o.client().Status(ctx)
}

func (o *testOBS) Setup(ctx context.Context, id string) error {
	st, err := o.s.eng.Get(id)
	if err != nil {
		return err
	}
	return o.client().Setup(ctx, st.InputURI, st.Input.StreamKey)
}

func (o *testOBS) Start(ctx context.Context, id string) error {
	if err := o.Setup(ctx, id); err != nil {
		return err
	}
	return o.client().Start(ctx)
}

func (o *testOBS) Stop(ctx context.Context) error { return o.client().Stop(ctx) }

func (o *testOBS) Watch(ctx context.Context, f func(livestream.OBSEvent)) error {
	return o.client().Watch(ctx, f)
}

func (s *testStudio) Credentials() (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key, s.secret
}

func (s *testStudio) RotateSecret() (string, error) {
	next := livestream.NewSecret(24)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.st.SetSettings(map[string]string{"api_secret": next}); err != nil {
		return "", err
	}
	s.secret = next
	return next, nil
}

func (s *testStudio) Settings() Settings {
	get := func(k, def string) string {
		if v, ok, _ := s.st.Setting(k); ok {
			return v
		}
		return def
	}
	return Settings{HTTPAddr: get("http_addr", "127.0.0.1:8935"), RTMPAddr: get("rtmp_addr", "127.0.0.1:1935"),
		CloudName: get("cloud_name", "local"), AllowedHosts: get("allowed_hosts", ""), LibraryDir: get("library_dir", s.lib.Dir()),
		DataDir: s.dir, RTMPURL: s.rtmp, HTTPURL: s.http}
}

func (s *testStudio) Close() {}

func (s *testStudio) SaveSettings(set Settings) error {
	return s.st.SetSettings(map[string]string{"http_addr": set.HTTPAddr, "rtmp_addr": set.RTMPAddr, "cloud_name": set.CloudName,
		"allowed_hosts": set.AllowedHosts, "library_dir": set.LibraryDir})
}

// harness is the window over a real engine, bbolt store, RTMP server and
// REST API, on a test app. The test driver has no UI thread: everything
// that touches widgets, from the test or the view's goroutines, holds mu.
type harness struct {
	t      testing.TB
	mu     sync.Mutex
	app    fyne.App
	win    fyne.Window
	v      *View
	eng    *engine.Service
	st     *store.Store
	studio *testStudio
	rtmp   *ingest.Server
	api    *httptest.Server
	busy   time.Duration // on the UI thread, under mu
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{t: t}
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	h.st = st
	h.rtmp = &ingest.Server{Address: "127.0.0.1:0", Logger: quiet()}
	// The engine needs the RTMP URL before the server starts: listen first.
	h.api = httptest.NewUnstartedServer(nil)
	h.studio = &testStudio{st: st, key: "key1", secret: "secret1", dir: dir, http: "http://" + h.api.Listener.Addr().String()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.rtmp.Listener = ln
	h.studio.rtmp = "rtmp://" + ln.Addr().String() + "/live"
	h.studio.lib = &library.Library{Folder: filepath.Join(dir, "library"), Repo: st, Logger: quiet()}
	if err := h.studio.lib.Start(); err != nil {
		t.Fatal(err)
	}
	h.eng = &engine.Service{Repo: st, RTMPURL: h.studio.rtmp, HTTPURL: h.studio.http, Logger: quiet(),
		Outputs: output.Factories{
			livestream.OutputHLS:       &hls.Factory{BaseURL: h.studio.http},
			livestream.OutputArchive:   &archive.Factory{Library: h.studio.lib},
			livestream.OutputSimulcast: &simulcast.Factory{MinBackoff: 200 * time.Millisecond, MaxBackoff: time.Second},
		}}
	var a *api.Server
	h.studio.hooks = &webhook.Dispatcher{Store: st, Logger: quiet(), MinBackoff: 100 * time.Millisecond,
		Encode: func(ev livestream.Event) ([]byte, error) { return a.EncodeEvent(ev, h.studio.http) }}
	if err := h.studio.hooks.Start(); err != nil {
		t.Fatal(err)
	}
	h.eng.Outbox = h.studio.hooks
	h.studio.lib.OnEvent = h.eng.Emit
	h.studio.eng = h.eng
	h.studio.obs = livestream.OBSSettings{Host: "127.0.0.1", Port: 1} // nothing there until a test says so
	if err := h.eng.Start(); err != nil {
		t.Fatal(err)
	}
	h.rtmp.Authorizer = h.eng
	if err := h.rtmp.Start(); err != nil {
		t.Fatal(err)
	}
	h.studio.preview = &preview.Server{Streams: h.eng, UDPAddr: "127.0.0.1:0", Logger: quiet()}
	if err := h.studio.preview.Start(); err != nil {
		t.Fatal(err)
	}
	a = &api.Server{Engine: h.eng, Credentials: h.studio.Credentials, Assets: h.studio.lib, Preview: h.studio.preview,
		Webhooks: h.studio.hooks, Logger: quiet()}
	root := http.NewServeMux()
	(&playback.Server{Files: assets.Web(), ValidID: livestream.IsID, Logger: quiet(),
		HLS: func(id string) http.Handler { return h.eng.OutputHandler(id, livestream.OutputHLS) }}).Register(root)
	root.Handle("/", a.Handler())
	h.api.Config.Handler = root
	h.api.Start()

	h.app = test.NewTempApp(t)
	h.win = h.app.NewWindow("OnAir Studio")
	h.win.Resize(fyne.NewSize(1000, 760))
	h.v = newView(h.app, h.win, h.eng, h.studio, "test", h.do)
	ctx, cancel := context.WithCancel(context.Background())
	h.v.Start(ctx)
	t.Cleanup(func() {
		cancel()
		h.ui(func() {
			if h.v.page != nil {
				h.v.page.close()
			}
		})
		h.studio.preview.Close()
		h.api.Close()
		h.rtmp.Close()
		h.eng.Close()
		h.studio.hooks.Close()
		st.Close()
	})
	h.eventually("the window loads", func() bool { return h.v.follow.Reloads.Load() > 0 })
	return h
}

// do is the view's UI thread; it adds up the time spent on it.
func (h *harness) do(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	start := time.Now()
	f()
	h.busy += time.Since(start)
}

// ui runs f as the UI thread, for the test (not counted as busy).
func (h *harness) ui(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f()
}

// eventually waits up to 10 s for ok, checked as the UI thread.
func (h *harness) eventually(what string, ok func() bool) {
	h.t.Helper()
	h.within(10*time.Second, what, ok)
}

func (h *harness) within(d time.Duration, what string, ok func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(d)
	for {
		var done bool
		h.ui(func() { done = ok() })
		if done {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: not within %v; the window shows:\n%s", what, d, h.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// objects walks everything shown: the content and the overlays (dialogs).
func (h *harness) objects() []fyne.CanvasObject {
	var out []fyne.CanvasObject
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		out = append(out, o)
		switch x := o.(type) {
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	c := h.win.Canvas()
	walk(c.Content())
	for _, o := range c.Overlays().List() {
		walk(o)
	}
	return out
}

// text is every label and text shown, one per line (UI thread not needed:
// it takes the lock).
func (h *harness) text() string {
	var b strings.Builder
	h.ui(func() { b.WriteString(h.textLocked()) })
	return b.String()
}

func (h *harness) textLocked() string {
	var b strings.Builder
	for _, o := range h.objects() {
		switch x := o.(type) {
		case *widget.Label:
			b.WriteString(x.Text + "\n")
		case *widget.Button:
			b.WriteString("[" + x.Text + "]\n")
		case *canvas.Text:
			b.WriteString(x.Text + "\n")
		}
	}
	return b.String()
}

// shows reports whether some shown label contains s (UI thread).
func (h *harness) shows(s string) bool { return strings.Contains(h.textLocked(), s) }

// tap taps the shown button labelled text.
func (h *harness) tap(text string) {
	h.t.Helper()
	var found *widget.Button
	h.ui(func() {
		for _, o := range h.objects() {
			if b, ok := o.(*widget.Button); ok && b.Text == text {
				found = b
			}
		}
	})
	if found == nil {
		h.t.Fatalf("no button %q; the window shows:\n%s", text, h.text())
	}
	h.ui(func() {
		if found.Disabled() {
			h.t.Fatalf("button %q is disabled", text)
		}
		test.Tap(found)
	})
}

// typeInto replaces an entry's text by typing.
func (h *harness) typeInto(e *widget.Entry, s string) {
	h.ui(func() {
		e.SetText("")
		test.Type(e, s)
	})
}

// snapshot is the store's streams, to check that refused input changed nothing.
func (h *harness) snapshot() string {
	h.t.Helper()
	list, err := h.st.LoadStreams()
	if err != nil {
		h.t.Fatal(err)
	}
	var b strings.Builder
	for _, ls := range list {
		b.WriteString(ls.ID + ls.Name + ls.Input.StreamKey)
		for _, o := range ls.Outputs {
			b.WriteString(o.ID + o.URI + o.StreamKey + o.Name)
		}
		b.WriteString(ls.UpdatedAt.String() + "\n")
	}
	return b.String()
}
