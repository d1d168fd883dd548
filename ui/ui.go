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
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// Engine is what the window needs from the studio.
type Engine interface {
	List() ([]livestream.StreamState, error)
	Subscribe(ctx context.Context) <-chan livestream.Event
}

// Info is shown in the window's header.
type Info struct {
	RTMPURL string
	APIURL  string
	APIKey  string
	Version string
}

// Run opens the window and blocks until it is closed.
func Run(info Info, eng Engine) {
	a := app.NewWithID("studio.onair.app")
	w := a.NewWindow("OnAir Studio " + info.Version)
	w.SetContent(New(info, eng, context.Background()))
	w.Resize(fyne.NewSize(720, 480))
	w.ShowAndRun()
}

// New builds the window's content and keeps it up to date until ctx ends.
func New(info Info, eng Engine, ctx context.Context) fyne.CanvasObject {
	var rows []livestream.StreamState
	list := widget.NewList(
		func() int { return len(rows) },
		func() fyne.CanvasObject { return widget.NewLabel("stream") },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			st := rows[i]
			o.(*widget.Label).SetText(fmt.Sprintf("%s — %s", st.Name, st.Status))
		},
	)
	refresh := func() {
		got, err := eng.List()
		fyne.Do(func() {
			if err == nil {
				rows = got
			}
			list.Refresh()
		})
	}
	refresh()
	events := eng.Subscribe(ctx)
	go func() {
		for range events {
			refresh()
		}
	}()
	header := widget.NewForm(
		widget.NewFormItem("RTMP server", widget.NewLabel(info.RTMPURL)),
		widget.NewFormItem("API", widget.NewLabel(info.APIURL)),
		widget.NewFormItem("API key", widget.NewLabel(info.APIKey)),
	)
	return container.NewBorder(header, nil, nil, nil, list)
}
