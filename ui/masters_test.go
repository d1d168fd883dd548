package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"
)

// Two screens as pictures (testdata/*.png, Fyne's test renderer and
// theme): the first start with no streams, and the new-stream dialog over
// it. A change to either's layout, wording or widgets shows here; when it
// is meant, the new pictures in testdata/failed/ replace the masters.
func TestImageMasters(t *testing.T) {
	h := newHarness(t)
	h.eventually("the empty state says what to do", func() bool {
		return h.shows("Create a stream, then paste its server and key into OBS")
	})
	h.ui(func() { test.AssertImageMatches(t, "empty.png", h.win.Canvas().Capture()) })
	h.tap("New stream")
	h.eventually("the dialog is open", func() bool { return h.v.createDlg != nil })
	h.ui(func() { test.AssertImageMatches(t, "create-dialog.png", h.win.Canvas().Capture()) })
}
