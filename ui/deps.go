package ui

import (
	"fyne.io/fyne/v2"

	"github.com/onair-studio/onair/engine/livestream"
)

// deps is what every page, card and dialog is given: the studio's two
// faces, the window, how to run work off the UI thread and how to move
// between screens. Pages hold a copy; none reaches back into the View.
type deps struct {
	eng    Engine
	studio Studio
	app    fyne.App
	win    fyne.Window
	act    *actions
	// do runs a function on the UI thread. It is fyne.Do; tests, whose
	// driver has no UI thread, serialise with a lock instead.
	do  func(func())
	nav navigator
}

// navigator moves between the window's screens and looks up the streams
// it lists. Its calls are made on the UI thread.
type navigator interface {
	// open shows a stream's page.
	open(id string)
	// find returns a listed stream.
	find(id string) (livestream.StreamState, bool)
	// selected is the id of the stream whose page is shown ("" none).
	selectedID() string
	// streamCount is how many streams are listed.
	streamCount() int
	showCreate()
	showSettings()
	// partsChanged shows again which parts of the studio run (a part was
	// retried).
	partsChanged()
	showLibrary()
	showDestination(streamID string, edit *livestream.OutputState)
}
