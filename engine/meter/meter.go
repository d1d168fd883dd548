package meter

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/onair-studio/onair/engine/ffmpeg"
	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/livestream"
)

// SilentAfter is how long the input must stay below SilenceBelow before
// the stream is silent.
const SilentAfter = 10 * time.Second

// window is how much sound one measurement covers.
const window = 100 * time.Millisecond

// Meter measures one live stream's sound. Add Reader to the stream's hub;
// Close once the hub has let it go.
type Meter struct {
	onSilent func(bool)
	reader   *hub.Reader
	feed     *ffmpeg.AudioFeed

	mu     sync.Mutex
	levels livestream.SoundLevels
}

// batchFrames is how many AAC frames go to FFmpeg at once (about 170 ms at
// 48 kHz): one write and one wake-up of FFmpeg for several frames instead
// of one each, which was most of what a meter cost.
const batchFrames = 8

// New returns a meter that decodes with the FFmpeg at bin, started when
// pacer gives it a slot (nil: at once). onSilent, when set, is called when
// the input becomes silent (true) and when sound returns (false), from the
// meter's own goroutine.
func New(bin string, pacer *ffmpeg.Pacer, log *slog.Logger, onSilent func(silent bool)) *Meter {
	m := &Meter{onSilent: onSilent}
	m.feed = ffmpeg.NewAudioFeed(ffmpeg.AudioJob{Bin: bin, Pacer: pacer, Log: log, Batch: batchFrames,
		Output: func(cfg mpeg4audio.AudioSpecificConfig) ([]string, error) {
			channels, err := ffmpeg.Channels(cfg)
			if err != nil {
				return nil, fmt.Errorf("%w: it cannot be measured", err)
			}
			return []string{"-map", "0:a:0", "-f", "s16le", "-acodec", "pcm_s16le",
				"-ar", strconv.Itoa(cfg.SampleRate), "-ac", strconv.Itoa(channels), "pipe:1"}, nil
		},
		Read: func(cfg mpeg4audio.AudioSpecificConfig, out io.Reader) {
			channels, _ := ffmpeg.Channels(cfg)
			m.measureFrom(out, channels, cfg.SampleRate*int(window/time.Millisecond)/1000)
		},
		Failed: func(err error, wait time.Duration) {
			m.mu.Lock()
			m.levels.Error = err.Error()
			m.mu.Unlock()
			log.Warn("the sound meter stopped; it starts again", "error", err, "in", wait)
		},
	})
	m.reader = &hub.Reader{Name: "sound meter", OnUnit: m.feed.Unit}
	return m
}

// Reader is the meter's reader of the stream's hub.
func (m *Meter) Reader() *hub.Reader { return m.reader }

// Levels returns what the meter measured last: the last window's levels,
// one per channel of the audio track (none before the first window),
// whether the input is silent, and why the meter does not measure now.
// Windows are never changed once made, so the caller may keep it.
func (m *Meter) Levels() livestream.SoundLevels {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.levels
}

// Close ends the FFmpeg child and waits for it. Call it once the reader
// has stopped (the hub removed it or closed).
func (m *Meter) Close() { m.feed.Close() }

// measureFrom reads decoded samples and measures each window of frames.
func (m *Meter) measureFrom(r io.Reader, channels, frames int) {
	buf := make([]byte, frames*channels*2)
	var quiet time.Duration
	m.mu.Lock()
	silentNow := m.levels.Silent
	m.mu.Unlock()
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			return // the child ended; unit notices when it writes
		}
		ch := measure(buf, channels)
		if silent(ch) {
			quiet += window
		} else {
			quiet = 0
		}
		change := false
		switch {
		case quiet >= SilentAfter && !silentNow:
			silentNow, change = true, true
		case quiet == 0 && silentNow:
			silentNow, change = false, true
		}
		m.mu.Lock()
		m.levels = livestream.SoundLevels{Channels: ch, Silent: silentNow, Quiet: quiet}
		m.mu.Unlock()
		if change && m.onSilent != nil {
			m.onSilent(silentNow)
		}
	}
}
