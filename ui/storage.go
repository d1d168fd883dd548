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

// storageCard is the Settings card of the object store recordings are
// copied to (S3 and compatible services). It applies at once.
type storageCard struct {
	d           deps
	endpoint    *field
	region      *field
	bucket      *field
	prefix      *field
	accessKey   *field
	secretKey   *field
	deleteLocal *widget.Check
	pathStyle   *widget.Check
	save        *widget.Button
	off         *widget.Button
	said        *widget.Label
	card        *widget.Card
}

func newStorageCard(d deps) *storageCard {
	c := &storageCard{d: d}
	c.endpoint = newField("Service address", "e.g. https://s3.eu-west-1.amazonaws.com")
	c.region = newField("Region", "e.g. eu-west-1 (empty: the service's default)")
	c.bucket = newField("Bucket", "made beforehand at the service")
	c.prefix = newField("Folder in the bucket", "e.g. recordings/ (optional)")
	c.accessKey = newField("Access key ID", "from the service's access keys page")
	c.secretKey = newSecretEntryField("Secret access key", "shown once by the service when the key is made")
	c.pathStyle = widget.NewCheck("Bucket in the path (MinIO and most self-hosted services)", nil)
	c.deleteLocal = widget.NewCheck("Delete the file on this computer once its copy in the bucket is confirmed", nil)
	c.save = widget.NewButtonWithIcon("Save and test", theme.ConfirmIcon(), c.submit)
	c.off = widget.NewButtonWithIcon("Turn off", theme.CancelIcon(), c.confirmOff)
	c.said = widget.NewLabel("")
	c.said.Wrapping = fyne.TextWrapWord
	about := widget.NewLabel("Each finished recording is copied to the bucket, one at a time, and tried again until it is there. " +
		"You may have its file here deleted once the copy is confirmed; the Library then plays it from the bucket. AWS S3, Cloudflare R2, Backblaze B2, Wasabi and MinIO all work.")
	about.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(c.endpoint.item(), c.region.item(), c.bucket.item(), c.prefix.item(), c.accessKey.item(), c.secretKey.item())
	c.card = widget.NewCard("Storage", "Recordings in an S3-compatible bucket",
		container.NewVBox(about, form, c.pathStyle, c.deleteLocal, container.NewHBox(c.save, c.off), c.said))
	return c
}

// load shows the saved settings (UI thread).
func (c *storageCard) load(cur Settings) {
	s := cur.Storage
	c.endpoint.entry.SetText(s.Endpoint)
	c.region.entry.SetText(s.Region)
	c.bucket.entry.SetText(s.Bucket)
	c.prefix.entry.SetText(s.Prefix)
	c.accessKey.entry.SetText(s.AccessKeyID)
	c.secretKey.entry.SetText(s.SecretAccessKey)
	c.deleteLocal.SetChecked(s.DeleteLocal)
	c.pathStyle.SetChecked(s.PathStyle)
	for _, f := range c.fields() {
		f.err.set("")
	}
	if s.On() {
		c.said.SetText("Recordings go to the bucket " + s.Bucket + ".")
		c.off.Enable()
	} else {
		c.said.SetText("Off: recordings stay on this computer.")
		c.off.Disable()
	}
}

func (c *storageCard) fields() []*field {
	return []*field{c.endpoint, c.region, c.bucket, c.prefix, c.accessKey, c.secretKey}
}

// fieldOf is the entry of a settings field name (storage.bucket …).
func (c *storageCard) fieldOf(name string) *field {
	switch name {
	case "storage.endpoint":
		return c.endpoint
	case "storage.bucket":
		return c.bucket
	case "storage.prefix":
		return c.prefix
	case "storage.access_key_id", "storage.secret_access_key":
		return c.accessKey
	}
	return nil
}

// submit checks the settings as the studio does, saves them and tries
// them.
func (c *storageCard) submit() {
	next := c.d.studio.Settings()
	next.Storage = livestream.StorageSettings{
		Endpoint: strings.TrimRight(strings.TrimSpace(c.endpoint.entry.Text), "/"), Region: strings.TrimSpace(c.region.entry.Text),
		Bucket: strings.TrimSpace(c.bucket.entry.Text), Prefix: strings.TrimSpace(c.prefix.entry.Text),
		AccessKeyID: strings.TrimSpace(c.accessKey.entry.Text), SecretAccessKey: c.secretKey.entry.Text, DeleteLocal: c.deleteLocal.Checked,
		PathStyle: c.pathStyle.Checked,
	}
	for _, f := range c.fields() {
		f.err.set("")
	}
	var ve *livestream.ValidationError
	if err := next.Validate(); errors.As(err, &ve) {
		if f := c.fieldOf(ve.Field); f != nil {
			f.err.set(ve.Message)
			return
		}
	}
	c.save.Disable()
	c.said.SetText("Saving and trying the bucket…")
	c.d.act.run("Saving the object store", func() error {
		if err := c.d.studio.SaveSettings(next); err != nil {
			return err
		}
		return c.d.studio.CheckS3()
	}, func(err error) {
		c.save.Enable()
		if err != nil {
			c.said.SetText("Saved, but the bucket does not answer as it should: " + err.Error())
			return
		}
		c.said.SetText("Connected. Recordings go to the bucket " + next.Storage.Bucket + ".")
		c.off.Enable()
	})
}

func (c *storageCard) confirmOff() {
	c.d.act.confirm("Stop copying recordings to the bucket?",
		"New recordings stay on this computer. Those already in the bucket stay there.", func(ok bool) {
			if !ok {
				return
			}
			next := c.d.studio.Settings()
			next.Storage = livestream.StorageSettings{}
			c.d.act.run("Turning the object store off", func() error { return c.d.studio.SaveSettings(next) }, func(err error) {
				if err != nil {
					c.d.act.showError("Turning the object store off", err)
					return
				}
				c.load(next)
			})
		})
}
