package ui

import (
	"math"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/mediatest"
)

// soundBars are the sound meter's bars on the shown page (UI thread).
func (h *harness) soundBars() []*widget.ProgressBar {
	var bars []*widget.ProgressBar
	for _, o := range h.objects() {
		if b, ok := o.(*widget.ProgressBar); ok && b.TextFormatter != nil && strings.Contains(b.TextFormatter(), "dB RMS") {
			bars = append(bars, b)
		}
	}
	return bars
}

// A live stream's page shows its sound: the test clip's 440 Hz tone
// (FFmpeg's sine, amplitude 1/8, on both channels at -3 dB: RMS -24.08
// dBFS each) as two bars, each filled to (60 - 24.08) / 60.
func TestSoundMeterOnTheStreamPage(t *testing.T) {
	mediatest.RequireTools(t)
	clip := mediatest.Small.Path(t)
	h := newHarness(t)
	st := h.createByTyping("Sound show")
	mediatest.Publish(t, clip, h.studio.rtmp+"/"+st.Input.StreamKey, true)
	var text string
	var value float64
	h.within(20*time.Second, "the meter's bar", func() bool {
		bars := h.soundBars()
		if len(bars) != 2 {
			return false
		}
		text, value = bars[0].TextFormatter()+" | "+bars[1].TextFormatter(), bars[1].Value
		return strings.HasPrefix(text, "Left  -24 dB RMS") && strings.Contains(text, "Right  -24 dB RMS")
	})
	if want := (60 - 24.08) / 60; math.Abs(value-want) > 0.02 {
		t.Errorf("the bar is %.2f full; want %.2f", value, want)
	}
	t.Logf("%s", text)
}

// The meter warns of silence, and of a meter that does not measure.
func TestSoundMeterWarnings(t *testing.T) {
	m := newSoundMeter()
	m.set(&livestream.SoundLevels{Channels: []livestream.SoundChannel{{Peak: -90, RMS: -90}, {Peak: -90, RMS: -90}}, Silent: true, Quiet: 12300 * time.Millisecond})
	if !m.box.Visible() || !m.warn.Visible() || !strings.HasPrefix(m.warn.Text, "No sound for 12s: check the microphone in OBS") {
		t.Errorf("silent: shown %v, warning %v %q", m.box.Visible(), m.warn.Visible(), m.warn.Text)
	}
	if got := m.bars.Objects[1].(*widget.ProgressBar).TextFormatter(); got != "Right  −∞ dB RMS · peak −∞ dB" {
		t.Errorf("a silent right channel reads %q", got)
	}
	m.set(&livestream.SoundLevels{Channels: []livestream.SoundChannel{{Peak: -3, RMS: -12}}})
	if m.warn.Visible() || len(m.bars.Objects) != 1 {
		t.Errorf("sound back: warning %v, %d bars", m.warn.Visible(), len(m.bars.Objects))
	}
	m.set(&livestream.SoundLevels{Error: "FFmpeg ended: signal: killed"})
	if !m.warn.Visible() || m.warn.Text != "Sound meter: FFmpeg ended: signal: killed" {
		t.Errorf("meter error: %q", m.warn.Text)
	}
	m.set(nil)
	if m.box.Visible() {
		t.Error("no meter: still shown")
	}
}
