package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// copyRow shows a value with a copy button; value is read when copying, so
// the row can stay while the value changes.
type copyRow struct {
	label  *widget.Label
	button *widget.Button
	value  func() string
	root   fyne.CanvasObject
}

func newCopyRow(clip func() fyne.Clipboard, value func() string) *copyRow {
	r := &copyRow{label: widget.NewLabel(value()), value: value}
	r.label.Wrapping = fyne.TextWrapBreak
	r.label.Selectable = true
	r.button = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		if c := clip(); c != nil {
			c.SetContent(r.value())
		}
	})
	r.root = container.NewBorder(nil, nil, nil, r.button, r.label)
	return r
}

func (r *copyRow) refresh() { r.label.SetText(r.value()) }

// secretField shows a secret as dots until revealed, with a copy button.
type secretField struct {
	label    *widget.Label
	reveal   *widget.Button
	copy     *widget.Button
	value    func() string
	revealed bool
	root     fyne.CanvasObject
}

const hiddenText = "••••••••••••••••"

func newSecretField(clip func() fyne.Clipboard, value func() string) *secretField {
	f := &secretField{label: widget.NewLabel(hiddenText), value: value}
	f.label.Wrapping = fyne.TextWrapBreak
	f.reveal = widget.NewButtonWithIcon("Show", theme.VisibilityIcon(), f.toggle)
	f.copy = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		if c := clip(); c != nil {
			c.SetContent(f.value())
		}
	})
	f.root = container.NewBorder(nil, nil, nil, container.NewHBox(f.reveal, f.copy), f.label)
	return f
}

func (f *secretField) toggle() {
	f.revealed = !f.revealed
	if f.revealed {
		f.reveal.SetText("Hide")
		f.reveal.SetIcon(theme.VisibilityOffIcon())
	} else {
		f.reveal.SetText("Show")
		f.reveal.SetIcon(theme.VisibilityIcon())
	}
	f.refresh()
}

// hide covers the secret again (another stream shown, a key reset).
func (f *secretField) hide() {
	if f.revealed {
		f.toggle()
	}
}

func (f *secretField) refresh() {
	if f.revealed {
		f.label.SetText(f.value())
	} else {
		f.label.SetText(hiddenText)
	}
}

// badge is a coloured status word: idle, waiting for the encoder, live.
type badge struct {
	bg   *canvas.Rectangle
	text *canvas.Text
	root fyne.CanvasObject
}

func newBadge() *badge {
	b := &badge{bg: canvas.NewRectangle(color.Transparent), text: canvas.NewText("", color.White)}
	b.bg.CornerRadius = 6
	b.text.TextStyle.Bold = true
	b.text.TextSize = theme.CaptionTextSize()
	b.root = container.NewStack(b.bg, container.NewPadded(b.text))
	return b
}

// Badge colours.
var (
	colourLive    = color.NRGBA{R: 0xd3, G: 0x2f, B: 0x2f, A: 0xff}
	colourWaiting = color.NRGBA{R: 0xef, G: 0x8f, B: 0x00, A: 0xff}
	colourIdle    = color.NRGBA{R: 0x75, G: 0x75, B: 0x75, A: 0xff}
	colourError   = color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
	colourOK      = color.NRGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}
)

func (b *badge) set(text string, c color.Color) {
	if b.text.Text != text {
		b.text.Text = text
		b.text.Refresh()
	}
	if b.bg.FillColor != c {
		b.bg.FillColor = c
		b.bg.Refresh()
	}
}

// fieldError is the inline message under a form field; empty hides it.
type fieldError struct{ *widget.Label }

func newFieldError() *fieldError {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return &fieldError{l}
}

func (e *fieldError) set(msg string) {
	e.SetText(msg)
	if msg == "" {
		e.Hide()
	} else {
		e.Show()
	}
}

func asRect(o fyne.CanvasObject) *canvas.Rectangle { return o.(*canvas.Rectangle) }
func asText(o fyne.CanvasObject) *canvas.Text      { return o.(*canvas.Text) }
