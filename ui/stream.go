package ui

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// streamPage is one stream's screen: its name, status and switch, the
// encoder settings, what comes in while live, playback and outputs.
type streamPage struct {
	d  deps
	id string
	st livestream.StreamState
	// active mirrors st for the stats poller (UI thread).
	active bool

	name      *widget.Entry
	shownName string
	nameErr   *fieldError
	rename    *widget.Button
	badge     *badge
	toggle    *widget.Button
	remove    *widget.Button
	server    *copyRow
	key       *secretField
	srt       *secretField // nil when the studio has no SRT
	resetKey  *widget.Button
	hls       *copyRow
	openHLS   *widget.Button
	stats     *widget.Label
	sound     *soundMeter
	statsBox  *widget.Card
	outputs   *outputsSection
	recText   *widget.Label
	recOn     *widget.Check
	recCard   *widget.Card
	// recSetting: recOn is being set from the state, not by the user.
	recSetting bool
	// recCur is the recording in progress, from the stats poller.
	recCur  *livestream.Asset
	obs     *obsCard
	preview *previewPane
	graphs  *dashboard
	root    fyne.CanvasObject
}

func newStreamPage(d deps, st livestream.StreamState) *streamPage {
	p := &streamPage{d: d, id: st.ID, st: st}
	clip := func() fyne.Clipboard { return d.app.Clipboard() }

	p.name = widget.NewEntry()
	p.name.SetText(st.Name)
	p.shownName = st.Name
	p.name.OnSubmitted = func(string) { p.saveName() }
	p.nameErr = newFieldError()
	p.rename = widget.NewButtonWithIcon("Rename", theme.DocumentSaveIcon(), p.saveName)
	p.remove = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), p.confirmDelete)
	p.remove.Importance = widget.DangerImportance
	p.badge = newBadge()
	p.toggle = widget.NewButton("Activate", p.flip)

	p.server = newCopyRow(clip, func() string { return p.st.InputURI })
	p.key = newSecretField(clip, func() string { return p.st.Input.StreamKey })
	p.resetKey = widget.NewButtonWithIcon("Reset key", theme.ViewRefreshIcon(), p.confirmResetKey)
	encoder := widget.NewCard("Encoder settings", "In OBS: Settings > Stream > Service: Custom", p.encoderForm(clip))

	p.stats = widget.NewLabel("")
	p.stats.Wrapping = fyne.TextWrapWord
	p.sound = newSoundMeter()
	p.statsBox = widget.NewCard("Coming in", "", container.NewVBox(p.sound.box, p.stats))

	p.hls = newCopyRow(clip, func() string { return p.st.OutputURI(livestream.OutputHLS) })
	p.openHLS = widget.NewButtonWithIcon("Open in browser", theme.MediaPlayIcon(), func() {
		if u, err := url.Parse(p.st.OutputURI(livestream.OutputHLS)); err == nil {
			if err := d.app.OpenURL(u); err != nil {
				d.act.showError("Opening the playlist", err)
			}
		}
	})
	playback := widget.NewCard("Playback", "Low-latency HLS for viewers: Safari, hls.js, VLC",
		widget.NewForm(widget.NewFormItem("HLS playlist", container.NewBorder(nil, nil, nil, p.openHLS, p.hls.root))))

	p.outputs = newOutputsSection(p)
	p.obs = newOBSCard(p)
	p.preview = newPreviewPane(p)

	p.recText = widget.NewLabel("")
	p.recText.Wrapping = fyne.TextWrapWord
	p.recOn = widget.NewCheck("Record every session", func(on bool) {
		if !p.recSetting {
			p.setRecording(on)
		}
	})
	p.recCard = widget.NewCard("Recording", "Saved as MP4 in the library, playable while it records",
		container.NewVBox(p.recOn, p.recText))

	p.graphs = newDashboard()
	p.graphs.card.Hide()

	header := container.NewBorder(nil, nil, nil, container.NewHBox(p.rename, p.remove), p.name)
	status := container.NewHBox(p.badge.root, p.toggle)
	// Two columns in a wide window: what to watch on the left (the
	// picture, the graphs, what comes in), what to set on the right; one
	// column, in that order, otherwise.
	watch := container.NewVBox(p.preview.card, p.graphs.card, p.statsBox)
	set := container.NewVBox(encoder, p.obs.card, p.recCard, playback, p.outputs.card)
	wide := func() bool { return d.win != nil && d.win.Canvas().Size().Width >= wideWindow }
	body := container.NewVBox(header, p.nameErr, status, container.New(columns{wide: wide}, watch, set))
	p.root = container.NewVScroll(container.NewPadded(body))
	return p
}

// encoderForm is where an encoder sends the stream: the RTMP server and
// key, and the whole SRT URL (with the key, so masked) when the studio
// listens for SRT.
func (p *streamPage) encoderForm(clip func() fyne.Clipboard) *widget.Form {
	f := widget.NewForm(
		widget.NewFormItem("Server", p.server.root),
		widget.NewFormItem("Stream key", container.NewBorder(nil, nil, nil, p.resetKey, p.key.root)),
	)
	if p.st.SRTURI != "" {
		p.srt = newSecretField(clip, func() string { return p.st.SRTURI })
		item := widget.NewFormItem("Or SRT", p.srt.root)
		item.HintText = "the whole URL for OBS (Server, with Stream key empty) or ffmpeg -f mpegts"
		f.AppendItem(item)
	} else if srt, ok := findPart(p.d.studio.Parts(), "srt"); ok && !srt.Up && srt.Reason != livestream.PartTurnedOff {
		why := widget.NewLabel("Not available in this run: " + srt.Reason + ". Publish over RTMP meanwhile; Settings has the SRT address.")
		why.Wrapping = fyne.TextWrapWord
		f.AppendItem(widget.NewFormItem("SRT", why))
	}
	return f
}

// update shows a newer state of the stream (UI thread).
func (p *streamPage) update(st livestream.StreamState) {
	keyChanged := st.Input.StreamKey != p.st.Input.StreamKey
	p.st = st
	p.active = st.Status == livestream.StatusActive
	// The name field changes only when the name did, so that a rename
	// being typed is not overwritten by an unrelated change.
	if st.Name != p.shownName {
		p.shownName = st.Name
		p.name.SetText(st.Name)
	}
	p.badge.set(statusText(st, time.Now()), statusColour(st))
	if p.active {
		p.toggle.SetText("Go idle")
		p.toggle.SetIcon(theme.MediaStopIcon())
		p.toggle.Importance = widget.WarningImportance
		p.statsBox.Show()
		p.graphs.card.Show()
		if !st.Publishing {
			p.stats.SetText("Waiting for the encoder: start streaming in OBS with the server and key above.")
			p.sound.set(nil)
		}
	} else {
		p.toggle.SetText("Activate")
		p.toggle.SetIcon(theme.MediaPlayIcon())
		p.toggle.Importance = widget.HighImportance
		p.statsBox.Hide()
		p.graphs.card.Hide()
	}
	p.toggle.Refresh()
	p.server.refresh()
	if keyChanged {
		p.key.hide()
		if p.srt != nil {
			p.srt.hide()
		}
	}
	p.key.refresh()
	if p.srt != nil {
		p.srt.refresh()
	}
	p.hls.refresh()
	p.outputs.update(st)
	p.showRecording()
	p.preview.update(st)
}

// close stops what the page runs (the preview) when it is left (UI thread).
func (p *streamPage) close() { p.preview.stop() }

// showRecording shows whether the stream records and the current file
// (UI thread).
func (p *streamPage) showRecording() {
	out, ok := p.st.Output(livestream.OutputArchive)
	if !ok {
		p.recCard.Hide()
		return
	}
	p.recCard.Show()
	p.recSetting = true
	p.recOn.SetChecked(!out.Disabled)
	p.recSetting = false
	text, bad := recordingText(p.st, p.recCur)
	p.recText.SetText(text)
	if bad {
		p.recText.Importance = widget.DangerImportance
	} else {
		p.recText.Importance = widget.MediumImportance
	}
	p.recText.Refresh()
}

// setRecording switches the stream's archive output on or off.
func (p *streamPage) setRecording(on bool) {
	out, ok := p.st.Output(livestream.OutputArchive)
	if !ok {
		return
	}
	id := p.id
	p.recOn.Disable()
	p.d.act.run("Switching the recording", func() error {
		_, err := p.d.eng.UpdateOutput(id, out.ID, livestream.OutputParams{Enabled: &on})
		return err
	}, func(err error) {
		p.recOn.Enable()
		if err != nil {
			p.d.act.showError("Switching the recording", err)
			p.showRecording()
		}
	})
}

// showHistory draws the last minutes of the stream (UI thread).
func (p *streamPage) showHistory(samples []livestream.Sample) {
	if p.active {
		p.graphs.set(samples)
	}
}

// showStats shows what comes in (UI thread).
func (p *streamPage) showStats(s livestream.Stats, ok bool) {
	if !ok || !s.Publishing {
		return
	}
	p.preview.stats(s)
	var b strings.Builder
	if s.VideoCodec != "" {
		fmt.Fprintf(&b, "Video: %s %d×%d, %.4g fps\n", strings.ToUpper(s.VideoCodec), s.Width, s.Height, s.FrameRate)
	} else {
		b.WriteString("Video: none\n")
	}
	if s.AudioCodec != "" {
		fmt.Fprintf(&b, "Audio: %s %d Hz, %d channels\n", strings.ToUpper(s.AudioCodec), s.SampleRate, s.Channels)
	} else {
		b.WriteString("Audio: none\n")
	}
	fmt.Fprintf(&b, "Bitrate: %.0f kbit/s · Up for %s · %d frames received\n", s.BitrateKbps, uptime(s.Uptime), s.FramesReceived)
	for _, o := range s.Outputs {
		if o.Type == livestream.OutputHLS {
			fmt.Fprintf(&b, "HLS viewers: %d (players seen in the last 30 s)\n", o.Viewers)
			if t := rewindText(o.DVR); t != "" {
				b.WriteString(t + "\n")
			}
		}
	}
	if s.Dropped > 0 {
		fmt.Fprintf(&b, "Dropped for slow outputs: %d media units", s.Dropped)
	} else {
		b.WriteString("Nothing dropped")
	}
	p.stats.SetText(b.String())
	p.sound.set(s.Sound)
	p.badge.set(statusText(p.st, time.Now()), statusColour(p.st))
}

func (p *streamPage) saveName() {
	name := p.name.Text
	if msg := checkName(name); msg != "" {
		p.nameErr.set(msg)
		return
	}
	p.nameErr.set("")
	id := p.id
	p.d.act.run("Renaming", func() error {
		_, err := p.d.eng.Update(id, livestream.UpdateParams{Name: &name})
		return err
	}, func(err error) {
		if err != nil {
			p.nameErr.set(plain(err))
		}
	})
}

func (p *streamPage) flip() {
	id, active := p.id, p.active
	p.toggle.Disable()
	p.d.act.run("Switching the stream", func() error {
		var err error
		if active {
			_, err = p.d.eng.Idle(id)
		} else {
			_, err = p.d.eng.Activate(id)
		}
		return err
	}, func(err error) {
		p.toggle.Enable()
		if err != nil {
			p.d.act.showError("Switching the stream", err)
		}
	})
}

func (p *streamPage) confirmResetKey() {
	id := p.id
	p.d.act.confirm("Reset the stream key?",
		"The current key stops working at once: an encoder using it is disconnected,\nand you must paste the new key into OBS.",
		func(ok bool) {
			if !ok {
				return
			}
			p.d.act.run("Resetting the key", func() error {
				_, err := p.d.eng.ResetStreamKey(id)
				return err
			}, nil)
		})
}

func (p *streamPage) confirmDelete() {
	id, name := p.id, p.st.Name
	p.d.act.confirm("Delete "+name+"?",
		"The stream, its key and its outputs are removed; a session on air ends.\nRecordings already made are kept in the library.",
		func(ok bool) {
			if !ok {
				return
			}
			p.d.act.run("Deleting the stream", func() error { return p.d.eng.Delete(id) }, nil)
		})
}
