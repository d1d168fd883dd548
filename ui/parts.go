package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// partNames are the studio's parts as Settings names them.
var partNames = map[string]string{
	"store":   "Store",
	"http":    "API, HLS and pages",
	"rtmp":    "RTMP for encoders",
	"srt":     "SRT for encoders",
	"preview": "Live preview",
	"remote":  "Remote access (HTTPS)",
	"ffmpeg":  "Sound meters, preview sound (FFmpeg)",
	"encoder": "Renditions' encoder (FFmpeg)",
}

func partName(p livestream.Part) string {
	if n, ok := partNames[p.Name]; ok {
		return n
	}
	return p.Name
}

// partsDown names the optional parts that should run and do not (a part
// off by choice in the settings is not down), e.g. "SRT for encoders".
func partsDown(parts []livestream.Part) []string {
	var down []string
	for _, p := range parts {
		if !p.Up && p.Reason != "" && p.Reason != livestream.PartTurnedOff {
			down = append(down, partName(p))
		}
	}
	return down
}

// findPart returns the part named name.
func findPart(parts []livestream.Part, name string) (livestream.Part, bool) {
	for _, p := range parts {
		if p.Name == name {
			return p, true
		}
	}
	return livestream.Part{}, false
}

// partsCard lists the studio's parts in Settings: which run, where, and
// for those that do not, why and what to do (the same as GET …/status).
type partsCard struct {
	rows *fyne.Container
	card *widget.Card
	// retry tries the preview again (nil: not offered); the card is
	// loaded again when it ends.
	retry func()
}

func newPartsCard(retry func()) *partsCard {
	c := &partsCard{rows: container.NewVBox(), retry: retry}
	c.card = widget.NewCard("What runs", "The store, HTTP and RTMP are needed; the rest is optional and the studio runs without it",
		c.rows)
	return c
}

// load shows parts (UI thread).
func (c *partsCard) load(parts []livestream.Part) {
	c.rows.Objects = c.rows.Objects[:0]
	for _, p := range parts {
		icon := widget.NewIcon(theme.ConfirmIcon())
		var said string
		switch {
		case p.Up && p.Detail != "":
			said = p.Detail
		case p.Up && p.Address != "":
			said = p.Address
		case p.Up:
			said = "running"
		case p.Reason == livestream.PartTurnedOff:
			icon = widget.NewIcon(theme.MediaStopIcon())
			said = "off: " + p.Reason
		default:
			icon = widget.NewIcon(theme.ErrorIcon())
			said = "not running: " + p.Reason
		}
		name := widget.NewLabelWithStyle(partName(p), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		text := widget.NewLabel(said)
		text.Wrapping = fyne.TextWrapWord
		row := container.NewBorder(nil, nil, container.NewHBox(icon, name), nil, text)
		if !p.Up && p.Name == "preview" && c.retry != nil {
			row = container.NewBorder(nil, nil, container.NewHBox(icon, name),
				widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), c.retry), text)
		}
		c.rows.Add(row)
	}
	if down := partsDown(parts); len(down) > 0 {
		hint := widget.NewLabel("Fix what it says (the addresses are under Network and folders below), then restart the studio; the live preview can be tried again here.")
		hint.Wrapping = fyne.TextWrapWord
		c.rows.Add(hint)
	}
	c.rows.Refresh()
}

// partsOffLabel is the Settings button's text: it says when optional
// parts that should run do not.
func partsOffLabel(down []string) string {
	switch len(down) {
	case 0:
		return "Settings"
	case 1:
		return "Settings · 1 part off"
	}
	return fmt.Sprintf("Settings · %d parts off", len(down))
}
