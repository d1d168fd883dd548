package ui

import (
	"sync"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
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
