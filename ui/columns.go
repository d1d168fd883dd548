package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// wideWindow is the window width from which a stream's page has two
// columns.
const wideWindow = 1100

// columns lays out two objects side by side, each half the width, when
// wide says so, and one above the other otherwise. wide is asked at each
// layout (the window's width), so a resize switches at once.
type columns struct{ wide func() bool }

// MinSize is the taller column's height when wide (the page scrolls), the
// sum when stacked; the width is the wider column's either way, so that
// two columns never make the window wider than it is.
func (c columns) MinSize(objects []fyne.CanvasObject) fyne.Size {
	pad := theme.Padding()
	var w, h, tallest float32
	shown := 0
	for _, o := range objects {
		if !o.Visible() {
			continue
		}
		m := o.MinSize()
		w = max(w, m.Width)
		h += m.Height
		tallest = max(tallest, m.Height)
		shown++
	}
	if c.wide() {
		return fyne.NewSize(w, tallest)
	}
	if shown > 1 {
		h += pad * float32(shown-1)
	}
	return fyne.NewSize(w, h)
}

// Layout places the columns.
func (c columns) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	if c.wide() && len(objects) == 2 {
		// Halves, unless the right column's forms and buttons need more:
		// then it gets what it needs and the left (a picture and graphs,
		// which scale) the rest.
		right := max((size.Width-pad)/2, min(objects[1].MinSize().Width, size.Width*0.6))
		left := size.Width - pad - right
		objects[0].Move(fyne.NewPos(0, 0))
		objects[0].Resize(fyne.NewSize(left, size.Height))
		objects[1].Move(fyne.NewPos(left+pad, 0))
		objects[1].Resize(fyne.NewSize(right, size.Height))
		return
	}
	var y float32
	for _, o := range objects {
		if !o.Visible() {
			continue
		}
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h + pad
	}
}
