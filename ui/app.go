// Package ui is the studio's Fyne window: the streams, each stream's
// page (encoder settings, status, what comes in, outputs) and the
// settings. It talks to the engine only through the interfaces in
// engine.go, calls it off the UI thread (actions.go), follows its events
// with one goroutine (state.go) and touches widgets only on the UI thread,
// through fyne.Do.
package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// AppID is the application's id (preferences, notifications).
const AppID = "studio.onair.app"

// View is the window's content over an Engine and a Studio. It works the
// same on the desktop and on a test app.
type View struct {
	deps
	follow *follower
	// obsLast is what the OBS monitor read last (UI thread).
	obsLast livestream.OBSSnapshot
	// Version is shown in the title and settings.
	version string

	streams    []livestream.StreamState // UI thread only
	selected   string                   // the stream shown, "" none
	onSettings bool
	onLibrary  bool
	// hidden: the window is closed to the tray (UI thread).
	hidden bool

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
	v := &View{version: version}
	v.deps = deps{eng: eng, studio: studio, app: a, win: win, do: do, nav: v,
		act: &actions{window: func() fyne.Window { return win }, do: do, dialogs: &dialogStack{}}}
	v.follow = &follower{eng: eng, apply: v.apply, notify: v.notifyEvent, do: do, failing: map[string]bool{}}
	v.list = newStreamList(v.deps)
	v.detail = container.NewStack()
	split := container.NewHSplit(v.list.root, v.detail)
	split.Offset = 0.27
	v.root = split
	v.showEmpty()
	win.SetContent(v.root)
	win.Canvas().SetOnTypedKey(v.act.typedKey) // Escape closes the dialog on top
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
	v.list.refresh(v.streams)
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

// selectedID is the shown stream's id ("" none).
func (v *View) selectedID() string { return v.selected }

// streamCount is how many streams are listed.
func (v *View) streamCount() int { return len(v.streams) }

func (v *View) partsChanged() { v.list.showParts() }

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
		v.page = newStreamPage(v.deps, st)
	}
	v.selected = id
	v.page.update(st)
	v.page.obs.show(v.obsLast, st)
	v.studio.OBS().Refresh()
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
		v.library = newLibraryPage(v.deps)
	}
	v.library.reload()
	v.showScreen(v.library.root, false, true)
}

// showAbout tells the studio's version.
func (v *View) showAbout() {
	v.act.show(dialog.NewInformation("About OnAir Studio",
		"OnAir Studio "+v.version+"\nA desktop broadcasting studio: RTMP in; low-latency HLS, recordings and simulcast out.", v.win))
}

// showSettings shows the settings screen.
func (v *View) showSettings() {
	if v.settings == nil {
		v.settings = newSettingsPage(v.deps, v.version, v.restart)
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
