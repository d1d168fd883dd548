package ui

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// dialogStack keeps the window's open dialogs, newest last, so that
// Escape closes the one on top (as Cancel or No would). UI thread only.
type dialogStack struct{ open []dialog.Dialog }

// track adds dlg until it closes, however it closes.
func (s *dialogStack) track(dlg dialog.Dialog) {
	s.open = append(s.open, dlg)
	dlg.SetOnClosed(func() {
		if i := slices.Index(s.open, dlg); i >= 0 {
			s.open = slices.Delete(s.open, i, i+1)
		}
	})
}

// escape closes the newest dialog; false when none is open.
func (s *dialogStack) escape() bool {
	if len(s.open) == 0 {
		return false
	}
	s.open[len(s.open)-1].Hide()
	return true
}

// show shows dlg, closed by Escape too (UI thread).
func (a *actions) show(dlg dialog.Dialog) {
	a.dialogs.track(dlg)
	dlg.Show()
}

// confirm asks a yes/no question; Escape answers no (UI thread).
func (a *actions) confirm(title, message string, answer func(bool)) {
	a.show(dialog.NewConfirm(title, message, answer, a.window()))
}

// typedKey is the window's key handler for keys no widget takes:
// Escape closes the dialog on top.
func (a *actions) typedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape {
		a.dialogs.escape()
	}
}

// entry is a text entry that passes Escape on to the window (closing the
// dialog it is in); Fyne's entry keeps every key it is given.
type entry struct {
	widget.Entry
}

func newEntry() *entry {
	e := &entry{}
	e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	e.ExtendBaseWidget(e)
	return e
}

// newPasswordEntry is newEntry for secrets, hidden until revealed with its
// eye button.
func newPasswordEntry() *entry {
	e := newEntry()
	e.Password = true
	var eye *widget.Button
	eye = widget.NewButtonWithIcon("", theme.VisibilityOffIcon(), func() {
		e.Password = !e.Password
		if e.Password {
			eye.SetIcon(theme.VisibilityOffIcon())
		} else {
			eye.SetIcon(theme.VisibilityIcon())
		}
		e.Refresh()
	})
	eye.Importance = widget.LowImportance
	e.ActionItem = eye
	return e
}

// TypedKey hands Escape to the window's handler, other keys to the entry.
func (e *entry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape {
		if c := fyne.CurrentApp().Driver().CanvasForObject(e); c != nil && c.OnTypedKey() != nil {
			c.OnTypedKey()(ev)
		}
		return
	}
	e.Entry.TypedKey(ev)
}
