package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/assets"
	"github.com/onair-studio/onair/engine/livestream"
)

// Run opens the studio's window, starting the studio with start, and
// blocks until the user quits (from the window's menu or the tray).
// Closing the window keeps the studio serving in the tray where there is
// one. A taken port is asked about in the window. ready, when not nil, is
// called on the UI thread each time the studio's view has been put in the
// window.
//
// The window is made and shown first and the view built once it is up:
// making the window (the GL context) and loading the text faces (parsing
// the theme's fonts) are the two largest costs of a start, and the faces
// load on another core meanwhile (warmFaces), so that building the view
// finds them ready.
func Run(version string, start Starter, ready func()) {
	a := app.NewWithID(AppID)
	go warmFaces()
	icon := fyne.NewStaticResource("icon.png", assets.Icon)
	a.SetIcon(icon)
	w := a.NewWindow("OnAir Studio")
	prefs := a.Preferences()
	w.Resize(fyne.NewSize(float32(prefs.FloatWithFallback("window.width", 980)), float32(prefs.FloatWithFallback("window.height", 680))))
	var cancel context.CancelFunc = func() {}
	defer func() { cancel() }()
	var launch func()
	launch = func() {
		var ctx context.Context
		ctx, cancel = context.WithCancel(context.Background())
		eng, studio, pt, err := start()
		switch {
		case err != nil:
			w.SetContent(container.NewCenter(widget.NewLabel("OnAir Studio could not start:\n" + err.Error())))
			return
		case pt != nil:
			w.SetContent(portScreen(pt, launch, a.Quit))
			return
		}
		v := NewView(a, w, eng, studio, version)
		v.quit = func() {
			v.saveSize()
			a.Quit()
		}
		v.restart = func() {
			cancel()
			studio.Close()
			launch()
		}
		v.tray = trayAvailable()
		if d, ok := a.(desktop.App); ok && v.tray {
			d.SetSystemTrayIcon(icon)
			v.updateTray()
		}
		w.SetCloseIntercept(v.onClose)
		w.SetMainMenu(fyne.NewMainMenu(fyne.NewMenu("Studio",
			fyne.NewMenuItem("New stream…", v.showCreate),
			fyne.NewMenuItem("Library", v.showLibrary),
			fyne.NewMenuItem("Settings", v.showSettings),
			fyne.NewMenuItemSeparator(),
			fyne.NewMenuItem("About OnAir Studio", v.showAbout),
		)))
		v.Start(ctx)
		if ready != nil {
			ready()
		}
	}
	a.Lifecycle().SetOnStarted(launch)
	w.ShowAndRun()
}

// warmFaces measures a little text in each style the first page uses (the
// list: regular and bold; the stream page's monospace loads when opened),
// so that the faces are parsed and cached (Fyne's cache is safe to fill
// from any goroutine) before the view needs them.
func warmFaces() {
	for _, style := range []fyne.TextStyle{{}, {Bold: true}} {
		fyne.MeasureText("OnAir Studio 0123456789", theme.TextSize(), style)
	}
}

// onClose keeps the studio serving in the tray when there is one (and says
// so once); without a tray, closing the window quits, after asking when
// streams are on air.
func (v *View) onClose() {
	v.saveSize()
	if v.tray {
		v.hidden = true
		v.win.Hide()
		if !v.trayTold {
			v.trayTold = true
			v.app.SendNotification(fyne.NewNotification("OnAir Studio is still running",
				"Your streams stay on air. Open the studio or quit it from its icon in the tray."))
		}
		return
	}
	active := 0
	for _, st := range v.streams {
		if st.Status == livestream.StatusActive {
			active++
		}
	}
	if active == 0 {
		v.quit()
		return
	}
	v.act.confirm("Quit OnAir Studio?",
		fmt.Sprintf("%d stream(s) are active; quitting ends them and disconnects their encoders.", active),
		func(ok bool) {
			if ok {
				v.quit()
			}
		})
}

func (v *View) saveSize() {
	s := v.win.Canvas().Size()
	if s.Width > 100 && s.Height > 100 {
		v.app.Preferences().SetFloat("window.width", float64(s.Width))
		v.app.Preferences().SetFloat("window.height", float64(s.Height))
	}
}
