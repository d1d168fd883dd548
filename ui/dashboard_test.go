package ui

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/mediatest"
)

// fileKbps is a clip's average bitrate: its size over its length.
func fileKbps(t *testing.T, path string) float64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return float64(fi.Size()) * 8 / 1000 / mediatest.ProbeFile(t, path).Duration
}

// meanKbps is the mean bitrate of the samples between from and to.
func meanKbps(at []time.Time, kbps []float64, from, to time.Time) (float64, int) {
	var sum float64
	n := 0
	for i, a := range at {
		if !a.Before(from) && !a.After(to) && !math.IsNaN(kbps[i]) {
			sum += kbps[i]
			n++
		}
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return sum / float64(n), n
}

// A publish whose bitrate changes — a clip, then a lighter one on
// reconnect — shows as two levels in GET …/stats/history and in the stream
// page's bitrate graph, each within 10 % of the clip's own bitrate.
func TestHistoryShowsTwoBitrates(t *testing.T) {
	mediatest.RequireTools(t)
	heavy := mediatest.Clip{Width: 640, Height: 360, FPS: 30, Seconds: 12, VideoKbps: 1800, AudioKbps: 96}.Path(t)
	light := mediatest.Clip{Width: 640, Height: 360, FPS: 30, Seconds: 12, VideoKbps: 400, AudioKbps: 96}.Path(t)
	want := []float64{fileKbps(t, heavy), fileKbps(t, light)}
	if want[0] < 2*want[1] {
		t.Fatalf("the clips' bitrates %.0f and %.0f kbit/s are too close to tell apart", want[0], want[1])
	}
	h := newHarness(t)
	st := h.createByTyping("Two levels")
	h.tap("Activate")
	h.eventually("waiting for the encoder", func() bool { return h.shows("waiting for the encoder") })

	var phases [2][2]time.Time
	for i, clip := range []string{heavy, light} {
		phases[i][0] = time.Now()
		pub := mediatest.Publish(t, clip, h.studio.rtmp+"/"+st.Input.StreamKey, false)
		if err, exited := pub.Wait(30 * time.Second); !exited || err != nil {
			t.Fatalf("publishing clip %d: %v (exited %v)\n%s", i+1, err, exited, pub.Output())
		}
		phases[i][1] = time.Now()
	}
	// The second's samples a few seconds into each publish up to its end.
	window := func(i int) (time.Time, time.Time) {
		return phases[i][0].Add(4 * time.Second), phases[i][1].Add(-time.Second)
	}

	// The API.
	req, _ := http.NewRequest(http.MethodGet, h.url+"/v2/video/local/live_streams/"+st.ID+"/stats/history?seconds=300", nil)
	req.SetBasicAuth("key1", "secret1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Data struct {
			IntervalSec int `json:"interval_sec"`
			Samples     []struct {
				At          int64   `json:"at"`
				Publishing  bool    `json:"publishing"`
				BitrateKbps float64 `json:"bitrate_kbps"`
				FrameRate   float64 `json:"frame_rate"`
			} `json:"samples"`
		} `json:"data"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("stats/history: %d %v", resp.StatusCode, err)
	}
	var at []time.Time
	var kbps []float64
	for _, s := range body.Data.Samples {
		at = append(at, time.UnixMilli(s.At))
		kbps = append(kbps, s.BitrateKbps)
	}
	for i := range phases {
		from, to := window(i)
		got, n := meanKbps(at, kbps, from, to)
		t.Logf("API, clip %d: %.0f kbit/s over %d samples (the file: %.0f)", i+1, got, n, want[i])
		if n < 5 || math.Abs(got-want[i]) > 0.1*want[i] {
			t.Errorf("API, clip %d: %.0f kbit/s over %d samples, want %.0f ± 10 %%", i+1, got, n, want[i])
		}
	}

	// The window's graph, fed by the same history.
	h.within(5*time.Second, "the graph has the history", func() bool {
		g := h.v.page.graphs.bitrate
		return len(g.samples) > 0 && !g.samples[len(g.samples)-1].At.Before(phases[1][1].Add(-time.Second))
	})
	h.ui(func() {
		g := h.v.page.graphs.bitrate
		vals := g.values()[0]
		var gat []time.Time
		for _, s := range g.samples {
			gat = append(gat, s.At)
		}
		for i := range phases {
			from, to := window(i)
			got, n := meanKbps(gat, vals, from, to)
			if n < 5 || math.Abs(got-want[i]) > 0.1*want[i] {
				t.Errorf("graph, clip %d: %.0f kbit/s over %d samples, want %.0f ± 10 %%", i+1, got, n, want[i])
			}
		}
	})
}

// The graph shows the values of the second pointed at, and the latest
// when the pointer leaves; a tap does the same as pointing.
func TestGraphShowsTheSecondPointedAt(t *testing.T) {
	test.NewTempApp(t)
	g := newGraph("Bitrate in", func(v float64) string { return fmt.Sprintf("%.0f kbit/s", v) },
		series{name: "bitrate", colour: theme.ColorNamePrimary, value: func(s livestream.Sample) (float64, bool) { return s.BitrateKbps, s.Publishing }})
	g.marks = func(s livestream.Sample) bool { return s.Dropped > 0 }
	w := test.NewTempWindow(t, g)
	w.Resize(fyne.NewSize(600, 200))
	end := time.Date(2026, 12, 5, 21, 0, 0, 0, time.Local)
	var samples []livestream.Sample
	for i := range livestream.HistorySeconds {
		s := livestream.Sample{At: end.Add(-time.Duration(livestream.HistorySeconds-1-i) * time.Second), Publishing: true, BitrateKbps: 1000}
		if i >= livestream.HistorySeconds/2 {
			s.BitrateKbps = 3000
		}
		if i == 10 {
			s.Dropped = 7
		}
		samples = append(samples, s)
	}
	g.set(samples)
	if got := g.head.Text; got != "Bitrate in · now: 3000 kbit/s" {
		t.Errorf("heading %q", got)
	}
	left := g.raster.Position().X + 2
	g.MouseMoved(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(left, 50)}})
	if got := g.head.Text; got != "Bitrate in · 20:55:01: 1000 kbit/s" {
		t.Errorf("heading at the left edge %q", got)
	}
	g.Tapped(&fyne.PointEvent{Position: fyne.NewPos(left+g.raster.Size().Width*10/299, 50)})
	if got := g.head.Text; got != "Bitrate in · 20:55:11: 1000 kbit/s · 7 dropped" {
		t.Errorf("heading at the drop %q", got)
	}
	g.MouseOut()
	if got := g.head.Text; got != "Bitrate in · now: 3000 kbit/s" {
		t.Errorf("heading after the pointer left %q", got)
	}
	img := g.draw(300, 80)
	if c := img.At(290, 79); c == img.At(290, 0) {
		t.Error("nothing drawn under the line at the right")
	}
}

// From a 1100 px window the stream page has two columns — the preview and
// graphs left, the settings (OBS among them) right — and one column below
// that, the settings under the picture; a resize switches at once.
func TestStreamPageColumns(t *testing.T) {
	h := newHarness(t)
	h.createByTyping("Wide show")
	h.tap("Activate")
	h.eventually("waiting for the encoder", func() bool { return h.shows("waiting for the encoder") })
	pos := func(o fyne.CanvasObject) fyne.Position {
		return fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
	}
	for _, c := range []struct {
		width float32
		wide  bool
	}{{1280, true}, {1000, false}, {1100, true}, {1099, false}} {
		h.ui(func() {
			h.win.Resize(fyne.NewSize(c.width, 800))
			p := h.v.page
			preview, graphs, obs := pos(p.preview.card), pos(p.graphs.card), pos(p.obs.card)
			side := obs.X > preview.X+p.preview.card.Size().Width/2 && obs.Y < graphs.Y
			below := obs.X == preview.X && obs.Y > graphs.Y
			if c.wide && !side || !c.wide && !below {
				t.Errorf("at %v px: preview at %v, graphs at %v, OBS at %v (two columns wanted: %v)", c.width, preview, graphs, obs, c.wide)
			}
		})
	}
}

// Tab moves through the stream page as a streamer reads it: the name and
// its buttons, the switch, the preview's buttons, then the settings column
// from the encoder settings down to the outputs — in a wide window (two
// columns) as in a narrow one.
func TestStreamPageTabOrder(t *testing.T) {
	h := newHarness(t)
	h.createByTyping("Tab show")
	h.tap("Activate")
	h.eventually("waiting for the encoder", func() bool { return h.shows("waiting for the encoder") })
	for _, width := range []float32{1280, 1000} {
		h.ui(func() {
			h.win.Resize(fyne.NewSize(width, 800))
			p := h.v.page
			// Which part of the page each focusable belongs to, in reading order.
			parts := []struct {
				name string
				root fyne.CanvasObject
			}{{"name", p.name}, {"rename", p.rename}, {"delete", p.remove}, {"switch", p.toggle},
				{"preview", p.preview.card}, {"encoder", p.server.button}, {"encoder", p.key.copy},
				{"obs", p.obs.card}, {"recording", p.recCard}, {"outputs", p.outputs.card}}
			rank := func(o fyne.CanvasObject) int {
				for i, part := range parts {
					if contains(part.root, o) {
						return i
					}
				}
				return -1
			}
			c := h.win.Canvas()
			c.Unfocus()
			// One full round of Tab: until the first focused widget again.
			var ranks []int
			var first fyne.Focusable
			for range 100 {
				c.FocusNext()
				f := c.Focused()
				if f == nil || f == first {
					break
				}
				if first == nil {
					first = f
				}
				if r := rank(f.(fyne.CanvasObject)); r >= 0 { // else the streams list
					ranks = append(ranks, r)
				}
			}
			for i := 1; i < len(ranks); i++ {
				if ranks[i] < ranks[i-1] {
					t.Errorf("at %v px Tab goes from %s back to %s (order: %v)", width, parts[ranks[i-1]].name, parts[ranks[i]].name, ranks)
					break
				}
			}
			for _, want := range []int{0, 4, 5, 7, 9} {
				if !slices.Contains(ranks, want) {
					t.Errorf("at %v px Tab never reaches %s (order: %v)", width, parts[want].name, ranks)
				}
			}
		})
	}
}

// contains tells whether o is root or inside it.
func contains(root, o fyne.CanvasObject) bool {
	if root == o {
		return true
	}
	var kids []fyne.CanvasObject
	switch x := root.(type) {
	case *fyne.Container:
		kids = x.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(x).Objects()
	}
	for _, k := range kids {
		if contains(k, o) {
			return true
		}
	}
	return false
}
