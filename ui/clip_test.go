package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/mediatest"
)

// Clip… on a recording shows the pictures at the clip's two ends, and Cut
// makes a new recording from the key frame at or before the start.
func TestClipFromTheLibrary(t *testing.T) {
	mediatest.RequireTools(t)
	c := mediatest.Clip{Width: 640, Height: 360, FPS: 30, Seconds: 6, VideoKbps: 800, AudioKbps: 96}
	h := newHarness(t)
	st := h.createByTyping("Clip show")
	zero := 0
	if _, err := h.eng.Update(st.ID, livestream.UpdateParams{IdleTimeoutSec: &zero}); err != nil {
		t.Fatal(err)
	}
	pub := mediatest.Publish(t, c.Path(t), h.studio.rtmp+"/"+st.Input.StreamKey, false)
	if _, exited := pub.Wait(30 * time.Second); !exited {
		t.Fatal("ffmpeg did not finish")
	}
	h.tap("Library")
	h.eventually("the recording, ready", func() bool { return h.shows("1 recording(s)") && h.shows("ready") })
	h.tap("Clip…")
	var d *clipDialog
	h.eventually("the dialog with the pictures at both ends", func() bool {
		d = h.v.library.clip
		return d != nil && d.shown[d.startPic] != nil && d.shown[d.endPic] != nil
	})
	var length time.Duration
	var atStart, atEnd mediatest.Cells
	h.ui(func() {
		length = d.a.Duration
		atStart, atEnd = mediatest.MeanCells(d.shown[d.startPic]), mediatest.MeanCells(d.shown[d.endPic])
	})
	if want := mediatest.PatternCells(t, c.Width, c.Height, 0); !atStart.Close(want, 20) {
		t.Fatalf("the picture at the start is %.0f; the pattern's first is %.0f", atStart, want)
	}
	last := length - time.Second/30
	if want := mediatest.PatternCells(t, c.Width, c.Height, last); !atEnd.Close(want, 20) {
		t.Fatalf("the picture at the end is %.0f; the pattern at %v is %.0f", atEnd, last, want)
	}

	h.ui(func() {
		d.end.SetValue(5)
		d.start.SetValue(2.5)
		test.Type(d.name, "highlight")
	})
	h.tap("Cut")
	h.eventually("the clip listed, ready", func() bool {
		items, _, _ := h.studio.lib.List(nil, 10, "")
		return len(items) == 2 && h.shows("2 recording(s)") && !h.shows("cutting")
	})
	a, err := h.studio.lib.Get("highlight")
	if err != nil {
		t.Fatal(err)
	}
	// The key frame before 2.5 s is shown at 2 s and two frames (the
	// clip has B-frames: its pictures are shown two frames after they
	// are decoded).
	if a.Status != livestream.AssetReady || a.Clip == nil || a.Clip.Start < 2*time.Second || a.Clip.Start > 2100*time.Millisecond ||
		a.Clip.End != 5*time.Second || a.Duration < 2900*time.Millisecond || a.Duration > 3100*time.Millisecond {
		t.Fatalf("the clip: %+v %+v", a, a.Clip)
	}
}
