package ui

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"github.com/onair-studio/onair/engine/livestream"
)

// actions runs engine calls off the UI thread (they fsync), and hands
// results back through fyne.Do. Failures go to an error dialog unless the
// caller handles them.
type actions struct {
	window func() fyne.Window
	// do runs a function on the UI thread: fyne.Do.
	do func(func())
	// dialogs are the open dialogs, for Escape (UI thread).
	dialogs *dialogStack
}

// run calls f in its own goroutine; then, on the UI thread, done (if not
// nil) with f's error. When done is nil, an error is shown in a dialog.
func (a *actions) run(what string, f func() error, done func(error)) {
	go func() {
		err := f()
		a.do(func() {
			if done != nil {
				done(err)
			} else if err != nil {
				a.showError(what, err)
			}
		})
	}()
}

// showError shows err in a dialog (on the UI thread).
func (a *actions) showError(what string, err error) {
	w := a.window()
	if w == nil {
		return
	}
	a.show(dialog.NewError(fmt.Errorf("%s: %s", what, plain(err)), w))
}

// plain says an engine error in the user's words.
func plain(err error) string {
	var ve *livestream.ValidationError
	switch {
	case errors.As(err, &ve):
		return ve.Message
	case errors.Is(err, livestream.ErrNotFound):
		return "it was deleted meanwhile"
	}
	return err.Error()
}
