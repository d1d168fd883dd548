package ui

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// renditionsSelect finds the HLS output's renditions choice (UI thread).
func (h *harness) renditionsSelect() *widget.Select {
	for _, o := range h.objects() {
		if s, ok := o.(*widget.Select); ok && slices.Contains(s.Options, "Source only") {
			return s
		}
	}
	return nil
}

// The stream page's HLS row sets the renditions while the stream is idle:
// the engine's output gets them, tallest first, and the page shows them.
func TestRenditionsFromTheStreamPage(t *testing.T) {
	h := newHarness(t)
	st := h.createByTyping("Renditions show")
	var sel *widget.Select
	h.eventually("the renditions choice, source only", func() bool {
		sel = h.renditionsSelect()
		return sel != nil && sel.Selected == "Source only" && !sel.Disabled()
	})
	two := "480p + 360p"
	h.ui(func() { sel.SetSelected(two) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := h.eng.Get(st.ID)
		if err != nil {
			t.Fatal(err)
		}
		o, _ := s.Output(livestream.OutputHLS)
		if slices.Equal(o.Renditions, []livestream.Rendition{{Height: 480, Bitrate: 1_200_000}, {Height: 360, Bitrate: 600_000}}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the HLS output's renditions are %+v", o.Renditions)
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.eventually("the page shows them", func() bool {
		sel = h.renditionsSelect()
		return sel != nil && sel.Selected == two
	})
}

func TestRenditionsLabel(t *testing.T) {
	for want, rs := range map[string][]livestream.Rendition{
		"Source only": nil,
		"540p":        {{Height: 540, Bitrate: 2_000_000}},
		"480p + 240p": {{Height: 480, Bitrate: 1_200_000}, {Height: 240, Bitrate: 300_000}},
	} {
		if got := renditionsLabel(rs); got != want {
			t.Errorf("renditionsLabel(%v) = %q, want %q", rs, got, want)
		}
	}
	if got := renditionsRates([]livestream.Rendition{{Height: 480, Bitrate: 1_200_000}, {Height: 240, Bitrate: 300_000}}); got != "1.2 + 0.3 Mbit/s" {
		t.Errorf("renditionsRates: %q", got)
	}
}
