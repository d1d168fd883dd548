// Package hls is the HLS output: a hub reader that feeds a gohlslib muxer
// and serves its playlists and segments over HTTP.
package hls

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"

	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/media"
)

// Variant names accepted by ParseVariant.
const (
	VariantLowLatency = "lowlatency"
	VariantFMP4       = "fmp4"
	VariantMPEGTS     = "mpegts"
)

// ParseVariant maps a setting to a muxer variant.
func ParseVariant(s string) (gohlslib.MuxerVariant, error) {
	switch s {
	case "", VariantLowLatency:
		return gohlslib.MuxerVariantLowLatency, nil
	case VariantFMP4:
		return gohlslib.MuxerVariantFMP4, nil
	case VariantMPEGTS:
		return gohlslib.MuxerVariantMPEGTS, nil
	}
	return 0, fmt.Errorf("unknown HLS variant %q (lowlatency, fmp4 or mpegts)", s)
}

// Output is the HLS output of one live stream's session. A publisher that
// comes back with the same codec parameters continues the same playlist:
// the hub keeps the timeline increasing, so media sequence numbers go on.
type Output struct {
	//
	// parameters
	//
	// Variant defaults to low-latency fMP4.
	Variant gohlslib.MuxerVariant
	// SegmentCount defaults to 7.
	SegmentCount int
	// SegmentMinDuration defaults to 1 s (segments end on key frames).
	SegmentMinDuration time.Duration
	// PartMinDuration defaults to 200 ms.
	PartMinDuration time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	//
	// callbacks
	//
	// OnStatus tells when the output starts broadcasting or fails. Optional.
	OnStatus func(broadcasting bool, err error)

	//
	// private
	//
	mu     sync.RWMutex
	muxer  *gohlslib.Muxer
	tracks *media.Tracks
	video  *gohlslib.Track
	audio  *gohlslib.Track
	start  time.Time
	live   bool
	failed bool
	reader *hub.Reader

	encodeErrors   int
	lastEncodeWarn time.Time
}

// Start attaches the output to s.
func (o *Output) Start(s *hub.Stream) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.reader = &hub.Reader{Name: "hls", OnUnit: o.write}
	s.AddReader(o.reader)
}

// Reader returns the hub reader, to stop it with Stream.RemoveReader.
func (o *Output) Reader() *hub.Reader { return o.reader }

// Close ends the muxer; waiting HTTP requests return.
// Detach the reader from the hub first.
func (o *Output) Close() {
	o.mu.Lock()
	m := o.muxer
	o.muxer = nil
	o.mu.Unlock()
	if m != nil {
		m.Close()
	}
}

func (o *Output) write(u *media.Unit) {
	if u.Tracks != o.tracks {
		if o.tracks == nil || !u.Tracks.SameAs(*o.tracks) {
			if err := o.restart(*u.Tracks); err != nil {
				o.fail(err)
				o.tracks = u.Tracks
				return
			}
		}
		o.tracks = u.Tracks
	}
	o.mu.RLock()
	m := o.muxer
	o.mu.RUnlock()
	if m == nil {
		return
	}
	if o.start.IsZero() {
		// Wall-clock time of media time zero: program date-times then tell
		// when the media reached the studio.
		recv := u.Received
		if recv.IsZero() {
			recv = time.Now()
		}
		o.start = recv.Add(-u.PTS)
	}
	ntp := o.start.Add(u.PTS)
	var err error
	switch u.Kind {
	case media.KindVideo:
		if o.video == nil {
			return
		}
		err = m.WriteH264(o.video, ntp, int64(u.PTS)*90000/int64(time.Second), u.NALUs)
	case media.KindAudio:
		if o.audio == nil {
			return
		}
		rate := int64(o.audio.ClockRate)
		err = m.WriteMPEG4Audio(o.audio, ntp, durationToTicks(u.PTS, rate), [][]byte{u.Frame})
	}
	if err != nil {
		o.fail(fmt.Errorf("writing to the HLS muxer: %w", err))
		return
	}
	if !o.live {
		o.live = true
		o.failed = false
		if o.OnStatus != nil {
			o.OnStatus(true, nil)
		}
	}
}

// encodeError logs the muxer's non-fatal errors, at most once a minute:
// FLV's millisecond timestamps make gohlslib warn about part durations
// that differ by a millisecond, many times a minute.
func (o *Output) encodeError(err error) {
	o.encodeErrors++
	if now := time.Now(); now.Sub(o.lastEncodeWarn) > time.Minute {
		o.lastEncodeWarn = now
		o.Logger.Warn("HLS muxer warning", "error", err, "count", o.encodeErrors)
	}
}

func durationToTicks(d time.Duration, rate int64) int64 {
	secs := int64(d / time.Second)
	rest := int64(d % time.Second)
	return secs*rate + rest*rate/int64(time.Second)
}

func (o *Output) fail(err error) {
	if o.failed {
		return
	}
	o.failed = true
	o.live = false
	o.Logger.Warn("HLS output error", "error", err)
	if o.OnStatus != nil {
		o.OnStatus(false, err)
	}
}

func (o *Output) restart(t media.Tracks) error {
	o.Close()
	o.video, o.audio = nil, nil
	var tracks []*gohlslib.Track
	if t.Video != nil {
		o.video = &gohlslib.Track{
			Codec:     &codecs.H264{SPS: t.Video.SPS, PPS: t.Video.PPS},
			ClockRate: 90000,
		}
		tracks = append(tracks, o.video)
	}
	if t.Audio != nil {
		o.audio = &gohlslib.Track{
			Codec:     &codecs.MPEG4Audio{Config: t.Audio.Config},
			ClockRate: t.Audio.Config.SampleRate,
		}
		tracks = append(tracks, o.audio)
	}
	m := &gohlslib.Muxer{
		Tracks:             tracks,
		Variant:            o.Variant,
		SegmentCount:       o.SegmentCount,
		SegmentMinDuration: o.SegmentMinDuration,
		PartMinDuration:    o.PartMinDuration,
		OnEncodeError:      o.encodeError,
	}
	if m.Variant == 0 {
		m.Variant = gohlslib.MuxerVariantLowLatency
	}
	if err := m.Start(); err != nil {
		return fmt.Errorf("starting the HLS muxer: %w", err)
	}
	o.mu.Lock()
	o.muxer = m
	o.mu.Unlock()
	o.live = false
	return nil
}

// ServeHTTP serves the playlists and segments; the file name is the last
// element of the request path (index.m3u8 is the multivariant playlist).
func (o *Output) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.RLock()
	m := o.muxer
	o.mu.RUnlock()
	if m == nil {
		http.Error(w, "stream has no media yet", http.StatusNotFound)
		return
	}
	tw := &trackingWriter{ResponseWriter: w}
	m.Handle(tw, r)
	if !tw.wrote {
		http.Error(w, "no such HLS file", http.StatusNotFound)
	}
}

type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
