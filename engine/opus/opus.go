// Package opus turns a live stream's AAC sound into Opus packets (48 kHz,
// 20 ms each) with an FFmpeg child, for the preview's WebRTC audio:
// WebRTC carries Opus, not AAC. FFmpeg writes Ogg pages of one packet each
// (pion's Ogg reader takes them apart); the encoder hands each packet on
// with its length in samples.
package opus

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"github.com/onair-studio/onair/engine/ffmpeg"
	"github.com/onair-studio/onair/engine/media"
)

// ClockRate is Opus's RTP clock: samples a second.
const ClockRate = 48000

// Bitrate is what the encoder spends on the sound: enough for music to
// be judged by ear, little beside the preview's video.
const Bitrate = 96000

// Encoder makes Opus of one live stream's sound. Unit is called from one
// goroutine (the stream's reader); Close once it is done.
type Encoder struct {
	feed *ffmpeg.AudioFeed
	log  *slog.Logger

	mu  sync.Mutex
	err string
}

// New returns an encoder running the FFmpeg at bin; packet is called with
// each Opus packet and its length in samples at 48 kHz, on the encoder's
// own goroutine, in order. FFmpeg starts with the first audio unit.
func New(bin string, log *slog.Logger, packet func(payload []byte, samples uint32)) *Encoder {
	e := &Encoder{log: log}
	e.feed = ffmpeg.NewAudioFeed(ffmpeg.AudioJob{Bin: bin, Log: log,
		Output: func(cfg mpeg4audio.AudioSpecificConfig) ([]string, error) {
			channels, err := ffmpeg.Channels(cfg)
			if err != nil {
				return nil, fmt.Errorf("%w: the preview has no sound", err)
			}
			// -page_duration 20000 µs: a page (and a flush) per 20 ms packet,
			// so no packet waits for the next.
			return []string{"-map", "0:a:0", "-c:a", "libopus", "-b:a", strconv.Itoa(Bitrate),
				"-application", "lowdelay", "-frame_duration", "20", "-ar", strconv.Itoa(ClockRate),
				"-ac", strconv.Itoa(min(channels, 2)), "-f", "ogg", "-page_duration", "20000", "-flush_packets", "1", "pipe:1"}, nil
		},
		Read: func(_ mpeg4audio.AudioSpecificConfig, out io.Reader) {
			if err := read(out, packet); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				e.setErr(err.Error())
				log.Warn("reading the preview's Opus", "error", err)
			}
		},
		Failed: func(err error, wait time.Duration) {
			e.setErr(err.Error())
			log.Warn("the preview's sound stopped; it starts again", "error", err, "in", wait)
		},
	})
	return e
}

// Unit hands the stream's audio units to FFmpeg; others are ignored.
func (e *Encoder) Unit(u *media.Unit) { e.feed.Unit(u) }

// Running tells whether FFmpeg runs now (from Unit's goroutine).
func (e *Encoder) Running() bool { return e.feed.Running() }

// Err is why the encoder does not encode now, or "".
func (e *Encoder) Err() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

func (e *Encoder) setErr(s string) {
	e.mu.Lock()
	e.err = s
	e.mu.Unlock()
}

// Close ends FFmpeg and waits for it.
func (e *Encoder) Close() { e.feed.Close() }

// read takes the Opus packets out of an Ogg Opus stream of one packet a
// page until it ends, and returns why (io.EOF at its end).
func read(r io.Reader, packet func([]byte, uint32)) error {
	ogg, _, err := oggreader.NewWith(r)
	if err != nil {
		return fmt.Errorf("reading FFmpeg's Opus header: %w", err)
	}
	for {
		payload, _, err := ogg.ParseNextPage()
		if err != nil {
			return err
		}
		if bytes.HasPrefix(payload, []byte("OpusTags")) {
			continue
		}
		n, err := Samples(payload)
		if err != nil {
			return err
		}
		packet(payload, n)
	}
}

// Samples is an Opus packet's length in samples at 48 kHz, read from its
// table-of-contents byte (RFC 6716, 3.1).
func Samples(p []byte) (uint32, error) {
	if len(p) == 0 {
		return 0, errors.New("an empty Opus packet")
	}
	config := p[0] >> 3
	var frame uint32 // samples of one frame
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = [4]uint32{480, 960, 1920, 2880}[config%4]
	case config < 16: // hybrid: 10, 20 ms
		frame = [2]uint32{480, 960}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [4]uint32{120, 240, 480, 960}[config%4]
	}
	frames := uint32(1)
	switch p[0] & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0, errors.New("an Opus packet without its frame count")
		}
		frames = uint32(p[1] & 0x3f)
	}
	if n := frame * frames; n > 0 && n <= 5760 { // at most 120 ms
		return n, nil
	}
	return 0, fmt.Errorf("an Opus packet of %d frames of %d samples", frames, frame)
}
