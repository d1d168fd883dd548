// Package ui is the studio's Fyne window. It talks to the engine only
// through the small interface it declares and touches widgets only through
// fyne.Do.
package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/assets"
	"github.com/onair-studio/onair/engine/livestream"
)

// Engine is what the window needs from the studio.
type Engine interface {
	List() ([]livestream.StreamState, error)
	Subscribe(ctx context.Context) <-chan livestream.Event
}

// Info is shown in the window's header.
type Info struct {
	RTMPURL   string
	APIURL    string
	APIKey    string
	APISecret string
	Version   string
}

// Run opens the window and blocks until it is closed.
func Run(info Info, eng Engine) {
	a := app.NewWithID("studio.onair.app")
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	w := a.NewWindow("OnAir Studio " + info.Version)
	v := NewStudioView(info, eng)
	v.clipboard = a.Clipboard()
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(720, 480))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go v.Follow(ctx)
	w.ShowAndRun()
}

// StudioView is the main view: the server details and the list of streams.
type StudioView struct {
	eng       Engine
	rows      []livestream.StreamState // touched on the UI thread only
	list      *widget.List
	content   fyne.CanvasObject
	clipboard fyne.Clipboard
	secret    *widget.Entry
}

// NewStudioView builds the view; call Follow to keep it up to date.
func NewStudioView(info Info, eng Engine) *StudioView {
	v := &StudioView{eng: eng}
	v.list = widget.NewList(
		func() int { return len(v.rows) },
		func() fyne.CanvasObject { return widget.NewLabel("stream") },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			st := v.rows[i]
			o.(*widget.Label).SetText(fmt.Sprintf("%s — %s", st.Name, st.Status))
		},
	)
	// The secret stays hidden until revealed; every value can be copied.
	v.secret = widget.NewPasswordEntry()
	v.secret.SetText(info.APISecret)
	v.secret.Disable()
	header := widget.NewForm(
		widget.NewFormItem("RTMP server", v.copyRow(widget.NewLabel(info.RTMPURL), info.RTMPURL)),
		widget.NewFormItem("API", v.copyRow(widget.NewLabel(info.APIURL), info.APIURL)),
		widget.NewFormItem("API key", v.copyRow(widget.NewLabel(info.APIKey), info.APIKey)),
		widget.NewFormItem("API secret", v.copyRow(v.secret, info.APISecret)),
	)
	v.content = container.NewBorder(header, nil, nil, nil, v.list)
	return v
}

// copyRow puts a copy button after a value.
func (v *StudioView) copyRow(value fyne.CanvasObject, text string) fyne.CanvasObject {
	copyBtn := widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() {
		if v.clipboard != nil {
			v.clipboard.SetContent(text)
		}
	})
	return container.NewBorder(nil, nil, nil, copyBtn, value)
}

// Content is the view's root object.
func (v *StudioView) Content() fyne.CanvasObject { return v.content }

// Reload reads the streams and shows them (through fyne.Do).
func (v *StudioView) Reload() {
	got, err := v.eng.List()
	if err != nil {
		return
	}
	fyne.Do(func() {
		v.rows = got
		v.list.Refresh()
	})
}

// Follow reloads the view on every engine event until ctx ends.
func (v *StudioView) Follow(ctx context.Context) {
	v.Reload()
	for range v.eng.Subscribe(ctx) {
		v.Reload()
	}
}
