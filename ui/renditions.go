package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// renditionChoices are the ladders the window offers below the source;
// the API takes any (shown as it is).
var renditionChoices = [][]livestream.Rendition{
	nil,
	{{Height: 480, Bitrate: 1_200_000}},
	{{Height: 480, Bitrate: 1_200_000}, {Height: 360, Bitrate: 600_000}},
	{{Height: 720, Bitrate: 2_500_000}, {Height: 480, Bitrate: 1_200_000}, {Height: 360, Bitrate: 600_000}},
}

// renditionsLabel names a ladder for people, short enough for its
// choice: "Source only", or "480p + 360p" (below the source).
func renditionsLabel(rs []livestream.Rendition) string {
	if len(rs) == 0 {
		return "Source only"
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%dp", r.Height)
	}
	return strings.Join(parts, " + ")
}

// renditionsRates says a ladder's bitrates: "1.2 + 0.6 Mbit/s".
func renditionsRates(rs []livestream.Rendition) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%.1f", float64(r.Bitrate)/1e6)
	}
	return strings.Join(parts, " + ") + " Mbit/s"
}

// renditionsRow is the HLS output's renditions: lower-quality copies the
// studio encodes (FFmpeg) for viewers on slow connections, whose players
// choose among them. It changes while the stream is idle.
func (o *outputsSection) renditionsRow(out livestream.OutputState, active bool) fyne.CanvasObject {
	ladders := slices.Clone(renditionChoices)
	if !slices.ContainsFunc(ladders, func(l []livestream.Rendition) bool { return slices.Equal(l, out.Renditions) }) {
		ladders = append(ladders, out.Renditions)
	}
	labels := make([]string, len(ladders))
	for i, l := range ladders {
		labels[i] = renditionsLabel(l)
	}
	sel := widget.NewSelect(labels, nil)
	sel.SetSelected(renditionsLabel(out.Renditions))
	id := o.p.id
	sel.OnChanged = func(label string) {
		i := slices.Index(labels, label)
		if i < 0 || slices.Equal(ladders[i], out.Renditions) {
			return
		}
		rs := append([]livestream.Rendition{}, ladders[i]...)
		sel.Disable()
		o.p.d.act.run("Setting the renditions", func() error {
			_, err := o.p.d.eng.UpdateOutput(id, out.ID, livestream.OutputParams{Renditions: &rs})
			return err
		}, func(err error) {
			sel.Enable()
			if err != nil {
				o.p.d.act.showError("Setting the renditions", err)
				sel.SetSelected(renditionsLabel(out.Renditions))
			}
		})
	}
	hint := "the source alone"
	if len(out.Renditions) > 0 {
		hint = "below the source, " + renditionsRates(out.Renditions) + "; players pick what the connection carries"
	}
	if active {
		sel.Disable()
		hint = "changes while the stream is idle"
		if len(out.Renditions) > 0 {
			hint = renditionsRates(out.Renditions) + " below the source · " + hint
		}
	}
	h := widget.NewLabel(hint)
	h.Importance = widget.LowImportance
	return container.NewHBox(widget.NewLabel("Renditions"), sel, h)
}
