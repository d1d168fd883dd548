package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/mediatest"
)

// rewindSelect finds the HLS output's rewind choice on the stream page (UI thread).
func (h *harness) rewindSelect() *widget.Select {
	for _, o := range h.objects() {
		if s, ok := o.(*widget.Select); ok && slices.Contains(s.Options, rewindLabel(0)) {
			return s
		}
	}
	return nil
}

// The stream page's HLS row sets the DVR window while the stream is idle,
// locks it while live, and the stats say what the window keeps.
func TestRewindWindowFromTheStreamPage(t *testing.T) {
	mediatest.RequireTools(t)
	clip := mediatest.Small.Path(t)
	h := newHarness(t)
	st := h.createByTyping("Rewind show")
	var sel *widget.Select
	h.eventually("the rewind choice, off", func() bool {
		sel = h.rewindSelect()
		return sel != nil && sel.Selected == "Off (live only)" && !sel.Disabled()
	})
	h.ui(func() { sel.SetSelected("2 hours") })
	hlsOf := func() livestream.OutputState {
		s, err := h.eng.Get(st.ID)
		if err != nil {
			t.Fatal(err)
		}
		o, _ := s.Output(livestream.OutputHLS)
		return o
	}
	deadline := time.Now().Add(10 * time.Second)
	for hlsOf().DVRWindowSec != 7200 {
		if time.Now().After(deadline) {
			t.Fatalf("the HLS output's window is %d s, want 7200", hlsOf().DVRWindowSec)
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.eventually("the page shows 2 hours", func() bool {
		sel = h.rewindSelect()
		return sel != nil && sel.Selected == "2 hours"
	})

	mediatest.Publish(t, clip, h.studio.rtmp+"/"+st.Input.StreamKey, true)
	h.within(20*time.Second, "live: the choice locked, the stats show what is kept", func() bool {
		sel = h.rewindSelect()
		return sel != nil && sel.Disabled() && h.shows("changes while the stream is idle") &&
			h.shows("of 2:00:00 kept") && !h.shows("Rewind: 0:00 of")
	})
	text := h.text()
	for line := range strings.SplitSeq(text, "\n") {
		if strings.Contains(line, "Rewind:") {
			t.Logf("%s", line)
		}
	}
}

func TestRewindLabels(t *testing.T) {
	for sec, want := range map[int]string{0: "Off (live only)", 60: "1 minute", 300: "5 minutes", 3600: "1 hour", 14400: "4 hours", 90: "90 seconds", 5400: "90 minutes"} {
		if got := rewindLabel(sec); got != want {
			t.Errorf("rewindLabel(%d) = %q, want %q", sec, got, want)
		}
	}
	d := livestream.DVRStats{Window: 2 * time.Minute, Kept: 61 * time.Second, Bytes: 12_500_000}
	if got := rewindText(d); got != "Rewind: 1:01 of 2:00 kept · 12.5 MB on disk" {
		t.Errorf("rewindText: %q", got)
	}
	d.LowDisk = true
	if got := rewindText(d); !strings.Contains(got, "nearly full") {
		t.Errorf("rewindText with the disk nearly full: %q", got)
	}
}

// labels returns the texts and importances of the labels in o.
func labels(o fyne.CanvasObject) map[string]widget.Importance {
	out := map[string]widget.Importance{}
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Label:
			out[x.Text] = x.Importance
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

// A broadcasting output's message (the rewind window cut short by a full
// disk) is shown as a warning; an errored output's as its last error.
func TestOutputRowWarningOrError(t *testing.T) {
	test.NewTempApp(t)
	o := &outputsSection{p: &streamPage{}}
	msg := "rewind keeps only the live edge for now"
	hlsOut := livestream.OutputState{Output: livestream.Output{Type: livestream.OutputHLS, DVRWindowSec: 60}, Status: livestream.OutputBroadcasting, LastError: msg}
	if imp, ok := labels(o.row(hlsOut, true))["Warning: "+msg]; !ok || imp != widget.WarningImportance {
		t.Errorf("broadcasting with a message: %v", labels(o.row(hlsOut, true)))
	}
	hlsOut.Status = livestream.OutputErrored
	if imp, ok := labels(o.row(hlsOut, true))["Last error: "+msg]; !ok || imp != widget.DangerImportance {
		t.Errorf("errored: %v", labels(o.row(hlsOut, true)))
	}
}
