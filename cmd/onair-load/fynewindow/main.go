// Command fynewindow opens one Fyne window with one label and nothing
// else: the toolkit's own start on a machine (its GL driver, its fonts),
// which `onair-load -window -window-floor` times beside the studio's.
package main

import (
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.New()
	w := a.NewWindow("One label")
	w.SetContent(widget.NewLabel("OnAir Studio"))
	w.ShowAndRun()
}
