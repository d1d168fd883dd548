package ffmpeg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/onair-studio/onair/engine/media"
)

// AudioJob is what an AudioFeed runs: the FFmpeg, its arguments for the
// sound that comes in, and what reads what it makes.
type AudioJob struct {
	// Bin is the FFmpeg to run. Required.
	Bin string
	// Pacer spaces the starts across the studio; nil: at once.
	Pacer *Pacer
	// Log defaults to slog.Default().
	Log *slog.Logger
	// Batch is how many AAC frames go to FFmpeg in one write (fewer
	// writes and wake-ups, more delay); 0 or 1: each frame at once.
	Batch int
	// Output returns FFmpeg's arguments after its input (what to make and
	// "pipe:1") for the sound cfg describes, or why that sound cannot be
	// handled. Required.
	Output func(cfg mpeg4audio.AudioSpecificConfig) ([]string, error)
	// Read consumes the child's standard output until it ends, on a
	// goroutine of its own. Required.
	Read func(cfg mpeg4audio.AudioSpecificConfig, out io.Reader)
	// Failed, when set, is told why the child stopped and how long the
	// feed waits before it starts another (on the feeding goroutine).
	Failed func(err error, wait time.Duration)
}

// AudioFeed hands a live stream's AAC frames, as ADTS, to an FFmpeg child
// and its output to the job's Read. It starts the child at the first audio
// unit (in the pacer's slot), a new one when the publisher's sound changes,
// and after a failure waits (doubling from 1 s to 30 s) before the next.
// Unit is called from one goroutine (a hub reader's); Close from any,
// once that goroutine is done.
type AudioFeed struct {
	job    AudioJob
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// The feeding goroutine's alone:
	child   *Child
	started time.Time
	config  mpeg4audio.AudioSpecificConfig
	backoff Backoff
	retryAt time.Time
	startAt time.Time              // the pacer's slot for the next start; zero: none taken
	pending mpeg4audio.ADTSPackets // frames not written yet
}

// NewAudioFeed returns a feed that runs job; nothing starts before the
// first audio unit.
func NewAudioFeed(job AudioJob) *AudioFeed {
	if job.Log == nil {
		job.Log = slog.Default()
	}
	f := &AudioFeed{job: job, backoff: Backoff{Min: time.Second, Max: 30 * time.Second}}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	return f
}

// Running tells whether a child runs now (the feeding goroutine's view).
func (f *AudioFeed) Running() bool { return f.child != nil }

// Close ends the child and waits for its reader.
func (f *AudioFeed) Close() {
	f.cancel() // kills the child (its command has the feed's context)
	f.wg.Wait()
}

// Unit feeds an audio unit to FFmpeg, starting it when needed; other
// units are ignored.
func (f *AudioFeed) Unit(u *media.Unit) {
	if u.Kind != media.KindAudio || u.Tracks == nil || u.Tracks.Audio == nil || f.ctx.Err() != nil {
		return
	}
	cfg := u.Tracks.Audio.Config
	if f.child != nil && cfg != f.config {
		f.stop(nil) // another publisher, other sound: a new child
	}
	if f.child == nil {
		now := time.Now()
		if now.Before(f.retryAt) {
			return
		}
		if f.job.Pacer != nil {
			if f.startAt.IsZero() {
				f.startAt = f.job.Pacer.Slot(now)
			}
			if now.Before(f.startAt) {
				return // the units until then are not handed on
			}
			f.startAt = time.Time{}
		}
		if err := f.start(cfg); err != nil {
			f.stop(err)
			return
		}
	}
	// The unit's frame is kept, not copied: published units never change.
	f.pending = append(f.pending, &mpeg4audio.ADTSPacket{Type: cfg.Type, SampleRate: cfg.SampleRate, ChannelConfig: cfg.ChannelConfig, AU: u.Frame})
	if len(f.pending) < max(f.job.Batch, 1) {
		return
	}
	b, err := f.pending.Marshal()
	clear(f.pending)
	f.pending = f.pending[:0]
	if err != nil {
		f.stop(fmt.Errorf("the audio track cannot be handed to FFmpeg (%w): it needs AAC-LC", err))
		return
	}
	if _, err := f.child.Stdin().Write(b); err != nil {
		f.stop(f.ended())
	}
}

// start runs FFmpeg for cfg's sound and the goroutine that reads it.
func (f *AudioFeed) start(cfg mpeg4audio.AudioSpecificConfig) error {
	out, err := f.job.Output(cfg)
	if err != nil {
		return err
	}
	args := append([]string{"-hide_banner", "-loglevel", "error", "-nostats",
		"-fflags", "nobuffer", "-probesize", "32", "-analyzeduration", "0", "-f", "aac", "-i", "pipe:0"}, out...)
	c, err := Start(f.ctx, f.job.Bin, args...)
	if err != nil {
		return err
	}
	f.child, f.config, f.started = c, cfg, time.Now()
	clear(f.pending)
	f.pending = f.pending[:0]
	f.wg.Go(func() {
		f.job.Read(cfg, c.Stdout())
		_ = c.Close()
	})
	f.job.Log.Debug("FFmpeg started", "ffmpeg_pid", c.PID(), "sample_rate", cfg.SampleRate, "channels", cfg.ChannelConfig)
	return nil
}

// ended returns why the child ended (it has, or is ending).
func (f *AudioFeed) ended() error {
	select {
	case <-f.child.Done():
	case <-time.After(2 * time.Second):
		f.child.Kill()
	}
	if err := f.child.Err(); err != nil {
		return fmt.Errorf("FFmpeg ended: %w", err)
	}
	return errors.New("FFmpeg ended")
}

// stop ends the child (if any) and, for an error, tells the job and waits
// before the next start.
func (f *AudioFeed) stop(err error) {
	if f.child != nil {
		_ = f.child.CloseInput()
		f.child.Kill()
		<-f.child.Done()
		if time.Since(f.started) > time.Minute {
			f.backoff.Reset() // it ran well: the next failure is new
		}
		f.child = nil
	}
	if err == nil || f.ctx.Err() != nil {
		return
	}
	wait := f.backoff.Next()
	f.retryAt = time.Now().Add(wait)
	if f.job.Failed != nil {
		f.job.Failed(err, wait)
	}
}

// Channels is how many channels FFmpeg decodes cfg's sound to (AAC's
// configuration 7 is 7.1: eight), or why it cannot.
func Channels(cfg mpeg4audio.AudioSpecificConfig) (int, error) {
	channels := int(cfg.ChannelConfig)
	switch {
	case channels == 7:
		channels = 8
	case channels < 1 || channels > 7:
		return 0, fmt.Errorf("the audio track's channel layout (configuration %d) is not one FFmpeg is given", cfg.ChannelConfig)
	}
	if cfg.SampleRate < 8000 || cfg.SampleRate > 96000 {
		return 0, fmt.Errorf("the audio track's sample rate %d Hz is not one FFmpeg is given", cfg.SampleRate)
	}
	return channels, nil
}
