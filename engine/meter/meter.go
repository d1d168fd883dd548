package meter

import (
	"context"
	"errors"
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
	"github.com/onair-studio/onair/engine/media"
)

// SilentAfter is how long the input must stay below SilenceBelow before
// the stream is silent.
const SilentAfter = 10 * time.Second

// window is how much sound one measurement covers.
const window = 100 * time.Millisecond

// Meter measures one live stream's sound. Add Reader to the stream's hub;
// Close once the hub has let it go.
type Meter struct {
	ffmpeg   string
	pacer    *Pacer
	log      *slog.Logger
	onSilent func(bool)
	ctx      context.Context
	cancel   context.CancelFunc
	reader   *hub.Reader
	wg       sync.WaitGroup

	mu     sync.Mutex
	levels livestream.SoundLevels

	// The hub reader's goroutine's alone:
	child   *ffmpeg.Child
	started time.Time
	config  mpeg4audio.AudioSpecificConfig
	backoff ffmpeg.Backoff
	retryAt time.Time
	startAt time.Time              // the pacer's slot for the next start; zero: none taken
	pending mpeg4audio.ADTSPackets // frames not written yet
}

// batchFrames is how many AAC frames go to FFmpeg at once (about 170 ms at
// 48 kHz): one write and one wake-up of FFmpeg for several frames instead
// of one each, which was most of what a meter cost.
const batchFrames = 8

// New returns a meter that decodes with the FFmpeg at bin, started when
// pacer gives it a slot (nil: at once). onSilent, when set, is called when
// the input becomes silent (true) and when sound returns (false), from the
// meter's own goroutine.
func New(bin string, pacer *Pacer, log *slog.Logger, onSilent func(silent bool)) *Meter {
	m := &Meter{ffmpeg: bin, pacer: pacer, log: log, onSilent: onSilent, backoff: ffmpeg.Backoff{Min: time.Second, Max: 30 * time.Second}}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.reader = &hub.Reader{Name: "sound meter", OnUnit: m.unit}
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
func (m *Meter) Close() {
	m.cancel() // kills the child (its command has the meter's context)
	m.wg.Wait()
}

// unit feeds the audio units to FFmpeg as ADTS, starting it when needed.
func (m *Meter) unit(u *media.Unit) {
	if u.Kind != media.KindAudio || u.Tracks == nil || u.Tracks.Audio == nil || m.ctx.Err() != nil {
		return
	}
	cfg := u.Tracks.Audio.Config
	if m.child != nil && cfg != m.config {
		m.stop(nil) // another publisher, other sound: a new decoder
	}
	if m.child == nil {
		now := time.Now()
		if now.Before(m.retryAt) {
			return
		}
		if m.pacer != nil {
			if m.startAt.IsZero() {
				m.startAt = m.pacer.Slot(now)
			}
			if now.Before(m.startAt) {
				return // the units until then go unmeasured
			}
			m.startAt = time.Time{}
		}
		if err := m.start(cfg); err != nil {
			m.stop(err)
			return
		}
	}
	// The unit's frame is kept, not copied: published units never change.
	m.pending = append(m.pending, &mpeg4audio.ADTSPacket{Type: cfg.Type, SampleRate: cfg.SampleRate, ChannelConfig: cfg.ChannelConfig, AU: u.Frame})
	if len(m.pending) < batchFrames {
		return
	}
	b, err := m.pending.Marshal()
	clear(m.pending)
	m.pending = m.pending[:0]
	if err != nil {
		m.stop(fmt.Errorf("the audio track cannot be measured (%w): sound meters need AAC-LC", err))
		return
	}
	if _, err := m.child.Stdin().Write(b); err != nil {
		m.stop(m.ended())
	}
}

// start runs FFmpeg for cfg's sound and the goroutine that measures what
// it decodes.
func (m *Meter) start(cfg mpeg4audio.AudioSpecificConfig) error {
	channels := int(cfg.ChannelConfig)
	switch {
	case channels == 7:
		channels = 8
	case channels < 1 || channels > 7:
		return fmt.Errorf("the audio track's channel layout (configuration %d) cannot be measured", cfg.ChannelConfig)
	}
	if cfg.SampleRate < 8000 || cfg.SampleRate > 96000 {
		return fmt.Errorf("the audio track's sample rate %d Hz cannot be measured", cfg.SampleRate)
	}
	c, err := ffmpeg.Start(m.ctx, m.ffmpeg, "-hide_banner", "-loglevel", "error", "-nostats",
		"-fflags", "nobuffer", "-probesize", "32", "-analyzeduration", "0", "-f", "aac", "-i", "pipe:0",
		"-map", "0:a:0", "-f", "s16le", "-acodec", "pcm_s16le",
		"-ar", strconv.Itoa(cfg.SampleRate), "-ac", strconv.Itoa(channels), "pipe:1")
	if err != nil {
		return err
	}
	m.child, m.config, m.started = c, cfg, time.Now()
	clear(m.pending)
	m.pending = m.pending[:0]
	frames := cfg.SampleRate * int(window/time.Millisecond) / 1000
	m.wg.Go(func() {
		m.measureFrom(c.Stdout(), channels, frames)
		_ = c.Close()
	})
	m.log.Debug("sound meter started", "ffmpeg_pid", c.PID(), "sample_rate", cfg.SampleRate, "channels", channels)
	return nil
}

// ended returns why the child ended (it has, or is ending).
func (m *Meter) ended() error {
	select {
	case <-m.child.Done():
	case <-time.After(2 * time.Second):
		m.child.Kill()
	}
	if err := m.child.Err(); err != nil {
		return fmt.Errorf("FFmpeg ended: %w", err)
	}
	return errors.New("FFmpeg ended")
}

// stop ends the child (if any) and, for an error, records it and waits
// before the next start.
func (m *Meter) stop(err error) {
	if m.child != nil {
		_ = m.child.CloseInput()
		m.child.Kill()
		<-m.child.Done()
		if time.Since(m.started) > time.Minute {
			m.backoff.Reset() // it ran well: the next failure is new
		}
		m.child = nil
	}
	if err == nil || m.ctx.Err() != nil {
		return
	}
	wait := m.backoff.Next()
	m.retryAt = time.Now().Add(wait)
	m.mu.Lock()
	m.levels.Error = err.Error()
	m.mu.Unlock()
	m.log.Warn("the sound meter stopped; it starts again", "error", err, "in", wait)
}

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
