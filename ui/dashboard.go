package ui

import (
	"fmt"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// dashboard is the stream page's graphs of the last five minutes: what
// comes in (bitrate with drop marks, frame rate), who watches, and OBS's
// congestion while OBS streams here. The stats poller feeds it a snapshot
// of the engine's history each second while the page is open; nothing is
// kept or drawn for a page that is not.
type dashboard struct {
	bitrate, fps, viewers, congestion *graph
	card                              *widget.Card
}

func newDashboard() *dashboard {
	d := &dashboard{}
	d.bitrate = newGraph("Bitrate in", func(v float64) string { return fmt.Sprintf("%.0f kbit/s", v) },
		series{name: "bitrate", colour: theme.ColorNamePrimary, value: func(s livestream.Sample) (float64, bool) { return s.BitrateKbps, s.Publishing }})
	d.bitrate.marks = func(s livestream.Sample) bool { return s.Dropped > 0 }
	d.fps = newGraph("Frame rate in", func(v float64) string { return fmt.Sprintf("%.1f fps", v) },
		series{name: "fps", colour: theme.ColorNameSuccess, value: func(s livestream.Sample) (float64, bool) { return s.FrameRate, s.Publishing }})
	d.fps.floor = 30
	d.viewers = newGraph("Viewers", func(v float64) string { return fmt.Sprintf("%.0f", v) },
		series{name: "HLS", colour: theme.ColorNamePrimary, value: func(s livestream.Sample) (float64, bool) { return float64(s.HLSViewers), true }},
		series{name: "preview", colour: theme.ColorNameWarning, value: func(s livestream.Sample) (float64, bool) { return float64(s.PreviewViewers), true }})
	d.viewers.floor = 4
	d.congestion = newGraph("OBS congestion", func(v float64) string { return fmt.Sprintf("%.0f %%", v*100) },
		series{name: "congestion", colour: theme.ColorNameError, value: func(s livestream.Sample) (float64, bool) {
			if s.OBSCongestion == nil {
				return math.NaN(), false
			}
			return *s.OBSCongestion, true
		}})
	d.congestion.floor = 0.2
	d.congestion.Hide()
	// The time axis, once under the graphs, with how to read them.
	caption := func(text string, align fyne.TextAlign) *widget.Label {
		l := widget.NewLabelWithStyle(text, align, fyne.TextStyle{})
		l.SizeName = theme.SizeNameCaptionText
		return l
	}
	axis := container.NewBorder(nil, nil, caption("5 min ago", fyne.TextAlignLeading), caption("now", fyne.TextAlignTrailing),
		caption("point at a graph for that second · red: dropped", fyne.TextAlignCenter))
	d.card = widget.NewCard("Last 5 minutes", "", container.NewVBox(d.bitrate, d.fps, d.viewers, d.congestion, axis))
	return d
}

// set shows the history (UI thread).
func (d *dashboard) set(samples []livestream.Sample) {
	d.bitrate.set(samples)
	d.fps.set(samples)
	d.viewers.set(samples)
	obs := false
	for _, s := range samples {
		if s.OBSCongestion != nil {
			obs = true
			break
		}
	}
	if obs {
		d.congestion.set(samples)
		d.congestion.Show()
	} else if d.congestion.Visible() {
		d.congestion.Hide()
	}
}
