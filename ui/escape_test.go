package ui

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"fyne.io/fyne/v2"
)

// escape presses Escape as the window's driver delivers it: to the
// focused widget, or to the window when none has the focus.
func (h *harness) escape() {
	h.ui(func() {
		ev := &fyne.KeyEvent{Name: fyne.KeyEscape}
		c := h.win.Canvas()
		if f := c.Focused(); f != nil {
			f.TypedKey(ev)
		} else if k := c.OnTypedKey(); k != nil {
			k(ev)
		}
	})
}

// dialogOpen tells whether a dialog is over the window.
func (h *harness) dialogOpen() bool { return h.win.Canvas().Overlays().Top() != nil }

// Escape closes each of the window's dialogs as Cancel or No would: the
// new-stream dialog (its name field has the focus), the destination
// dialog (focus in the server URL), the webhook's one-time secret, a
// confirmation (answered no: nothing is deleted) and an error.
func TestEscapeClosesEveryDialog(t *testing.T) {
	h := newHarness(t)
	opened := func(what string) {
		t.Helper()
		h.eventually(what+" open", h.dialogOpen)
	}
	closed := func(what string) {
		t.Helper()
		h.escape()
		h.eventually(what+" closed by Escape", func() bool { return !h.dialogOpen() })
	}

	h.tap("New stream")
	opened("the new-stream dialog")
	h.ui(func() {
		if h.win.Canvas().Focused() == nil {
			t.Error("the new-stream dialog opens with no field focused")
		}
	})
	closed("the new-stream dialog")
	if list, _ := h.eng.List(); len(list) != 0 {
		t.Fatalf("Escape created %d streams", len(list))
	}

	st := h.createByTyping("Escape show")
	h.tap("Add destination")
	opened("the destination dialog")
	h.ui(func() { h.win.Canvas().Focus(h.v.destDlg.uri.entry) })
	closed("the destination dialog")
	if got, _ := h.eng.Get(st.ID); len(got.Outputs) != 2 {
		t.Fatalf("Escape added a destination: %d outputs", len(got.Outputs))
	}

	h.tap("Delete")
	opened("the delete confirmation")
	closed("the delete confirmation")
	if _, err := h.eng.Get(st.ID); err != nil {
		t.Fatalf("Escape deleted the stream: %v", err)
	}

	h.ui(func() { h.v.act.showError("Trying something", errors.New("it failed")) })
	opened("the error")
	closed("the error")

	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer rcv.Close()
	h.ui(func() { h.v.showSettings() })
	h.eventually("the webhooks section", func() bool { return h.shows("No webhooks yet.") })
	h.typeInto(h.v.settings.hooks.url.entry, rcv.URL+"/hook")
	h.tap("Add webhook")
	opened("the webhook's secret")
	h.ui(func() { h.win.Canvas().Unfocus() })
	closed("the webhook's secret")

	// With no dialog open, Escape does nothing (and does not fail).
	h.escape()
}
