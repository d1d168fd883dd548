package ui

import (
	"fmt"
	"image"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// statusText says where a stream is: idle, waiting for the encoder, or
// live with its uptime.
func statusText(st livestream.StreamState, now time.Time) string {
	switch {
	case st.Status != livestream.StatusActive:
		return "idle"
	case !st.Publishing:
		return "waiting for the encoder"
	}
	return "live · " + uptime(now.Sub(st.ActiveSince))
}

func statusColour(st livestream.StreamState) color.Color {
	switch {
	case st.Status != livestream.StatusActive:
		return colourIdle
	case !st.Publishing:
		return colourWaiting
	}
	return colourLive
}

// uptime writes a duration as H:MM:SS or M:SS.
func uptime(d time.Duration) string {
	d = d.Truncate(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}

// streamList is the left column: the streams, newest first, with their
// status, and the buttons to create one and to open the settings.
type streamList struct {
	d     deps
	items []livestream.StreamState // as the View lists them (UI thread)
	// sparks are the live streams' bitrates of the last minute, by id
	// (UI thread; the stats poller replaces them).
	sparks map[string][]float64
	// thumbs are the live streams' pictures, by id (UI thread; the stats
	// poller replaces them every few seconds while the window shows).
	thumbs   map[string]image.Image
	list     *widget.List
	empty    *widget.Label
	create   *widget.Button
	library  *widget.Button
	settings *widget.Button
	root     fyne.CanvasObject
}

func newStreamList(d deps) *streamList {
	l := &streamList{d: d}
	l.list = widget.NewList(
		func() int { return len(l.items) },
		func() fyne.CanvasObject {
			name := widget.NewLabel("stream name")
			name.Truncation = fyne.TextTruncateEllipsis
			name.TextStyle.Bold = true
			b := newBadge()
			spark := newSparkline()
			spark.Hide()
			thumb := canvas.NewImageFromImage(nil)
			thumb.FillMode = canvas.ImageFillContain
			thumb.ScaleMode = canvas.ImageScaleFastest
			thumb.SetMinSize(fyne.NewSize(thumbWidth, thumbWidth*9/16))
			thumb.Hide()
			// The picture's place, shown empty when there is none, so that
			// every row's name starts at the same place.
			blank := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
			blank.CornerRadius = theme.InputRadiusSize()
			blank.SetMinSize(thumb.MinSize())
			pic := container.NewStack(blank, thumb)
			return container.NewBorder(nil, nil, container.NewCenter(pic), container.NewHBox(container.NewCenter(spark), container.NewCenter(b.root)), name)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(l.items) {
				return
			}
			st := l.items[i]
			c := o.(*fyne.Container)
			// Unchanged text is not set again: a label shapes its text
			// at each SetText, and the list refreshes every second.
			if name := c.Objects[0].(*widget.Label); name.Text != st.Name {
				name.SetText(st.Name)
			}
			thumb := c.Objects[1].(*fyne.Container).Objects[0].(*fyne.Container).Objects[1].(*canvas.Image)
			right := c.Objects[2].(*fyne.Container)
			spark := right.Objects[0].(*fyne.Container).Objects[0].(*sparkline)
			if st.Publishing {
				spark.set(l.sparks[st.ID])
				showThumb(thumb, l.thumbs[st.ID])
			} else {
				spark.set(nil)
				showThumb(thumb, nil)
			}
			stack := right.Objects[1].(*fyne.Container).Objects[0].(*fyne.Container)
			bg := stack.Objects[0]
			txt := stack.Objects[1].(*fyne.Container).Objects[0]
			b := &badge{bg: asRect(bg), text: asText(txt)}
			b.set(statusText(st, time.Now()), statusColour(st))
		},
	)
	l.list.OnSelected = func(i widget.ListItemID) {
		if i < len(l.items) && l.items[i].ID != d.nav.selectedID() {
			d.nav.open(l.items[i].ID)
		}
	}
	l.create = widget.NewButtonWithIcon("New stream", theme.ContentAddIcon(), d.nav.showCreate)
	l.create.Importance = widget.HighImportance
	l.settings = widget.NewButtonWithIcon("Settings", theme.SettingsIcon(), d.nav.showSettings)
	l.library = widget.NewButtonWithIcon("Library", theme.StorageIcon(), d.nav.showLibrary)
	l.empty = widget.NewLabel("")
	l.empty.Alignment = fyne.TextAlignCenter
	title := widget.NewLabelWithStyle("Streams", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	top := container.NewBorder(nil, nil, title, l.create)
	l.root = container.NewBorder(top, container.NewGridWithColumns(2, l.library, l.settings), nil, nil, container.NewStack(l.list, container.NewCenter(l.empty)))
	return l
}

// thumbWidth is the width of a live stream's picture in the list.
const thumbWidth = 64

// showThumb shows img in a list row's picture, or hides it (nil).
func showThumb(c *canvas.Image, img image.Image) {
	switch {
	case img == nil:
		if c.Visible() {
			c.Image = nil
			c.Hide()
		}
	case c.Image != img:
		c.Image = img
		c.Show()
		c.Refresh()
	}
}

// showParts marks the Settings button when an optional part of the studio
// that should run does not (Settings says which and why).
func (l *streamList) showParts() {
	down := partsDown(l.d.studio.Parts())
	if text := partsOffLabel(down); text != l.settings.Text {
		l.settings.SetText(text)
		l.settings.SetIcon(theme.SettingsIcon())
		l.settings.Importance = widget.MediumImportance
		if len(down) > 0 {
			l.settings.SetIcon(theme.WarningIcon())
			l.settings.Importance = widget.WarningImportance
		}
		l.settings.Refresh()
	}
}

// refresh shows the streams (UI thread).
func (l *streamList) refresh(items []livestream.StreamState) {
	l.showParts()
	l.items = items
	if len(items) == 0 {
		l.empty.Show()
	} else {
		l.empty.Hide()
	}
	l.list.Refresh()
	if id := l.d.nav.selectedID(); id != "" {
		l.selectID(id)
	}
}

// selectID marks the row of id without reopening it.
func (l *streamList) selectID(id string) {
	for i, st := range l.items {
		if st.ID == id {
			l.list.Select(i)
			return
		}
	}
}

func (l *streamList) unselect() { l.list.UnselectAll() }
