package ui

import (
	"image"
	"os"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/mediatest"
)

// A real publish is recorded: the stream page shows the recording while it
// grows, the library lists it when ready, and Delete (confirmed) removes
// it and its file. Switching recording off reaches the engine.
func TestLibraryListsAndDeletes(t *testing.T) {
	mediatest.RequireTools(t)
	clip := mediatest.Clip{Width: 640, Height: 360, FPS: 30, Seconds: 4, VideoKbps: 800, AudioKbps: 96}.Path(t)
	h := newHarness(t)
	st := h.createByTyping("Morning show")
	zero := 0
	if _, err := h.eng.Update(st.ID, livestream.UpdateParams{IdleTimeoutSec: &zero}); err != nil {
		t.Fatal(err)
	}
	h.eventually("the page says sessions are recorded", func() bool { return h.shows("Every session is recorded to the library.") })

	pub := mediatest.Publish(t, clip, h.studio.rtmp+"/"+st.Input.StreamKey, false)
	h.eventually("the recording indicator", func() bool { return h.shows("● Recording · 0:0") && h.shows(".mp4") })
	h.eventually("the live stream's picture in the list", func() bool {
		img := h.v.list.thumbs[st.ID] // checked as the UI thread
		return img != nil && img.Bounds().Dx() == 2*thumbWidth && img.Bounds().Dy() == 2*thumbWidth*9/16
	})
	if _, exited := pub.Wait(20 * time.Second); !exited {
		t.Fatal("ffmpeg did not finish")
	}
	h.eventually("idle again", func() bool { return h.shows("Every session is recorded to the library.") })

	h.tap("Library")
	h.eventually("the recording listed, ready, with its stream's name", func() bool {
		return h.shows("1 recording(s)") && h.shows("Morning show") && h.shows("ready") && h.shows("0:04")
	})
	items, _, _ := h.studio.lib.List(nil, 10, st.ID)
	if len(items) != 1 {
		t.Fatalf("library: %+v", items)
	}
	var poster image.Image
	h.eventually("the recording's poster in its row", func() bool {
		poster = h.v.library.posters[items[0].PublicID]
		return poster != nil
	})
	// The poster is taken half way through a recording this short: 2 s in.
	if got, want := mediatest.MeanCells(poster), mediatest.PatternCells(t, 640, 360, 2*time.Second); poster.Bounds().Dx() != 2*posterWidth || !got.Close(want, 20) {
		t.Fatalf("the poster is %v with colours %.0f; the pattern at 2 s is %.0f", poster.Bounds(), got, want)
	}
	path, _ := h.studio.lib.Path(items[0].PublicID)
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	h.tap("Delete")
	h.eventually("the confirmation names the recording", func() bool { return h.shows("is removed from the library and its file deleted") })
	h.tap("Yes")
	h.eventually("the library is empty", func() bool { return h.shows("No recordings yet") })
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the file is still there: %v", err)
	}

	// Recording off, from the stream's page.
	h.ui(func() { h.v.open(st.ID) })
	var p *streamPage
	h.ui(func() { p = h.v.page })
	h.ui(func() { test.Tap(p.recOn) })
	h.eventually("recording off in the engine and on the page", func() bool {
		got, _ := h.eng.Get(st.ID)
		out, _ := got.Output(livestream.OutputArchive)
		return out.Disabled && h.shows("Recording is off")
	})
}
