package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// PortTaken says that the studio could not start because another program
// uses one of its ports.
type PortTaken struct {
	// What the port is for, e.g. "RTMP (encoders)".
	What string
	Addr string
	// UseFree picks a free port instead and saves it for later starts.
	UseFree func() error
}

// Starter starts the studio. It returns a PortTaken (and no error) when a
// port is taken, so that the window can ask what to do.
type Starter func() (Engine, Studio, *PortTaken, error)

// portScreen explains a taken port and offers a free one or quitting.
func portScreen(pt *PortTaken, retry func(), quit func()) fyne.CanvasObject {
	msg := widget.NewLabel(fmt.Sprintf("Another program already uses %s, the port for %s.\n\n"+
		"OnAir Studio can use a free port instead and remember it; encoders and scripts then need the new address, "+
		"which the studio shows. Or quit, and stop the other program first.", pt.Addr, pt.What))
	msg.Wrapping = fyne.TextWrapWord
	errText := widget.NewLabel("")
	errText.Importance = widget.DangerImportance
	errText.Wrapping = fyne.TextWrapWord
	use := widget.NewButton("Use a free port", func() {
		if err := pt.UseFree(); err != nil {
			errText.SetText(err.Error())
			return
		}
		retry()
	})
	use.Importance = widget.HighImportance
	return container.NewCenter(container.NewGridWrap(fyne.NewSize(560, 260), container.NewVBox(
		widget.NewLabelWithStyle("A port is taken", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		msg, errText, container.NewHBox(layoutSpacer(), widget.NewButton("Quit", quit), use))))
}
