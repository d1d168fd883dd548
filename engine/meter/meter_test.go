package meter

import (
	"encoding/binary"
	"log/slog"
	"math"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/onair-studio/onair/engine/ffmpeg"
	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
)

// A known signal gives its levels: a sine at half scale on the left
// (peak -6.02 dBFS, RMS -9.03), nothing on the right.
func TestMeasure(t *testing.T) {
	const frames = 4800
	pcm := make([]byte, frames*4)
	for i := range frames {
		v := int16(0.5 * 32767 * math.Sin(2*math.Pi*440*float64(i)/48000))
		binary.LittleEndian.PutUint16(pcm[4*i:], uint16(v))
	}
	ch := measure(pcm, 2)
	if math.Abs(ch[0].Peak-(-6.02)) > 0.1 || math.Abs(ch[0].RMS-(-9.03)) > 0.1 {
		t.Errorf("left: %+v; want peak -6.02, RMS -9.03 dBFS", ch[0])
	}
	if ch[1].Peak != Floor || ch[1].RMS != Floor {
		t.Errorf("right: %+v; want %v", ch[1], Floor)
	}
	if silent(ch) || !silent(ch[1:]) {
		t.Error("a tone was silent, or nothing was not")
	}
}

// feeder publishes AAC frames to a hub with the meter as its reader, a
// little faster than real time.
type feeder struct {
	h      *hub.Stream
	tracks *media.Tracks
	pts    time.Duration
}

func newFeeder(t *testing.T, m *Meter) *feeder {
	f := &feeder{h: &hub.Stream{Logger: slog.New(slog.DiscardHandler)},
		tracks: &media.Tracks{Audio: &media.AACParams{Config: mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 48000, ChannelConfig: 1}}}}
	f.h.StartPublisher(*f.tracks)
	f.h.AddReader(m.Reader())
	t.Cleanup(func() { f.h.Close(); m.Close() })
	return f
}

func (f *feeder) send(frames [][]byte) {
	for i, fr := range frames {
		f.h.Publish(&media.Unit{Kind: media.KindAudio, DTS: f.pts, PTS: f.pts, Frame: fr, Received: time.Now()})
		f.pts += 1024 * time.Second / 48000
		if i%20 == 19 {
			time.Sleep(5 * time.Millisecond) // ~4x real time: the reader's queue never fills
		}
	}
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !ok(); {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The studio's test tone (FFmpeg's sine, amplitude 1/8: RMS -21.07 dBFS)
// measures within 1 dB; 12 s of digital silence make the input silent
// after 10 s, and the tone's return ends it.
func TestMeterHearsToneAndSilence(t *testing.T) {
	bin, err := ffmpeg.Locate("")
	if err != nil {
		t.Skip(err)
	}
	tone := mediatest.AACFrames(t, "sine=frequency=440:sample_rate=48000:duration=3")
	quiet := mediatest.AACFrames(t, "anullsrc=r=48000:cl=mono:d=12")
	var mu sync.Mutex
	var changes []bool
	m := New(bin, nil, slog.New(slog.DiscardHandler), func(s bool) { mu.Lock(); changes = append(changes, s); mu.Unlock() })
	f := newFeeder(t, m)
	f.send(tone)
	var l livestream.SoundLevels
	waitFor(t, "the tone's levels", 10*time.Second, func() bool { l = m.Levels(); return len(l.Channels) == 1 && l.Channels[0].RMS > -30 })
	time.Sleep(200 * time.Millisecond) // past the encoder's first frames
	l = m.Levels()
	if rms := l.Channels[0].RMS; math.Abs(rms-(-21.07)) > 1 {
		t.Errorf("tone RMS %.2f dBFS; want -21.07 ± 1", rms)
	}
	if pk := l.Channels[0].Peak; math.Abs(pk-(-18.06)) > 1.5 {
		t.Errorf("tone peak %.2f dBFS; want about -18.06", pk)
	}
	if l.Silent || l.Error != "" {
		t.Errorf("during the tone: %+v", l)
	}
	f.send(quiet)
	waitFor(t, "silent after 10 s of quiet", 15*time.Second, func() bool { return m.Levels().Silent })
	if q := m.Levels().Quiet; q < SilentAfter {
		t.Errorf("silent after %v of quiet; want %v", q, SilentAfter)
	}
	f.send(tone)
	waitFor(t, "sound back", 10*time.Second, func() bool { return !m.Levels().Silent })
	mu.Lock()
	defer mu.Unlock()
	if len(changes) != 2 || !changes[0] || changes[1] {
		t.Errorf("silence changes %v; want [true false]", changes)
	}
}

// An FFmpeg that dies is started again (after the backoff), and the meter
// says why it stopped meanwhile.
func TestMeterStartsFFmpegAgain(t *testing.T) {
	bin, err := ffmpeg.Locate("")
	if err != nil {
		t.Skip(err)
	}
	tone := mediatest.AACFrames(t, "sine=frequency=440:sample_rate=48000:duration=2")
	m := New(bin, &ffmpeg.Pacer{Every: 300 * time.Millisecond}, slog.New(slog.DiscardHandler), nil)
	f := newFeeder(t, m)
	f.send(tone)
	waitFor(t, "levels", 10*time.Second, func() bool { return len(m.Levels().Channels) == 1 })
	pids := mediatest.ChildFFmpegs(t)
	if len(pids) != 1 {
		t.Fatalf("%d FFmpeg children; want 1", len(pids))
	}
	p, _ := os.FindProcess(pids[0])
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the error reported", 10*time.Second, func() bool {
		f.send(tone[:20])
		return m.Levels().Error != ""
	})
	t.Logf("while FFmpeg was gone: %s", m.Levels().Error)
	waitFor(t, "measuring again", 15*time.Second, func() bool {
		f.send(tone[:20])
		l := m.Levels()
		return l.Error == "" && len(l.Channels) == 1
	})
	if got := mediatest.ChildFFmpegs(t); len(got) != 1 || got[0] == pids[0] {
		t.Errorf("FFmpeg children %v after the restart (the killed one was %d)", got, pids[0])
	}
}
