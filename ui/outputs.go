package ui

import (
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// preset is a platform a simulcast destination can be filled in for.
type preset struct {
	vendor, label, uri string
}

// presets are the platforms streamers send to most; "custom" takes any
// rtmp:// or rtmps:// URL.
var presets = []preset{
	{"youtube", "YouTube", "rtmp://a.rtmp.youtube.com/live2"},
	{"twitch", "Twitch", "rtmp://live.twitch.tv/app"},
	{"facebook", "Facebook", "rtmps://live-api-s.facebook.com:443/rtmp/"},
	{"custom", "Custom RTMP server", ""},
}

func presetByLabel(label string) preset {
	for _, p := range presets {
		if p.label == label {
			return p
		}
	}
	return presets[len(presets)-1]
}

func presetByVendor(v string) preset {
	for _, p := range presets {
		if p.vendor == v {
			return p
		}
	}
	return presets[len(presets)-1]
}

// outputsSection lists a stream's outputs: type, status, last error, and
// for simulcast destinations edit and remove.
type outputsSection struct {
	p    *streamPage
	rows *fyne.Container
	add  *widget.Button
	card *widget.Card
	// shown is what the rows were made from, to rebuild only on change.
	shown string
}

func newOutputsSection(p *streamPage) *outputsSection {
	o := &outputsSection{p: p, rows: container.NewVBox()}
	o.add = widget.NewButtonWithIcon("Add destination", theme.ContentAddIcon(), func() { o.p.d.nav.showDestination(o.p.id, nil) })
	o.card = widget.NewCard("Outputs", "Where the stream goes: HLS for viewers, the archive, and other platforms",
		container.NewVBox(o.rows, container.NewHBox(o.add)))
	return o
}

func outputTitle(o livestream.OutputState) string {
	switch o.Type {
	case livestream.OutputHLS:
		return "HLS for viewers"
	case livestream.OutputArchive:
		return "Archive (recording to the library)"
	}
	return fmt.Sprintf("%s — %s", o.Name, presetByVendor(o.Vendor).label)
}

func outputStatus(o livestream.OutputState) (string, color.Color) {
	switch o.Status {
	case livestream.OutputBroadcasting:
		return "broadcasting", colourOK
	case livestream.OutputStarting:
		return "starting", colourWaiting
	case livestream.OutputErrored:
		return "errored", colourError
	}
	return "idle", colourIdle
}

func (o *outputsSection) update(st livestream.StreamState) {
	var key strings.Builder
	for _, out := range st.Outputs {
		fmt.Fprintf(&key, "%s|%s|%s|%s|%s|%s|%s|%d\n", out.ID, out.Name, out.URI, out.Vendor, out.Status, out.LastError, out.StreamKey, out.DVRWindowSec)
	}
	fmt.Fprintf(&key, "%s", st.Status)
	if key.String() == o.shown {
		return
	}
	o.shown = key.String()
	o.rows.Objects = nil
	for _, out := range st.Outputs {
		o.rows.Add(o.row(out, st.Status == livestream.StatusActive))
	}
	o.rows.Refresh()
}

func (o *outputsSection) row(out livestream.OutputState, active bool) fyne.CanvasObject {
	title := widget.NewLabelWithStyle(outputTitle(out), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	text, c := outputStatus(out)
	b := newBadge()
	b.set(text, c)
	detail := out.URI
	if out.Type == livestream.OutputArchive {
		detail = "saved as " + out.PublicID
	}
	lines := []fyne.CanvasObject{title}
	if detail != "" {
		d := widget.NewLabel(detail)
		d.Truncation = fyne.TextTruncateEllipsis
		lines = append(lines, d)
	}
	if out.Type == livestream.OutputHLS {
		lines = append(lines, o.rewindRow(out, active), o.renditionsRow(out, active))
	}
	if out.LastError != "" {
		// A broadcasting output's message is a warning (the rewind window
		// cut short by a full disk); otherwise it is why the output failed.
		e := widget.NewLabel("Last error: " + out.LastError)
		e.Importance = widget.DangerImportance
		if out.Status == livestream.OutputBroadcasting {
			e.SetText("Warning: " + out.LastError)
			e.Importance = widget.WarningImportance
		}
		e.Wrapping = fyne.TextWrapWord
		lines = append(lines, e)
	}
	var buttons []fyne.CanvasObject
	buttons = append(buttons, container.NewCenter(b.root))
	if out.Type == livestream.OutputSimulcast {
		out := out
		edit := widget.NewButtonWithIcon("Edit", theme.DocumentCreateIcon(), func() { o.p.d.nav.showDestination(o.p.id, &out) })
		rm := widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() { o.confirmRemove(out) })
		buttons = append(buttons, edit, rm)
	}
	return container.NewBorder(nil, widget.NewSeparator(), nil, container.NewCenter(container.NewHBox(buttons...)), container.NewVBox(lines...))
}

func (o *outputsSection) confirmRemove(out livestream.OutputState) {
	id := o.p.id
	o.p.d.act.confirm("Remove "+out.Name+"?", "The stream stops going to "+out.URI+".", func(ok bool) {
		if !ok {
			return
		}
		o.p.d.act.run("Removing the destination", func() error { return o.p.d.eng.DeleteOutput(id, out.ID) }, nil)
	})
}

// destinationDialog adds or edits a simulcast destination.
type destinationDialog struct {
	deps deps
	// saved is called when the destination is stored (UI thread).
	saved  func()
	id     string
	edit   *livestream.OutputState
	preset *widget.Select
	name   *field
	uri    *field
	key    *field
	save   *widget.Button
	dlg    dialog.Dialog
}

func (v *View) showDestination(streamID string, edit *livestream.OutputState) {
	d := &destinationDialog{deps: v.deps, saved: func() { v.destDlg = nil }, id: streamID, edit: edit,
		name: newField("Name", "e.g. My YouTube channel"),
		uri:  newField("Server URL", "rtmp://… or rtmps://…"),
		key:  newSecretEntryField("Stream key", "from the platform's live dashboard"),
	}
	labels := make([]string, len(presets))
	for i, p := range presets {
		labels[i] = p.label
	}
	d.preset = widget.NewSelect(labels, func(label string) {
		p := presetByLabel(label)
		if p.uri != "" {
			d.uri.entry.SetText(p.uri)
		}
		if d.name.entry.Text == "" || d.isPresetName(d.name.entry.Text) {
			d.name.entry.SetText(p.label)
		}
	})
	title := "Add a destination"
	if edit != nil {
		title = "Edit " + edit.Name
		d.preset.SetSelected(presetByVendor(edit.Vendor).label)
		d.name.entry.SetText(edit.Name)
		d.uri.entry.SetText(edit.URI)
		d.key.entry.SetText(edit.StreamKey)
	} else {
		d.preset.SetSelected(presets[0].label)
	}
	form := widget.NewForm(widget.NewFormItem("Platform", d.preset), d.name.item(), d.uri.item(), d.key.item())
	note := widget.NewLabel("While the stream is live the studio sends it here too; the key stays in the studio\n(masked in the API unless asked for). A destination that fails is tried again by itself.")
	note.Importance = widget.LowImportance
	d.save = widget.NewButton("Save", d.submit)
	d.save.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", func() { d.dlg.Hide() })
	content := container.NewBorder(nil, container.NewVBox(note, container.NewHBox(layoutSpacer(), cancel, d.save)), nil, nil, form)
	d.dlg = dialog.NewCustomWithoutButtons(title, content, v.win)
	d.dlg.Resize(fyne.NewSize(560, 400))
	v.destDlg = d
	v.act.dialogs.track(d.dlg)
	d.dlg.Show()
}

func (d *destinationDialog) isPresetName(s string) bool {
	for _, p := range presets {
		if p.label == s {
			return true
		}
	}
	return false
}

func (d *destinationDialog) submit() {
	name, uri, key := d.name.entry.Text, strings.TrimSpace(d.uri.entry.Text), strings.TrimSpace(d.key.entry.Text)
	d.name.err.set(checkName(name))
	uriErr := ""
	if uri == "" {
		uriErr = "Enter the platform's server URL."
	} else if err := livestream.ValidatePushURI(uri); err != nil {
		uriErr = "Use an rtmp:// or rtmps:// URL with a host, e.g. rtmp://a.rtmp.youtube.com/live2."
	}
	d.uri.err.set(uriErr)
	keyErr := ""
	switch {
	case key == "":
		keyErr = "Enter the stream key the platform gives you."
	case strings.ContainsAny(key, " \t/?#"):
		keyErr = "A stream key has no spaces, '/', '?' or '#'."
	}
	d.key.err.set(keyErr)
	if d.name.err.Text != "" || uriErr != "" || keyErr != "" {
		return
	}
	vendor := presetByLabel(d.preset.Selected).vendor
	p := livestream.OutputParams{Name: &name, URI: &uri, StreamKey: &key}
	d.save.Disable()
	d.deps.act.run("Saving the destination", func() error {
		var err error
		if d.edit == nil {
			typ := string(livestream.OutputSimulcast)
			p.Type, p.Vendor = &typ, &vendor
			_, err = d.deps.eng.CreateOutput(d.id, p)
		} else {
			p.Vendor = &vendor
			_, err = d.deps.eng.UpdateOutput(d.id, d.edit.ID, p)
		}
		return err
	}, func(err error) {
		d.save.Enable()
		if err != nil {
			d.uri.err.set(plain(err))
			return
		}
		d.dlg.Hide()
		d.saved()
	})
}
