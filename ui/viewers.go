package ui

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// publicCard is the Settings card of the public playback address: the CDN
// or edge cache viewers reach the studio's HLS through. It applies at once.
type publicCard struct {
	d     deps
	url   *field
	save  *widget.Button
	saved *widget.Label
	card  *widget.Card
}

func newPublicCard(d deps) *publicCard {
	c := &publicCard{d: d}
	c.url = newField("Public playback address", "e.g. https://cdn.example.com; empty: this studio's own address")
	c.save = widget.NewButtonWithIcon("Save address", theme.DocumentSaveIcon(), c.submit)
	c.saved = widget.NewLabel("")
	c.saved.Wrapping = fyne.TextWrapWord
	c.saved.Hide()
	about := widget.NewLabel("A CDN, or Varnish or nginx on a server, serves the viewers and fetches each file from the studio about once. " +
		"Enter its address: every HLS address the studio gives then begins with it. The README has the settings for the CDN.")
	about.Wrapping = fyne.TextWrapWord
	c.card = widget.NewCard("Viewers beyond your upload", "A CDN or a cache in front of the studio",
		container.NewVBox(about, widget.NewForm(c.url.item()), container.NewHBox(c.save), c.saved))
	return c
}

// load shows the saved address (UI thread).
func (c *publicCard) load(cur Settings) {
	c.url.entry.SetText(cur.PublicURL)
	c.url.err.set("")
	c.saved.Hide()
}

// submit checks the address as the studio does and saves it.
func (c *publicCard) submit() {
	next := c.d.studio.Settings()
	next.PublicURL = strings.TrimSpace(c.url.entry.Text)
	var ve *livestream.ValidationError
	if err := next.Validate(); errors.As(err, &ve) && ve.Field == "public_url" {
		c.url.err.set("Use an address such as https://cdn.example.com (no query or user name).")
		return
	}
	c.url.err.set("")
	c.save.Disable()
	c.d.act.run("Saving the public playback address", func() error { return c.d.studio.SaveSettings(next) }, func(err error) {
		c.save.Enable()
		if err != nil {
			c.d.act.showError("Saving the public playback address", err)
			return
		}
		if next.PublicURL == "" {
			c.saved.SetText("Saved. HLS addresses are this studio's own again.")
		} else {
			c.saved.SetText("Saved. HLS addresses now begin with " + strings.TrimRight(next.PublicURL, "/") + "; copy them from each stream's HLS output.")
		}
		c.saved.Show()
	})
}
