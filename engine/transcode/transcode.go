// Package transcode makes an HLS output's lower renditions: one FFmpeg
// child per live stream reads the stream's video and sound as MPEG-TS
// (mediacommon's writer) on its standard input, scales and encodes the
// video once per rendition with key frames where the source has them, and
// writes every rendition, with the sound passed through, as one MPEG-TS on
// its standard output, which the studio reads back (mediacommon's reader)
// into media units on the source's timeline. A child that dies is started
// again with a backoff, at the source's next key frame.
package transcode

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/onair-studio/onair/engine/ffmpeg"
	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
)

// Transcoder encodes one live stream's renditions. Add Reader to the
// stream's hub; Close once the hub has let it go.
type Transcoder struct {
	//
	// parameters
	//
	// FFmpeg is the FFmpeg to run. Required.
	FFmpeg string
	// Encoder is the H.264 encoder and its options. It defaults to
	// Software (libx264).
	Encoder Encoder
	// Renditions are made tallest first; at least one. Required.
	Renditions []livestream.Rendition
	// Log defaults to slog.Default().
	Log *slog.Logger
	// OnUnit receives rendition i's units (its video, and the source's
	// sound as FFmpeg passed it on), in order, each with its Tracks set,
	// on the transcoder's reading goroutine. Required.
	OnUnit func(i int, u *media.Unit)
	// OnState tells when the renditions stop (err: why; they start again
	// after a wait) and when they come back (nil, at their first unit).
	// Optional; called on the transcoder's goroutines.
	OnState func(err error)

	//
	// private
	//
	reader *hub.Reader
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
	last   atomic.Int64 // the newest input time (90 kHz), to place the output's
	back   atomic.Bool  // a child started: its first unit tells OnState

	// The hub reader's goroutine's alone:
	child   *ffmpeg.Child
	in      *bufio.Writer
	ts      *mpegts.Writer
	video   *mpegts.Track
	audio   *mpegts.Track
	tracks  *media.Tracks
	started time.Time
	backoff ffmpeg.Backoff
	retryAt time.Time
}

// Reader is the transcoder's reader of the stream's hub (made at the
// first call).
func (t *Transcoder) Reader() *hub.Reader {
	if t.reader == nil {
		if t.Log == nil {
			t.Log = slog.Default()
		}
		if t.Encoder.Name == "" {
			t.Encoder = Software()
		}
		t.ctx, t.cancel = context.WithCancel(context.Background())
		t.backoff = ffmpeg.Backoff{Min: time.Second, Max: 30 * time.Second}
		t.reader = &hub.Reader{Name: "renditions", QueueSize: 256, OnUnit: t.unit}
	}
	return t.reader
}

// Abort kills FFmpeg at once, from any goroutine: a hub reader blocked
// writing to it returns. Close follows.
func (t *Transcoder) Abort() {
	if t.cancel != nil {
		t.cancel()
	}
}

// Close ends FFmpeg and waits for its reader. Call it once the hub reader
// has stopped.
func (t *Transcoder) Close() {
	if t.reader == nil {
		return
	}
	t.cancel() // kills the child (its command has this context)
	t.stop()
	t.wg.Wait()
}

// unit writes a unit to FFmpeg, starting it at a key frame when needed.
func (t *Transcoder) unit(u *media.Unit) {
	if t.ctx.Err() != nil {
		return
	}
	if u.Tracks == nil || u.Tracks.Video == nil || u.Tracks.Video.Codec != media.H264 {
		return // renditions are made of H.264 sources (the output says so)
	}
	if t.child != nil && u.Tracks != t.tracks && !u.Tracks.SameAs(*t.tracks) {
		t.stop() // another publisher, other parameters: a new child
	}
	if t.child == nil {
		if u.Kind != media.KindVideo || !u.Key || time.Now().Before(t.retryAt) {
			return
		}
		if err := t.start(u.Tracks); err != nil {
			t.fail(err)
			return
		}
	}
	t.tracks = u.Tracks
	pts := int64(u.PTS) * 90000 / int64(time.Second)
	var err error
	switch u.Kind {
	case media.KindVideo:
		t.last.Store(pts)
		err = t.ts.WriteH264(t.video, pts, int64(u.DTS)*90000/int64(time.Second), u.NALUs)
	case media.KindAudio:
		if t.audio != nil {
			err = t.ts.WriteMPEG4Audio(t.audio, pts, [][]byte{u.Frame})
		}
	}
	if err == nil {
		err = t.in.Flush()
	}
	if err != nil {
		t.fail(t.ended(err))
	}
}

// start runs FFmpeg for the stream's tracks, and the goroutine that reads
// what it makes.
func (t *Transcoder) start(tracks *media.Tracks) error {
	args := t.args(tracks.Audio != nil)
	c, err := ffmpeg.Start(t.ctx, t.FFmpeg, args...)
	if err != nil {
		return err
	}
	t.child, t.started = c, time.Now()
	t.back.Store(true)
	t.in = bufio.NewWriterSize(c.Stdin(), 64<<10)
	t.video = &mpegts.Track{Codec: &tscodecs.H264{}}
	t.audio = nil
	ts := []*mpegts.Track{t.video}
	if tracks.Audio != nil {
		t.audio = &mpegts.Track{Codec: &tscodecs.MPEG4Audio{Config: tracks.Audio.Config}}
		ts = append(ts, t.audio)
	}
	t.ts = &mpegts.Writer{W: t.in, Tracks: ts}
	if err := t.ts.Initialize(); err != nil {
		return fmt.Errorf("writing MPEG-TS for FFmpeg: %w", err)
	}
	audio := tracks.Audio
	t.wg.Go(func() {
		err := t.read(c.Stdout(), audio)
		if !errors.Is(err, io.EOF) {
			t.Log.Debug("reading the renditions ended", "error", err)
		}
		_ = c.Close()
	})
	t.Log.Info("renditions started", "ffmpeg_pid", c.PID(), "encoder", t.Encoder.Name, "renditions", len(t.Renditions))
	return nil
}

// ended returns why writing to the child failed: its own last words.
func (t *Transcoder) ended(werr error) error {
	select {
	case <-t.child.Done():
	case <-time.After(2 * time.Second):
		t.child.Kill()
	}
	if err := t.child.Err(); err != nil {
		return fmt.Errorf("FFmpeg ended: %w", err)
	}
	return fmt.Errorf("FFmpeg stopped reading: %w", werr)
}

// fail stops the child and waits before the next start.
func (t *Transcoder) fail(err error) {
	t.stop()
	if t.ctx.Err() != nil {
		return // closing: not a failure
	}
	wait := t.backoff.Next()
	t.retryAt = time.Now().Add(wait)
	t.Log.Warn("the renditions stopped; they start again", "error", err, "in", wait)
	if t.OnState != nil {
		t.OnState(err)
	}
}

// stop ends the child, if any.
func (t *Transcoder) stop() {
	if t.child == nil {
		return
	}
	_ = t.child.CloseInput()
	t.child.Kill()
	<-t.child.Done()
	if time.Since(t.started) > time.Minute {
		t.backoff.Reset()
	}
	t.child = nil
}

// args are FFmpeg's arguments: MPEG-TS in, each rendition scaled and
// encoded with key frames where the source has them, the sound copied,
// MPEG-TS out on the source's timestamps.
func (t *Transcoder) args(audio bool) []string {
	n := len(t.Renditions)
	var graph []string
	if n > 1 {
		var split strings.Builder
		fmt.Fprintf(&split, "[0:v]split=%d", n)
		for i := range n {
			fmt.Fprintf(&split, "[s%d]", i)
		}
		graph = append(graph, split.String())
	}
	for i, r := range t.Renditions {
		in := fmt.Sprintf("[s%d]", i)
		if n == 1 {
			in = "[0:v]"
		}
		graph = append(graph, fmt.Sprintf("%s%sscale=-2:%d[o%d]", in, t.Encoder.Filter, r.Height, i))
	}
	// -probesize/-analyzeduration: the stream's parameters from its first
	// half second; -copyts with the demuxer's time base: the renditions'
	// pictures carry the source's exact times, so their key frames fall
	// where the source's do.
	args := append([]string{"-hide_banner", "-loglevel", "error", "-nostats"}, t.Encoder.Input...)
	args = append(args, "-probesize", "1000000", "-analyzeduration", "500000", "-f", "mpegts", "-i", "pipe:0",
		"-filter_complex", strings.Join(graph, ";"))
	for i := range n {
		args = append(args, "-map", fmt.Sprintf("[o%d]", i))
	}
	if audio {
		args = append(args, "-map", "0:a:0", "-c:a", "copy")
	}
	args = append(args, "-c:v", t.Encoder.Name)
	args = append(args, t.Encoder.Options...)
	args = append(args, "-force_key_frames", "source", "-enc_time_base:v", "-1")
	for i, r := range t.Renditions {
		b := strconv.Itoa(r.Bitrate)
		args = append(args, fmt.Sprintf("-b:v:%d", i), b, fmt.Sprintf("-maxrate:v:%d", i), b, fmt.Sprintf("-bufsize:v:%d", i), b)
	}
	return append(args, "-copyts", "-fps_mode", "passthrough", "-muxdelay", "0", "-muxpreload", "0",
		"-flush_packets", "1", "-f", "mpegts", "pipe:1")
}
