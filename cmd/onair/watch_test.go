package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/onair-studio/onair/engine/mediatest"
)

// TestWatchPageAfterAStartStall: hls.js answers a stall by aiming a second
// further behind live for the rest of the visit, which suits a slow
// network but not a start that began with little buffered. The watch page,
// its connection made slower than the stream once it plays (so that it
// stalls while starting) and fast again once it stalled (and at least 3 s
// passed), plays close to the studio's PART-HOLD-BACK again, not a second
// further back.
func TestWatchPageAfterAStartStall(t *testing.T) {
	mediatest.RequireTools(t)
	clip := mediatest.Standard.Path(t)
	p := startServe(t, t.TempDir(), "", "")
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}})
	pub := mediatest.Publish(t, clip, "rtmp://"+p.rtmpAddr+"/live/"+st.Input.StreamKey, true)
	t.Cleanup(pub.Stop)
	mediaPlaylist(t, p.get(st.ID).hlsURI(), 30*time.Second)
	ctx := chromium(t)
	framesAtLeast(ctx, t, "http://"+p.httpAddr+"/watch/"+st.ID, 30*time.Second, 1)
	// The first picture is up: now 50 kbit/s for a 2.7 Mbit/s stream until
	// the page stalls (at most 6 s), so that what hls.js buffered (under
	// 2 s, more on a busy machine) runs out while it starts (the page counts
	// 8 s from its first picture as the start).
	if err := chromedp.Do(ctx, throttle(50_000/8)); err != nil {
		t.Fatalf("throttling Chromium: %v", err)
	}
	stalls := func() int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(window.onairLevel && window.onairLevel() || {stalls: 0}).stalls`))
		if err != nil {
			t.Fatalf("reading the stalls: %v", err)
		}
		return n
	}
	throttled := time.Now()
	n := stalls()
	for ; n == 0 && time.Since(throttled) < 6*time.Second; n = stalls() {
		time.Sleep(200 * time.Millisecond)
	}
	if n == 0 {
		t.Fatal("the page did not stall in 6 s over a connection slower than the stream")
	}
	time.Sleep(time.Until(throttled.Add(3 * time.Second))) // at least 3 s slow, as a network dip would be
	if err := chromedp.Do(ctx, unthrottle()); err != nil {
		t.Fatalf("lifting the throttle: %v", err)
	}
	time.Sleep(12 * time.Second) // playing again, settled
	median := watchLatencies(t, ctx)[0]
	t.Logf("after a stall while starting: %.2f s behind live (%d stalls)", median, n)
	// PART-HOLD-BACK is 0.66 s here and the path adds ~0.2 s; hls.js's
	// own answer to the stall plays 1.66 s + that behind.
	if median > 1.3 {
		t.Errorf("the page plays %.2f s behind live after a stall while starting; want the studio's PART-HOLD-BACK again (under 1.3 s)", median)
	}
}
