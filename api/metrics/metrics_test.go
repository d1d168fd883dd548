package metrics_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onair-studio/onair/api/metrics"
	"github.com/onair-studio/onair/engine"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/output"
	"github.com/onair-studio/onair/engine/output/hls"
	"github.com/onair-studio/onair/store"
)

// studio is a real engine on a temp store with n active streams.
func studio(t testing.TB, n int) *engine.Service {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	eng := &engine.Service{Repo: st, RTMPURL: "rtmp://127.0.0.1:1935/live", HTTPURL: "http://127.0.0.1:8935",
		Outputs: output.Factories{livestream.OutputHLS: &hls.Factory{BaseURL: "http://127.0.0.1:8935"}},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(); st.Close() })
	for range n {
		s, err := eng.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Activate(s.ID); err != nil {
			t.Fatal(err)
		}
	}
	return eng
}

// Every active stream has its series; idle ones are only counted.
func TestCollect(t *testing.T) {
	eng := studio(t, 3)
	if _, err := eng.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}}); err != nil {
		t.Fatal(err)
	}
	h := metrics.Handler(metrics.Sources{Streams: eng, PreviewViewers: func(string) int { return 2 },
		Webhooks: func() (uint64, uint64, uint64, uint64) { return 5, 1, 0, 6 }})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	out := rec.Body.String()
	for want, n := range map[string]int{
		"onair_stream_uptime_seconds{": 3, "onair_stream_preview_viewers{": 3, `status="starting"`: 3,
		`onair_live_streams{status="active"} 3`: 1, `onair_live_streams{status="idle"} 1`: 1,
		`onair_webhook_deliveries_total{outcome="delivered"} 5`: 1, "onair_webhook_events_stored_total 6": 1,
	} {
		if got := strings.Count(out, want); got != n {
			t.Errorf("%q appears %d times, want %d", want, got, n)
		}
	}
}

// BenchmarkScrape64: one scrape of /metrics with 64 active streams, Go's
// and the process's collectors included (run on one goroutine: the time is
// the scrape's CPU).
func BenchmarkScrape64(b *testing.B) {
	eng := studio(b, 64)
	h := metrics.Handler(metrics.Sources{Streams: eng, PreviewViewers: func(string) int { return 0 },
		Webhooks: func() (uint64, uint64, uint64, uint64) { return 0, 0, 0, 0 }})
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
	// The collectors run on goroutines of their own: the process's CPU
	// time per scrape is the figure, not only the wall time.
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
}
