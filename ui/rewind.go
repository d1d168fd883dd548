package ui

import (
	"fmt"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// rewindChoices are the DVR windows the window offers, in seconds; the API
// takes any number up to four hours (shown as it is).
var rewindChoices = []int{0, 60, 5 * 60, 15 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600}

// rewindLabel names a DVR window for people.
func rewindLabel(sec int) string {
	switch {
	case sec == 0:
		return "Off (live only)"
	case sec%3600 == 0:
		if sec == 3600 {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", sec/3600)
	case sec%60 == 0:
		if sec == 60 {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", sec/60)
	}
	return fmt.Sprintf("%d seconds", sec)
}

// rewindRow is the HLS output's DVR window: how far back viewers of the
// watch page (or any player) may seek. It changes while the stream is idle.
func (o *outputsSection) rewindRow(out livestream.OutputState, active bool) fyne.CanvasObject {
	secs := slices.Clone(rewindChoices)
	if !slices.Contains(secs, out.DVRWindowSec) {
		secs = append(secs, out.DVRWindowSec)
		slices.Sort(secs)
	}
	labels := make([]string, len(secs))
	for i, s := range secs {
		labels[i] = rewindLabel(s)
	}
	sel := widget.NewSelect(labels, nil)
	sel.SetSelected(rewindLabel(out.DVRWindowSec))
	id := o.p.id
	sel.OnChanged = func(label string) {
		i := slices.Index(labels, label)
		if i < 0 || secs[i] == out.DVRWindowSec {
			return
		}
		sec := secs[i]
		sel.Disable()
		o.p.d.act.run("Setting the rewind window", func() error {
			_, err := o.p.d.eng.UpdateOutput(id, out.ID, livestream.OutputParams{DVRWindowSec: &sec})
			return err
		}, func(err error) {
			sel.Enable()
			if err != nil {
				o.p.d.act.showError("Setting the rewind window", err)
				sel.SetSelected(rewindLabel(out.DVRWindowSec))
			}
		})
	}
	hint := "viewers can seek back this far; kept on disk"
	if active {
		sel.Disable()
		hint = "changes while the stream is idle"
	}
	h := widget.NewLabel(hint)
	h.Importance = widget.LowImportance
	return container.NewHBox(widget.NewLabel("Rewind"), sel, h)
}

// rewindText is the stats line of a DVR window: what it keeps now.
func rewindText(d livestream.DVRStats) string {
	if d.Window == 0 {
		return ""
	}
	if d.LowDisk {
		return fmt.Sprintf("Rewind: live only for now — the disk is nearly full (%s kept)", size(d.Bytes))
	}
	return fmt.Sprintf("Rewind: %s of %s kept · %s on disk", uptime(d.Kept), uptime(d.Window.Round(time.Second)), size(d.Bytes))
}
