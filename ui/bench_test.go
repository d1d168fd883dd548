package ui

import (
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/mediatest"
)

// BenchmarkFiftyStreamsChange: 50 streams go active at once, then idle at
// once. The follower coalesces the burst of events: the window reloads
// its list a few times, not 50, and the UI thread's busy time is reported
// per burst.
func BenchmarkFiftyStreamsChange(b *testing.B) {
	h := newHarness(b)
	typ := "rtmp"
	var ids []string
	for range 50 {
		st, err := h.eng.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: &typ}})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, st.ID)
	}
	h.eventually("50 streams listed", func() bool { return len(h.v.streams) == 50 })
	h.ui(func() { h.v.open(ids[0]) })
	all := func(f func(string) (livestream.StreamState, error), want livestream.Status) {
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() { ; f(id) })
		}
		wg.Wait()
		h.eventually("every stream shown "+string(want), func() bool {
			for _, st := range h.v.streams {
				if st.Status != want {
					return false
				}
			}
			return true
		})
		time.Sleep(2 * coalesce) // a late reload counts too
	}
	var reloads int64
	var busy time.Duration
	b.ResetTimer()
	for b.Loop() {
		r0 := h.v.follow.Reloads.Load()
		var b0 time.Duration
		h.ui(func() { b0 = h.busy })
		all(h.eng.Activate, livestream.StatusActive)
		all(h.eng.Idle, livestream.StatusIdle)
		reloads += h.v.follow.Reloads.Load() - r0
		h.ui(func() { busy += h.busy - b0 })
	}
	bursts := float64(2 * b.N)
	b.ReportMetric(float64(reloads)/bursts, "reloads/burst")
	b.ReportMetric(float64(busy.Microseconds())/1000/bursts, "ui-ms/burst")
}

// BenchmarkDashboardSixteenLive: 16 streams live (ffmpeg sending the small
// clip to each), the window showing one stream's page with its graphs and
// the list with 16 sparklines, then the Settings screen (no stream page):
// the UI thread's busy time per second in each case (the graphs' drawing
// is reported apart, by BenchmarkGraphDraw: it happens when the window
// paints).
func BenchmarkDashboardSixteenLive(b *testing.B) {
	mediatest.RequireTools(b)
	clip := mediatest.Small.Path(b)
	h := newHarness(b)
	typ := "rtmp"
	var ids []string
	for range 16 {
		st, err := h.eng.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: &typ}})
		if err != nil {
			b.Fatal(err)
		}
		mediatest.Publish(b, clip, h.studio.rtmp+"/"+st.Input.StreamKey, true)
		ids = append(ids, st.ID)
	}
	h.within(30*time.Second, "16 streams live", func() bool {
		n := 0
		for _, st := range h.v.streams {
			if st.Publishing {
				n++
			}
		}
		return n == 16
	})
	const window = 10 * time.Second
	busyOver := func() float64 {
		var b0, b1 time.Duration
		h.ui(func() { b0 = h.busy })
		time.Sleep(window)
		h.ui(func() { b1 = h.busy })
		return float64((b1 - b0).Microseconds()) / 1000 / window.Seconds()
	}
	var page, none float64
	for b.Loop() {
		h.ui(func() { h.v.open(ids[0]) })
		time.Sleep(2 * time.Second)
		page += busyOver()
		h.ui(func() {
			if n := len(h.v.page.graphs.bitrate.samples); n < 5 {
				b.Fatalf("the page's graph has %d samples", n)
			}
			h.v.showSettings()
		})
		time.Sleep(2 * time.Second)
		none += busyOver()
	}
	b.ReportMetric(page/float64(b.N), "ui-ms/s-page")
	b.ReportMetric(none/float64(b.N), "ui-ms/s-no-page")
}

// BenchmarkGraphDraw: one graph drawn at the size the stream page gives it
// (three are drawn each second while the page shows).
func BenchmarkGraphDraw(b *testing.B) {
	test.NewTempApp(b)
	d := newDashboard()
	var samples []livestream.Sample
	end := time.Now()
	for i := range livestream.HistorySeconds {
		samples = append(samples, livestream.Sample{At: end.Add(time.Duration(i-livestream.HistorySeconds) * time.Second), Publishing: true,
			BitrateKbps: 2500 + float64(i%7)*30, FrameRate: 30, HLSViewers: 3})
	}
	d.set(samples)
	b.ReportAllocs()
	for b.Loop() {
		d.bitrate.draw(400, 46)
	}
}
