package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/onair-studio/onair/engine/livestream"
)

// notifyEvent sends desktop notifications for a stream going live or idle
// (follower goroutine).
func (v *View) notifyEvent(ev livestream.Event) {
	switch ev.Type {
	case livestream.EventAssetRecording, livestream.EventAssetProcessing, livestream.EventAssetReady, livestream.EventAssetDeleted, livestream.EventAssetUpdated:
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
// showWindow shows the window closed to the tray (UI thread).
func (v *View) showWindow() {
	v.hidden = false
	v.win.Show()
}

func (v *View) updateTray() {
	d, ok := v.app.(desktop.App)
	if !ok || v.quit == nil || !v.tray {
		return
	}
	items := []*fyne.MenuItem{fyne.NewMenuItem("Open OnAir Studio", func() { v.showWindow(); v.win.RequestFocus() })}
	if len(v.streams) > 0 {
		items = append(items, fyne.NewMenuItemSeparator())
	}
	for _, st := range v.streams {
		id := st.ID
		items = append(items, fyne.NewMenuItem(fmt.Sprintf("%s — %s", st.Name, statusText(st, time.Now())), func() {
			v.showWindow()
			v.open(id)
		}))
	}
	items = append(items, fyne.NewMenuItemSeparator(), fyne.NewMenuItem("Quit", v.quit))
	m := fyne.NewMenu("OnAir Studio", items...)
	d.SetSystemTrayMenu(m)
}
