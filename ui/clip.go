package ui

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// clipPicture is the width of the pictures at a clip's two ends.
const clipPicture = 256

// clipDialog cuts a clip out of a recording: a slider for each end, the
// picture at each, an optional name.
type clipDialog struct {
	d          deps
	a          livestream.Asset
	start, end *widget.Slider
	startPic   *canvas.Image
	endPic     *canvas.Image
	// shown are the decoded pictures the two ends show (UI thread).
	shown     map[*canvas.Image]image.Image
	startText *widget.Label
	endText   *widget.Label
	name      *entry
	problem   *widget.Label
	dlg       *dialog.CustomDialog
	cut       *widget.Button
}

// clock writes seconds as m:ss.s.
func clock(s float64) string {
	m := int(s) / 60
	return fmt.Sprintf("%d:%04.1f", m, s-float64(60*m))
}

func (l *libraryPage) showClip(a livestream.Asset) {
	c := &clipDialog{d: l.d, a: a, shown: map[*canvas.Image]image.Image{}}
	length := a.Duration.Seconds()
	c.start = widget.NewSlider(0, length)
	c.end = widget.NewSlider(0, length)
	c.start.Step, c.end.Step = 0.1, 0.1
	c.end.SetValue(length)
	c.startPic, c.endPic = clipImage(), clipImage()
	c.startText, c.endText = widget.NewLabel(""), widget.NewLabel("")
	c.name = newEntry()
	c.name.SetPlaceHolder("name (optional)")
	c.problem = widget.NewLabel("")
	c.problem.Importance = widget.DangerImportance
	c.problem.Wrapping = fyne.TextWrapWord
	c.problem.Hide()
	c.cut = widget.NewButtonWithIcon("Cut", theme.ContentCutIcon(), c.submit)
	c.cut.Importance = widget.HighImportance
	c.start.OnChanged = func(float64) { c.showTimes() }
	c.end.OnChanged = func(float64) { c.showTimes() }
	c.start.OnChangeEnded = func(v float64) { c.loadPicture(c.startPic, v) }
	c.end.OnChangeEnded = func(v float64) { c.loadPicture(c.endPic, v) }
	c.showTimes()
	c.loadPicture(c.startPic, 0)
	c.loadPicture(c.endPic, length)

	side := func(title string, pic *canvas.Image, text *widget.Label, s *widget.Slider) fyne.CanvasObject {
		return container.NewVBox(widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), pic, text, s)
	}
	note := widget.NewLabel("Cut without re-encoding: the clip starts at the key frame at or before the start you choose.")
	note.Wrapping = fyne.TextWrapWord
	note.TextStyle.Italic = true // the theme's low-importance grey is faint on white
	cancel := widget.NewButton("Cancel", func() { c.dlg.Hide() })
	body := container.NewVBox(
		container.NewGridWithColumns(2, side("Start", c.startPic, c.startText, c.start), side("End", c.endPic, c.endText, c.end)),
		c.name, note, c.problem)
	c.dlg = dialog.NewCustomWithoutButtons("Clip of "+l.streamName(a), body, l.d.win)
	c.dlg.SetButtons([]fyne.CanvasObject{cancel, c.cut})
	c.dlg.Resize(fyne.NewSize(2*clipPicture+80, 0))
	l.clip = c
	l.d.act.show(c.dlg)
}

func clipImage() *canvas.Image {
	img := canvas.NewImageFromResource(theme.FileVideoIcon())
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSize(clipPicture, clipPicture*9/16))
	return img
}

// showTimes writes each end's time and the clip's length, and allows Cut
// only for a clip that ends after it starts.
func (c *clipDialog) showTimes() {
	s, e := c.start.Value, c.end.Value
	c.startText.SetText(clock(s))
	c.endText.SetText(fmt.Sprintf("%s · the clip lasts %s", clock(e), clock(max(0, e-s))))
	if e > s {
		c.cut.Enable()
	} else {
		c.cut.Disable()
	}
}

// loadPicture shows the recording's picture at a time (decoded off the UI
// thread).
func (c *clipDialog) loadPicture(img *canvas.Image, at float64) {
	stills, id := c.d.studio.Stills(), c.a.PublicID
	go func() {
		b, err := stills.Poster(id, time.Duration(at*float64(time.Second)), 2*clipPicture)
		if err != nil {
			return // the icon stays (H.265 and AV1 recordings)
		}
		pic, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		c.d.do(func() {
			img.Resource, img.Image = nil, pic
			c.shown[img] = pic
			img.Refresh()
		})
	}()
}

// submit asks the studio to cut the clip; the dialog closes when it is
// accepted (the library lists it, processing, then ready).
func (c *clipDialog) submit() {
	start := time.Duration(c.start.Value * float64(time.Second))
	end := time.Duration(c.end.Value * float64(time.Second))
	name := c.name.Text
	clips, src := c.d.studio.Clips(), c.a.PublicID
	c.cut.Disable()
	c.d.act.run("Cutting the clip", func() error {
		_, err := clips.Clip(src, start, end, name)
		return err
	}, func(err error) {
		c.cut.Enable()
		if err != nil {
			var ve *livestream.ValidationError
			msg := plain(err)
			if errors.As(err, &ve) && ve.Field == "public_id" {
				msg = "The name " + msg
			}
			c.problem.SetText(msg)
			c.problem.Show()
			return
		}
		c.dlg.Hide()
	})
}
