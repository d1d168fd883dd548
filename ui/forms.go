package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// field is a form entry with its inline message.
type field struct {
	label string
	entry *entry
	err   *fieldError
}

func newField(label, placeholder string) *field {
	e := newEntry()
	e.SetPlaceHolder(placeholder)
	return &field{label: label, entry: e, err: newFieldError()}
}

func newSecretEntryField(label, placeholder string) *field {
	e := newPasswordEntry()
	e.SetPlaceHolder(placeholder)
	return &field{label: label, entry: e, err: newFieldError()}
}

func (f *field) item() *widget.FormItem {
	return widget.NewFormItem(f.label, container.NewVBox(f.entry, f.err))
}

// checkName says what is wrong with a name, or "".
func checkName(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "Enter a name."
	case utf8.RuneCountInString(s) > livestream.MaxNameLength:
		return fmt.Sprintf("At most %d characters (this one has %d).", livestream.MaxNameLength, utf8.RuneCountInString(s))
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "A name cannot hold control characters."
		}
	}
	return ""
}

// parseNumber reads a decimal number in [lo, hi], saying what is wrong.
func parseNumber(s string, lo, hi float64, unit string) (float64, string) {
	s = strings.TrimSpace(strings.ReplaceAll(s, ",", "."))
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Sprintf("Enter a number of %s.", unit)
	}
	if v < lo || v > hi {
		return 0, fmt.Sprintf("From %s to %s %s.", trimFloat(lo), trimFloat(hi), unit)
	}
	return v, ""
}

func trimFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// createDialog asks for a new stream's name and limits, in minutes and
// hours rather than seconds.
type createDialog struct {
	deps deps
	// created is called with the new stream (UI thread).
	created func(livestream.StreamState)
	name    *field
	idle    *field
	maxRun  *field
	create  *widget.Button
	cancel  *widget.Button
	dlg     dialog.Dialog
	working bool
}

func (v *View) showCreate() {
	d := &createDialog{deps: v.deps,
		name:   newField("Name", "e.g. Evening show"),
		idle:   newField("Keep live after the encoder leaves", "minutes"),
		maxRun: newField("Maximum length of a session", "hours"),
	}
	d.name.entry.SetText(fmt.Sprintf("Stream %d", len(v.streams)+1))
	d.idle.entry.SetText(trimFloat(float64(livestream.DefaultIdleTimeoutSec) / 60))
	d.maxRun.entry.SetText(trimFloat(float64(livestream.DefaultMaxRuntimeSec) / 3600))
	form := widget.NewForm(d.name.item(), d.idle.item(), d.maxRun.item())
	form.Items[1].HintText = "minutes, 0 to 30: a reconnect within this time continues the same session"
	form.Items[2].HintText = "hours, 1 minute to 12 hours: the session ends by itself then"
	d.create = widget.NewButton("Create", d.submit)
	d.create.Importance = widget.HighImportance
	d.cancel = widget.NewButton("Cancel", func() { d.dlg.Hide() })
	d.name.entry.OnSubmitted = func(string) { d.submit() }
	content := container.NewBorder(nil, container.NewHBox(layoutSpacer(), d.cancel, d.create), nil, nil, form)
	d.dlg = dialog.NewCustomWithoutButtons("New stream", content, v.win)
	d.dlg.Resize(fyne.NewSize(520, 380))
	v.act.dialogs.track(d.dlg)
	d.created = func(st livestream.StreamState) {
		v.createDlg = nil
		v.openWhenListed(st)
	}
	v.createDlg = d
	d.dlg.Show()
	v.win.Canvas().Focus(d.name.entry)
}

// submit checks every field, shows what is wrong next to it, and creates
// the stream when nothing is.
func (d *createDialog) submit() {
	if d.working {
		return
	}
	name := d.name.entry.Text
	d.name.err.set(checkName(name))
	idleMin, idleErr := parseNumber(d.idle.entry.Text, 0, float64(livestream.MaxIdleTimeoutSec)/60, "minutes")
	d.idle.err.set(idleErr)
	hours, runErr := parseNumber(d.maxRun.entry.Text, float64(livestream.MinMaxRuntimeSec)/3600, float64(livestream.MaxMaxRuntimeSec)/3600, "hours")
	if runErr != "" {
		runErr = "From 1 minute (0.0167) to 12 hours."
	}
	d.maxRun.err.set(runErr)
	if d.name.err.Text != "" || idleErr != "" || runErr != "" {
		return
	}
	idle := int(math.Round(idleMin * 60))
	maxRun := min(max(int(math.Round(hours*3600)), livestream.MinMaxRuntimeSec), livestream.MaxMaxRuntimeSec)
	typ := "rtmp"
	p := livestream.CreateParams{Input: &livestream.InputParams{Type: &typ}, Name: &name, IdleTimeoutSec: &idle, MaxRuntimeSec: &maxRun}
	d.working = true
	d.create.Disable()
	var created livestream.StreamState
	d.deps.act.run("Creating the stream", func() error {
		var err error
		created, err = d.deps.eng.Create(p)
		return err
	}, func(err error) {
		d.working = false
		d.create.Enable()
		if err != nil {
			d.name.err.set(plain(err))
			return
		}
		d.dlg.Hide()
		d.created(created)
	})
}

func layoutSpacer() fyne.CanvasObject { return layout.NewSpacer() }

// openWhenListed opens a stream just created: it is put in the list now,
// the follower's next reload brings the engine's own copy.
func (v *View) openWhenListed(st livestream.StreamState) {
	if _, ok := v.find(st.ID); !ok {
		v.streams = append([]livestream.StreamState{st}, v.streams...)
		v.list.refresh(v.streams)
	}
	v.open(st.ID)
}
