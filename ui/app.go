// Package ui is the studio's Fyne window: the streams, each stream's
// page (encoder settings, status, what comes in, outputs) and the
// settings. It talks to the engine only through the interfaces in
// engine.go, calls it off the UI thread (actions.go), follows its events
// with one goroutine (state.go) and touches widgets only on the UI thread,
// through fyne.Do.
package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/assets"
	"github.com/onair-studio/onair/engine/livestream"
)

// AppID is the application's id (preferences, notifications).
const AppID = "studio.onair.app"

// View is the window's content over an Engine and a Studio. It works the
// same on the desktop and on a test app.
type View struct {
	eng    Engine
	studio Studio
	app    fyne.App
	win    fyne.Window
	act    *actions
	follow *follower
	// Version is shown in the title and settings.
	version string
	// do runs a function on the UI thread. It is fyne.Do; tests, whose
	// driver has no UI thread, serialise with a lock instead.
	do func(func())

	streams    []livestream.StreamState // UI thread only
	selected   string                   // the stream shown, "" none
	onSettings bool
	onLibrary  bool

	list      *streamList
	page      *streamPage
	empty     fyne.CanvasObject // the empty state, made once
	emptyText *widget.Label
	settings  *settingsPage
	library   *libraryPage
	detail    *fyne.Container
	root      fyne.CanvasObject

	// createDlg is the open create dialog, if any.
	createDlg *createDialog
	destDlg   *destinationDialog
	// restart stops the studio and starts it again with the saved
	// settings; set by Run (nil: not offered).
	restart func()
	// quit stops the studio; set by Run.
	quit func()
	// tray: a system tray shows the studio's icon and menu.
	tray bool
	// trayTold: the "still running" notification was shown.
	trayTold bool
}

// NewView builds the window's content in win. Call Start to follow the
// engine.
func NewView(a fyne.App, win fyne.Window, eng Engine, studio Studio, version string) *View {
	return newView(a, win, eng, studio, version, fyne.Do)
}

func newView(a fyne.App, win fyne.Window, eng Engine, studio Studio, version string, do func(func())) *View {
	v := &View{eng: eng, studio: studio, app: a, win: win, version: version, do: do}
	v.act = &actions{window: func() fyne.Window { return v.win }, do: do}
	v.follow = &follower{eng: eng, apply: v.apply, notify: v.notifyEvent, do: do, failing: map[string]bool{}}
	v.list = newStreamList(v)
	v.detail = container.NewStack()
	split := container.NewHSplit(v.list.root, v.detail)
	split.Offset = 0.32
	v.root = split
	v.showEmpty()
	win.SetContent(v.root)
	win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault},
		func(fyne.Shortcut) { v.showCreate() })
	win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierShortcutDefault},
		func(fyne.Shortcut) { v.showSettings() })
	return v
}

// Start follows the engine's events until ctx ends, and polls the shown
// stream's statistics every second.
func (v *View) Start(ctx context.Context) {
	go v.follow.run(ctx)
	go v.pollStats(ctx)
	go v.watchOBS(ctx)
}

// Content is the window's root object.
func (v *View) Content() fyne.CanvasObject { return v.root }

// apply takes a reloaded list (UI thread).
func (v *View) apply(list []livestream.StreamState) {
	v.streams = list
	v.list.refresh()
	if v.selected != "" {
		st, ok := v.find(v.selected)
		if !ok {
			v.selected = ""
			v.showEmpty()
		} else if v.page != nil {
			v.page.update(st)
		}
	} else if !v.onSettings && !v.onLibrary {
		v.showEmpty()
	}
	v.updateTray()
}

func (v *View) find(id string) (livestream.StreamState, bool) {
	for _, st := range v.streams {
		if st.ID == id {
			return st, true
		}
	}
	return livestream.StreamState{}, false
}

// open shows a stream's page (UI thread).
func (v *View) open(id string) {
	st, ok := v.find(id)
	if !ok {
		return
	}
	v.onSettings, v.onLibrary = false, false
	if v.page == nil || v.selected != id {
		if v.page != nil {
			v.page.close()
		}
		v.page = newStreamPage(v, st)
	}
	v.selected = id
	v.page.update(st)
	v.refreshOBS()
	v.detail.Objects = []fyne.CanvasObject{v.page.root}
	v.detail.Refresh()
	v.list.selectID(id)
}

// showEmpty shows what to do when no stream is shown.
func (v *View) showEmpty() {
	text := "Select a stream on the left."
	if len(v.streams) == 0 {
		text = "No streams yet.\n\nCreate a stream, then paste its server and key into OBS\n(Settings > Stream > Service: Custom)."
	}
	if v.empty == nil {
		v.emptyText = widget.NewLabel("")
		v.emptyText.Alignment = fyne.TextAlignCenter
		create := widget.NewButtonWithIcon("Create a stream", theme.ContentAddIcon(), v.showCreate)
		create.Importance = widget.HighImportance
		v.empty = container.NewCenter(container.NewVBox(v.emptyText, container.NewCenter(create)))
	}
	v.emptyText.SetText(text)
	if len(v.detail.Objects) != 1 || v.detail.Objects[0] != v.empty {
		v.detail.Objects = []fyne.CanvasObject{v.empty}
		v.detail.Refresh()
	}
}

// showLibrary shows the recordings.
func (v *View) showLibrary() {
	if v.library == nil {
		v.library = newLibraryPage(v)
	}
	v.library.reload()
	v.showScreen(v.library.root, false, true)
}

// showAbout tells the studio's version.
func (v *View) showAbout() {
	dialog.ShowInformation("About OnAir Studio",
		"OnAir Studio "+v.version+"\nA desktop broadcasting studio: RTMP in; low-latency HLS, recordings and simulcast out.", v.win)
}

// showSettings shows the settings screen.
func (v *View) showSettings() {
	if v.settings == nil {
		v.settings = newSettingsPage(v)
	}
	v.settings.load()
	v.showScreen(v.settings.root, true, false)
}

// showScreen shows a screen that is not a stream's page.
func (v *View) showScreen(root fyne.CanvasObject, settings, library bool) {
	v.onSettings, v.onLibrary = settings, library
	v.selected = ""
	if v.page != nil {
		v.page.close()
	}
	v.page = nil
	v.list.unselect()
	v.detail.Objects = []fyne.CanvasObject{root}
	v.detail.Refresh()
}

// pollStats refreshes the shown live stream's statistics every second.
func (v *View) pollStats(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if n%2 == 0 { // OBS's status every 2 s while a stream's page is shown
			v.do(v.refreshOBS)
		}
		var id string
		done := make(chan struct{})
		v.do(func() {
			if v.page != nil && v.page.active {
				id = v.selected
			}
			// Recordings in progress grow, and uploads move, on the library screen.
			if v.onLibrary && v.library != nil && v.library.recording() {
				v.library.reload()
			}
			// Uptimes in the list move on.
			for _, st := range v.streams {
				if st.Publishing {
					v.list.list.Refresh()
					break
				}
			}
			close(done)
		})
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
		if id == "" {
			continue
		}
		st, ok, err := v.eng.Stats(id)
		if err != nil {
			continue
		}
		var cur *livestream.Asset
		if recs, _, _ := v.studio.Library().List(nil, 1, id); len(recs) == 1 && recs[0].Status == livestream.AssetRecording {
			cur = &recs[0]
		}
		v.do(func() {
			if v.page != nil && v.selected == id {
				v.page.showStats(st, ok)
				v.page.recCur = cur
				v.page.showRecording()
			}
		})
	}
}

// notifyEvent sends desktop notifications for a stream going live or idle
// (follower goroutine).
func (v *View) notifyEvent(ev livestream.Event) {
	switch ev.Type {
	case livestream.EventAssetRecording, livestream.EventAssetReady, livestream.EventAssetDeleted, livestream.EventAssetUpdated:
		v.do(func() {
			if v.onLibrary && v.library != nil {
				v.library.reload()
			}
		})
		return
	}
	if strings.HasPrefix(ev.Type, "output.") {
		v.notifyDestination(ev)
		return
	}
	var title string
	switch ev.Type {
	case livestream.EventStreamConnected:
		title = "is live"
	case livestream.EventStreamIdle:
		title = "is idle"
	default:
		return
	}
	st, err := v.eng.Get(ev.StreamID)
	name := "A stream"
	if err == nil {
		name = st.Name
	}
	v.do(func() { v.app.SendNotification(fyne.NewNotification(name+" "+title, ev.Message)) })
}

// notifyDestination tells when a simulcast destination fails, once until
// it broadcasts again, and when it recovers (follower goroutine).
func (v *View) notifyDestination(ev livestream.Event) {
	failing := v.follow.failing
	switch livestream.OutputStatus(ev.Status) {
	case livestream.OutputErrored:
		if failing[ev.OutputID] {
			return
		}
	case livestream.OutputBroadcasting:
		if !failing[ev.OutputID] {
			return
		}
	default:
		return
	}
	st, err := v.eng.Get(ev.StreamID)
	if err != nil {
		return
	}
	var out livestream.OutputState
	for _, o := range st.Outputs {
		if o.ID == ev.OutputID {
			out = o
		}
	}
	if out.Type != livestream.OutputSimulcast {
		return
	}
	var n *fyne.Notification
	if ev.Status == string(livestream.OutputErrored) {
		failing[ev.OutputID] = true
		n = fyne.NewNotification(st.Name+": "+out.Name+" failed", ev.Message)
	} else {
		delete(failing, ev.OutputID)
		n = fyne.NewNotification(st.Name+": "+out.Name+" is back", "The stream reaches "+out.Name+" again.")
	}
	v.do(func() { v.app.SendNotification(n) })
}

// updateTray lists the streams in the tray menu (UI thread).
func (v *View) updateTray() {
	d, ok := v.app.(desktop.App)
	if !ok || v.quit == nil || !v.tray {
		return
	}
	items := []*fyne.MenuItem{fyne.NewMenuItem("Open OnAir Studio", func() { v.win.Show(); v.win.RequestFocus() })}
	if len(v.streams) > 0 {
		items = append(items, fyne.NewMenuItemSeparator())
	}
	for _, st := range v.streams {
		id := st.ID
		items = append(items, fyne.NewMenuItem(fmt.Sprintf("%s — %s", st.Name, statusText(st, time.Now())), func() {
			v.win.Show()
			v.open(id)
		}))
	}
	items = append(items, fyne.NewMenuItemSeparator(), fyne.NewMenuItem("Quit", v.quit))
	m := fyne.NewMenu("OnAir Studio", items...)
	d.SetSystemTrayMenu(m)
}

// Run opens the studio's window, starting the studio with start, and
// blocks until the user quits (from the window's menu or the tray).
// Closing the window keeps the studio serving in the tray where there is
// one. A taken port is asked about in the window.
func Run(version string, start Starter) {
	a := app.NewWithID(AppID)
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
	}
	launch()
	w.ShowAndRun()
}

// onClose keeps the studio serving in the tray when there is one (and says
// so once); without a tray, closing the window quits, after asking when
// streams are on air.
func (v *View) onClose() {
	v.saveSize()
	if v.tray {
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
	dialog.ShowConfirm("Quit OnAir Studio?",
		fmt.Sprintf("%d stream(s) are active; quitting ends them and disconnects their encoders.", active),
		func(ok bool) {
			if ok {
				v.quit()
			}
		}, v.win)
}

func (v *View) saveSize() {
	s := v.win.Canvas().Size()
	if s.Width > 100 && s.Height > 100 {
		v.app.Preferences().SetFloat("window.width", float64(s.Width))
		v.app.Preferences().SetFloat("window.height", float64(s.Height))
	}
}
