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

// renditionsLabel names a ladder for people: "Source only", or
// "Source + 480p (1.2 Mbit/s) + 360p (0.6 Mbit/s)".
func renditionsLabel(rs []livestream.Rendition) string {
	if len(rs) == 0 {
		return "Source only"
	}
	parts := []string{"Source"}
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%dp (%.1f Mbit/s)", r.Height, float64(r.Bitrate)/1e6))
	}
	return strings.Join(parts, " + ")
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
	hint := "players pick the one the viewer's connection carries"
	if active {
		sel.Disable()
		hint = "changes while the stream is idle"
	}
	h := widget.NewLabel(hint)
	h.Importance = widget.LowImportance
	return container.NewHBox(widget.NewLabel("Renditions"), sel, h)
}
