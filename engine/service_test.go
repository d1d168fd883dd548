package engine_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/onair-studio/onair/engine"
	"github.com/onair-studio/onair/engine/ingest"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/output"
	"github.com/onair-studio/onair/engine/output/hls"
	"github.com/onair-studio/onair/store"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type rig struct {
	eng *engine.Service
	rtm *ingest.Server
	st  *store.Store
	hls *httptest.Server
}

func newRig(t *testing.T) *rig {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{st: st}
	r.eng = &engine.Service{Repo: st, RTMPURL: "rtmp://x/live", HTTPURL: "http://x", Outputs: hlsOnly(), Logger: quiet()}
	if err := r.eng.Start(); err != nil {
		t.Fatal(err)
	}
	r.rtm = &ingest.Server{Address: "127.0.0.1:0", Authorizer: r.eng, Logger: quiet()}
	if err := r.rtm.Start(); err != nil {
		t.Fatal(err)
	}
	r.hls = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		parts := strings.Split(req.URL.Path, "/")
		serveHLS(r.eng, w, req, parts[2])
	}))
	return r
}

// hlsOnly is the factory table of an engine that runs HLS only.
func hlsOnly() output.Factories {
	return output.Factories{livestream.OutputHLS: &hls.Factory{BaseURL: "http://x"}}
}

// serveHLS answers an HLS request through the engine's one lookup.
func serveHLS(eng *engine.Service, w http.ResponseWriter, r *http.Request, id string) {
	h := eng.OutputHandler(id, livestream.OutputHLS)
	if h == nil {
		http.Error(w, "live stream is idle or unknown", http.StatusNotFound)
		return
	}
	h.ServeHTTP(w, r)
}

func (r *rig) close() {
	r.rtm.Close()
	r.eng.Close()
	r.hls.Close()
	r.st.Close()
}

func create(t *testing.T, e *engine.Service, idle int) livestream.StreamState {
	t.Helper()
	typ := "rtmp"
	st, err := e.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: &typ}, IdleTimeoutSec: &idle})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// After Close, no goroutine of the engine, ingest or HLS output is left,
// even with a publisher, HLS readers and event subscribers attached.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	clip := mediatest.Small.Path(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	r := newRig(t)
	st := create(t, r.eng, 60)
	events := r.eng.Subscribe(context.Background())
	pub := mediatest.Publish(t, clip, "rtmp://"+r.rtm.Addr().String()+"/live/"+st.Input.StreamKey, true)

	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(r.hls.URL + "/hls/" + st.ID + "/index.m3u8")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no playlist")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A request left waiting for a segment that never comes must be released by Close.
	waiting := make(chan int, 1)
	go func() {
		resp, err := http.Get(r.hls.URL + "/hls/" + st.ID + "/stream.m3u8?_HLS_msn=999999")
		if err != nil {
			waiting <- -1
			return
		}
		resp.Body.Close()
		waiting <- resp.StatusCode
	}()
	r.close()
	pub.Stop()
	for range events { // closed by Close
	}
	<-waiting
	http.DefaultClient.CloseIdleConnections()
}

// An activated stream waits for its encoder; max_runtime_sec idles it;
// the idle timeout idles it after the encoder leaves.
func TestActivateMaxRuntimeAndIdleTimeout(t *testing.T) {
	r := newRig(t)
	defer r.close()
	r.eng.Second = 10 * time.Millisecond // 60 "seconds" of runtime last 600 ms
	st := create(t, r.eng, 30)           // 300 ms idle timeout
	ev := r.eng.Subscribe(context.Background())
	start := time.Now()
	if _, err := r.eng.Activate(st.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := r.eng.Get(st.ID)
	if got.Status != livestream.StatusActive || got.Publishing {
		t.Fatalf("after activate: %+v", got)
	}
	shortest := livestream.MinMaxRuntimeSec
	if _, err := r.eng.Update(st.ID, livestream.UpdateParams{MaxRuntimeSec: &shortest}); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ev, livestream.EventStreamIdle, 5*time.Second)
	if el := time.Since(start); el < 550*time.Millisecond {
		t.Fatalf("idled after %v, before the maximum runtime", el)
	}
	if got, _ := r.eng.Get(st.ID); got.Status != livestream.StatusIdle {
		t.Fatal("not idle after the maximum runtime")
	}

	// Idle timeout: the encoder leaves, nobody comes back.
	target, err := r.eng.Authorize(st.Input.StreamKey, "127.0.0.1:1", func() {})
	if err != nil {
		t.Fatal(err)
	}
	target.Close()
	left := time.Now()
	waitEvent(t, ev, livestream.EventStreamIdle, 5*time.Second)
	if el := time.Since(left); el < 250*time.Millisecond {
		t.Fatalf("idled %v after the encoder left, before the idle timeout", el)
	}
}

func waitEvent(t *testing.T, ev <-chan livestream.Event, typ string, d time.Duration) livestream.Event {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e := <-ev:
			if e.Type == typ {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event in %v", typ, d)
		}
	}
}

// A second publisher and a wrong key are refused with events.
func TestRefusalEvents(t *testing.T) {
	r := newRig(t)
	defer r.close()
	st := create(t, r.eng, 10)
	ev := r.eng.Subscribe(context.Background())
	if _, err := r.eng.Authorize("nope", "10.0.0.1:1", func() {}); err == nil {
		t.Fatal("wrong key accepted")
	}
	target, err := r.eng.Authorize(st.Input.StreamKey, "127.0.0.1:1", func() {})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.Authorize(st.Input.StreamKey, "127.0.0.1:2", func() {}); err == nil {
		t.Fatal("second publisher accepted")
	}
	target.Close()
	want := []string{livestream.EventPublisherRefused, livestream.EventStreamActive, livestream.EventStreamConnected,
		livestream.EventPublisherRefused, livestream.EventStreamDisconnected}
	for _, w := range want {
		select {
		case e := <-ev:
			if e.Type != w {
				t.Fatalf("event %s, want %s", e.Type, w)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("no %s event", w)
		}
	}
	// The publisher left: a new one on the same key is accepted (reconnect).
	if _, err := r.eng.Authorize(st.Input.StreamKey, "127.0.0.1:3", func() {}); err != nil {
		t.Fatalf("reconnect refused: %v", err)
	}
}

// stallingRepo stores through a real store, but Commit waits while
// stall is open: a slow disk.
type stallingRepo struct {
	*store.Store
	stall, stalled chan struct{} // stalled is closed when a write waits
}

func (r *stallingRepo) Commit(changes []livestream.Change) error {
	if r.stall != nil {
		close(r.stalled)
		<-r.stall
	}
	return r.Store.Commit(changes)
}

// stallingEngine is an engine over a stallingRepo on a real store, with one
// stream; both close when the test ends.
func stallingEngine(t *testing.T) (*engine.Service, *stallingRepo, livestream.StreamState) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	repo := &stallingRepo{Store: st}
	eng := &engine.Service{Repo: repo, RTMPURL: "rtmp://x/live", HTTPURL: "http://x", Outputs: hlsOnly(), Logger: quiet()}
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Close)
	return eng, repo, create(t, eng, 60)
}

// Viewers' HLS requests do not wait while a change is being stored.
func TestHLSRequestsDoNotWaitOnTheStore(t *testing.T) {
	eng, repo, ls := stallingEngine(t)
	if _, err := eng.Activate(ls.ID); err != nil {
		t.Fatal(err)
	}
	repo.stall, repo.stalled = make(chan struct{}), make(chan struct{})
	renamed := make(chan error, 1)
	go func() {
		name := "renamed"
		_, err := eng.Update(ls.ID, livestream.UpdateParams{Name: &name})
		renamed <- err
	}()
	<-repo.stalled // the update is storing, holding the engine's lock
	served := make(chan int, 1)
	go func() {
		rec := httptest.NewRecorder()
		serveHLS(eng, rec, httptest.NewRequest(http.MethodGet, "/hls/"+ls.ID+"/index.m3u8", nil), ls.ID)
		served <- rec.Code
	}()
	select {
	case code := <-served:
		if code != http.StatusNotFound { // active, but no publisher yet: no media
			t.Errorf("HLS answer %d, want 404 (no media yet)", code)
		}
	case <-time.After(5 * time.Second):
		t.Error("an HLS request waited for a change being stored")
	}
	close(repo.stall)
	if err := <-renamed; err != nil {
		t.Fatal(err)
	}
}
