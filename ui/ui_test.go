package ui

import (
	"context"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// fakeEngine is a stand-in for the engine in this package's unit test.
type fakeEngine struct {
	mu      sync.Mutex
	streams []livestream.StreamState
	events  chan livestream.Event
}

func (f *fakeEngine) List() ([]livestream.StreamState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]livestream.StreamState(nil), f.streams...), nil
}

func (f *fakeEngine) Subscribe(context.Context) <-chan livestream.Event { return f.events }

func labels(o fyne.CanvasObject) []string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok {
			out = append(out, l.Text)
		}
		if c, ok := o.(*fyne.Container); ok {
			for _, x := range c.Objects {
				walk(x)
			}
		}
		if w, ok := o.(fyne.Widget); ok {
			for _, x := range test.WidgetRenderer(w).Objects() {
				walk(x)
			}
		}
	}
	walk(o)
	return out
}

func TestWindowListsStreamsAndFollowsEvents(t *testing.T) {
	a := test.NewTempApp(t)
	eng := &fakeEngine{events: make(chan livestream.Event, 1)}
	eng.streams = []livestream.StreamState{{LiveStream: livestream.LiveStream{ID: "a", Name: "Morning show"}, Status: livestream.StatusIdle}}
	v := NewStudioView(Info{RTMPURL: "rtmp://127.0.0.1:1935/live", APIURL: "http://127.0.0.1:8935/v2/video/local/live_streams",
		APIKey: "key1", APISecret: "s3cret"}, eng)
	w := test.NewWindow(v.Content())
	v.clipboard = a.Clipboard()
	defer w.Close()
	w.Resize(fyne.NewSize(600, 400))

	shown := func() string { return strings.Join(labels(v.Content()), "|") }
	v.Reload()
	if !strings.Contains(shown(), "Morning show — idle") {
		t.Fatalf("stream not listed: %s", shown())
	}
	if !strings.Contains(shown(), "rtmp://127.0.0.1:1935/live") {
		t.Fatalf("RTMP server URL not shown: %s", shown())
	}
	// The secret is hidden, and its copy button copies it.
	if !v.secret.Password || v.secret.Text != "s3cret" {
		t.Fatalf("secret entry: password=%v", v.secret.Password)
	}
	var buttons []*widget.Button
	var find func(fyne.CanvasObject)
	find = func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok {
			buttons = append(buttons, b)
		}
		if c, ok := o.(*fyne.Container); ok {
			for _, x := range c.Objects {
				find(x)
			}
		}
		if wd, ok := o.(fyne.Widget); ok {
			if _, isBtn := o.(*widget.Button); !isBtn {
				for _, x := range test.WidgetRenderer(wd).Objects() {
					find(x)
				}
			}
		}
	}
	find(v.Content())
	copied := map[string]bool{}
	for _, b := range buttons {
		a.Clipboard().SetContent("")
		test.Tap(b)
		copied[a.Clipboard().Content()] = true
	}
	for _, want := range []string{"rtmp://127.0.0.1:1935/live", "http://127.0.0.1:8935/v2/video/local/live_streams", "key1", "s3cret"} {
		if !copied[want] {
			t.Fatalf("no button copies %q (copied: %v)", want, copied)
		}
	}
	eng.mu.Lock()
	eng.streams[0].Status = livestream.StatusActive
	eng.mu.Unlock()
	v.Reload()
	if !strings.Contains(shown(), "Morning show — active") {
		t.Fatalf("status change not shown: %s", shown())
	}
}
