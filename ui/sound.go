package ui

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// meterRange is the span the sound meter's bars show, in dB below full
// scale: -60 dBFS (the silence floor) is an empty bar, 0 a full one.
const meterRange = 60.0

// soundMeter shows the levels of what comes in, a bar per channel (its RMS
// level, the peak in the text), and a warning when the input is silent.
type soundMeter struct {
	box  *fyne.Container
	bars *fyne.Container
	warn *widget.Label
}

func newSoundMeter() *soundMeter {
	m := &soundMeter{bars: container.NewVBox(), warn: widget.NewLabel("")}
	m.warn.Importance = widget.WarningImportance
	m.warn.Wrapping = fyne.TextWrapWord
	m.warn.Hide()
	m.box = container.NewVBox(m.bars, m.warn)
	m.box.Hide()
	return m
}

// set shows s (UI thread); nil hides the meter (no meter, no audio).
func (m *soundMeter) set(s *livestream.SoundLevels) {
	if s == nil {
		m.box.Hide()
		return
	}
	for len(m.bars.Objects) < len(s.Channels) {
		m.bars.Add(widget.NewProgressBar())
	}
	for len(m.bars.Objects) > len(s.Channels) {
		m.bars.Remove(m.bars.Objects[len(m.bars.Objects)-1])
	}
	for i, c := range s.Channels {
		bar := m.bars.Objects[i].(*widget.ProgressBar)
		text := channelText(i, len(s.Channels), c)
		bar.TextFormatter = func() string { return text }
		bar.SetValue(meterFill(c.RMS))
	}
	if w := soundWarning(s); w != "" {
		m.warn.SetText(w)
		m.warn.Show()
	} else {
		m.warn.Hide()
	}
	m.box.Show()
}

// meterFill is how full a bar is for a level in dBFS.
func meterFill(db float64) float64 {
	return min(max((db+meterRange)/meterRange, 0), 1)
}

// channelText names a channel and says its levels.
func channelText(i, n int, c livestream.SoundChannel) string {
	name := fmt.Sprintf("Channel %d", i+1)
	switch {
	case n == 1:
		name = "Mono"
	case n == 2 && i == 0:
		name = "Left"
	case n == 2:
		name = "Right"
	}
	return fmt.Sprintf("%s  %s dB RMS · peak %s dB", name, dbText(c.RMS), dbText(c.Peak))
}

// dbText is a level as the meter writes it: whole decibels, "−∞" at the
// floor.
func dbText(db float64) string {
	if db <= -90 {
		return "−∞"
	}
	return fmt.Sprintf("%.0f", db)
}

// soundWarning is what the meter warns of: silence while live, or why it
// does not measure.
func soundWarning(s *livestream.SoundLevels) string {
	switch {
	case s.Silent:
		return fmt.Sprintf("No sound for %s: check the microphone in OBS (Audio Mixer) and that the stream sends audio.",
			s.Quiet.Truncate(time.Second))
	case s.Error != "":
		return "Sound meter: " + s.Error
	}
	return ""
}
