package ui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/cmd/onair/studio"
	"github.com/onair-studio/onair/engine"
	"github.com/onair-studio/onair/engine/library"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/picture"
	"github.com/onair-studio/onair/engine/preview"
	"github.com/onair-studio/onair/engine/webhook"
	"github.com/onair-studio/onair/store"
	"github.com/onair-studio/onair/ui/player"
)

// testStudio is the studio the command starts (studio.Start) as the
// window sees it, with its parts at hand for the tests.
type testStudio struct {
	s       *studio.Studio
	rtmp    string
	lib     *library.Library
	preview *preview.Server
	hooks   *webhook.Dispatcher
	codec   *standInCodec
	ear     *ear // the preview's sound
}

func (s *testStudio) Credentials() (string, string) { return s.s.Credentials() }
func (s *testStudio) RotateSecret() (string, error) { return s.s.RotateSecret() }
func (s *testStudio) Close()                        {}
func (s *testStudio) Library() Library              { return s.s.Recordings() }
func (s *testStudio) OBS() OBS                      { return s.s.OBS() }
func (s *testStudio) Webhooks() Webhooks            { return s.hooks }
func (s *testStudio) PreviewError() error           { return s.s.PreviewError() }
func (s *testStudio) RetryPreview() error           { return s.s.RetryPreview() }
func (s *testStudio) Parts() []livestream.Part      { return s.s.Parts() }
func (s *testStudio) Stills() Stills                { return s.s }
func (s *testStudio) Clips() Clips                  { return s.s }
func (s *testStudio) Codec() Codec                  { return s.codec }

// standInCodec offers a download from a local server (a test sets it);
// with none it offers nothing, as on Linux.
type standInCodec struct {
	mu  sync.Mutex
	d   picture.Download
	dir string
}

func (c *standInCodec) Offer() (picture.Download, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.d, c.d.URL != ""
}

func (c *standInCodec) Fetch(ctx context.Context) error {
	d, _ := c.Offer()
	if _, err := picture.Fetch(ctx, http.DefaultClient, d, c.dir); err != nil {
		return err
	}
	return picture.LoadFetched(d, c.dir)
}

func (s *testStudio) Preview() Preview {
	if s.s.Preview() == nil {
		return nil
	}
	return testPreview{s.s, s.ear}
}

func (s *testStudio) CheckS3() error { return s.s.CheckS3(context.Background()) }

func (s *testStudio) Settings() Settings {
	return Settings{Settings: s.s.Settings(), DataDir: s.s.DataDir(), RTMPURL: s.s.RTMPURL(), HTTPURL: s.s.HTTPURL(),
		TLSFingerprint: s.s.Fingerprint()}
}

func (s *testStudio) SaveSettings(set Settings) error { return s.s.SaveSettings(set.Settings) }

// testPreview reaches the preview over the studio's HTTP server, as the
// command's window does.
type testPreview struct {
	s   *studio.Studio
	ear *ear
}

func (p testPreview) Client(id string) player.Client {
	key, secret := p.s.Credentials()
	u, hc := p.s.PreviewWHEP(id)
	return player.Client{URL: u, Username: key, Password: secret, HTTP: hc}
}

func (p testPreview) PageURL(id string) (string, error) { return p.s.PreviewPage(id), nil }

// Sound decodes with the studio's FFmpeg into the harness's ear (no
// sound device under test).
func (p testPreview) Sound() (player.Sound, error) {
	bin, err := p.s.FFmpeg()
	if err != nil {
		return player.Sound{}, err
	}
	return player.Sound{FFmpeg: bin, Out: p.ear}, nil
}

// ear is a Speaker that keeps what it is given.
type ear struct {
	mu     sync.Mutex
	pcm    []byte
	resets int
}

func (e *ear) Write(p []byte) (int, error) {
	e.mu.Lock()
	e.pcm = append(e.pcm, p...)
	e.mu.Unlock()
	return len(p), nil
}

func (e *ear) Reset() {
	e.mu.Lock()
	e.resets++
	e.mu.Unlock()
}

// heard returns the PCM kept so far and how often the sound was stopped.
func (e *ear) heard() ([]byte, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]byte(nil), e.pcm...), e.resets
}

// harness is the window over the studio the command starts — its engine,
// bbolt store, RTMP server and REST API — on a test app. The test driver
// has no UI thread: everything that touches widgets, from the test or the
// view's goroutines, holds mu.
type harness struct {
	t      testing.TB
	mu     sync.Mutex
	app    fyne.App
	win    fyne.Window
	v      *View
	eng    *engine.Service
	st     *store.Store
	studio *testStudio
	url    string        // of the API, HLS and pages
	busy   time.Duration // on the UI thread, under mu
	closed bool          // the test is over: do runs nothing (under mu)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessWith(t, nil)
}

// newHarnessWith is newHarness with the studio's configuration changed by
// edit first.
func newHarnessWith(t testing.TB, edit func(*studio.Config)) *harness {
	t.Helper()
	h := &harness{t: t}
	dir := t.TempDir()
	// Known credentials, and an OBS address where nothing answers until a
	// test says so.
	st, err := store.Open(filepath.Join(dir, "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	err = errors.Join(st.SetSettings(map[string]string{"api_key": "key1", "api_secret": "secret1"}),
		st.SaveSettings(livestream.Settings{OBS: livestream.OBSSettings{Host: "127.0.0.1", Port: 1}}), st.Close())
	if err != nil {
		t.Fatal(err)
	}
	cfg := studio.Config{DataDir: dir, HTTPAddr: "127.0.0.1:0", RTMPAddr: "127.0.0.1:0", SRTAddr: "127.0.0.1:0",
		SimulcastMinBackoff: 200 * time.Millisecond, SimulcastMaxBackoff: time.Second, WebhookMinBackoff: 100 * time.Millisecond}
	if edit != nil {
		edit(&cfg)
	}
	s, err := studio.Start(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	h.eng, h.st, h.url = s.Engine(), s.Store(), s.HTTPURL()
	h.studio = &testStudio{s: s, ear: &ear{}, rtmp: s.RTMPURL(), lib: s.Library(), preview: s.Preview(), hooks: s.Webhooks(),
		codec: &standInCodec{dir: filepath.Join(dir, "openh264")}}

	h.app = test.NewTempApp(t)
	// Fyne's renderer cache dates each widget's renderer by a clock it moves
	// on only when it cleans up, which a capture does (the test driver has no
	// paint loop). Renderers made more than a minute after the test binary's
	// last capture would count as expired at the next one and be drawn anew,
	// never laid out: buttons without their backgrounds, text out of place.
	// Capturing an empty canvas first sets that clock to now.
	test.NewCanvas().Capture()
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
			// The view's goroutines still under way (a poster being fetched)
			// touch no widget once the test is over: Fyne's text measuring is
			// shared by the next test's window.
			h.closed = true
		})
		s.Close()
	})
	h.eventually("the window loads", func() bool { return h.v.follow.Reloads.Load() > 0 })
	return h
}

// do is the view's UI thread; it adds up the time spent on it.
func (h *harness) do(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
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
func (h *harness) typeInto(e interface {
	fyne.Focusable
	SetText(string)
}, s string) {
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
