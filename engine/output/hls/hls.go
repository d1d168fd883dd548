// Package hls is the HLS output: a hub reader that cuts the stream into
// fMP4 parts and segments (low-latency HLS by default) and serves the
// playlists and media over HTTP. MPEG-TS is served by gohlslib's muxer.
package hls

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2"

	"github.com/onair-studio/onair/engine/diskfree"
	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/netlimit"
	"github.com/onair-studio/onair/engine/transcode"
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

// DefaultDVRMinFree is the free space a DVR window leaves on its disk:
// more than a recording's floor, so the window gives way first.
const DefaultDVRMinFree = 1 << 30

// muxer is one playlist's writer and server.
type muxer interface {
	writeUnit(*media.Unit) error
	markDiscontinuity()
	// dvrStats tells what the playlist keeps (read without the muxer's lock).
	dvrStats() livestream.DVRStats
	handle(w http.ResponseWriter, r *http.Request)
	close()
}

// Output is the HLS output of one live stream's session. A publisher that
// comes back with the same codec parameters continues the same playlist:
// the hub keeps the timeline increasing, the media sequence goes on and
// the first segment of the new publisher is marked as a discontinuity.
type Output struct {
	//
	// parameters
	//
	// Variant defaults to low-latency fMP4.
	Variant gohlslib.MuxerVariant
	// Dir holds finished segments as files, so memory keeps only the parts
	// near the live edge. Empty keeps everything in memory.
	Dir string
	// SegmentCount is the number of segments in the playlist. It defaults to 7.
	SegmentCount int
	// SegmentMinDuration defaults to 1 s (segments end on key frames).
	SegmentMinDuration time.Duration
	// PartMinDuration defaults to 200 ms.
	PartMinDuration time.Duration
	// MaxSegmentDuration ends a segment that has had no key frame for this
	// long; video then waits for the next key frame. It defaults to 30 s
	// (OBS's automatic key frame interval is about 8 s).
	MaxSegmentDuration time.Duration
	// MaxSegmentSize does the same by size. It defaults to 50 MiB.
	MaxSegmentSize int64
	// DVRWindow keeps this much of the stream in the playlist (segments in
	// files in Dir) for viewers to seek back in; 0 keeps SegmentCount
	// segments. It needs the fMP4 variants and Dir; with MPEG-TS only the
	// live edge is kept.
	DVRWindow time.Duration
	// DVRMinFree is the free space below which the DVR window keeps only the
	// live edge until there is room again. It defaults to DefaultDVRMinFree.
	DVRMinFree uint64
	// FreeSpace reads a folder's free space; it defaults to diskfree.Free.
	FreeSpace func(dir string) (uint64, error)
	// Renditions are encoded by FFmpeg (FFmpeg, with Encoder) below the
	// source, which is always the top rendition; without FFmpeg the output
	// plays the source and warns.
	Renditions []livestream.Rendition
	FFmpeg     string
	Encoder    transcode.Encoder
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	//
	// callbacks
	//
	// OnStatus tells when the output starts broadcasting or fails, and
	// when it broadcasts with a warning (err set with broadcasting true: the
	// DVR window cut short by a nearly full disk). Optional.
	OnStatus func(broadcasting bool, err error)

	//
	// private
	//
	mu       sync.RWMutex
	muxer    muxer
	tracks   *media.Tracks
	live     bool
	failed   bool
	reader   *hub.Reader
	stream   *hub.Stream
	sessions int

	served       served
	lowDisk      bool // the DVR window keeps only the live edge (reported)
	awaitingKey  bool // video is dropped until the next key frame
	encodeErrors int
	encodeWarn   *netlimit.RateLog // muxer warnings at most once a minute

	// The renditions (renditions.go): rend is under mu, the rest the
	// transcoder's goroutine's.
	trans      *transcode.Transcoder
	rend       []*fmp4Muxer
	rendTracks []*media.Tracks
	rendWarn   *netlimit.RateLog
	warning    error // reported with broadcasting: why there are no renditions
}

// Start attaches the output to s.
func (o *Output) Start(s *hub.Stream) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Variant == 0 {
		o.Variant = gohlslib.MuxerVariantLowLatency
	}
	if o.SegmentCount == 0 {
		o.SegmentCount = 7
	}
	if o.SegmentMinDuration == 0 {
		o.SegmentMinDuration = time.Second
	}
	if o.PartMinDuration == 0 {
		o.PartMinDuration = 200 * time.Millisecond
	}
	if o.MaxSegmentDuration == 0 {
		o.MaxSegmentDuration = 30 * time.Second
	}
	if o.MaxSegmentSize == 0 {
		o.MaxSegmentSize = 50 << 20
	}
	if o.DVRMinFree == 0 {
		o.DVRMinFree = DefaultDVRMinFree
	}
	if o.FreeSpace == nil {
		o.FreeSpace = diskfree.Free
	}
	if o.DVRWindow > 0 && (o.Variant == gohlslib.MuxerVariantMPEGTS || o.Dir == "") {
		o.Logger.Warn("the DVR window needs the fMP4 HLS variants and a folder for segments; only the live edge is kept")
		o.DVRWindow = 0
	}
	o.reader = &hub.Reader{Name: "hls", OnUnit: o.write}
	o.stream = s
	s.AddReader(o.reader)
	o.startRenditions()
}

// Close detaches the reader and ends the muxer; waiting HTTP requests
// return and files are removed.
func (o *Output) Close() {
	if o.stream != nil {
		o.stream.RemoveReader(o.reader)
		o.closeRenditions()
	}
	o.closeMuxer()
}

// closeMuxer ends the current muxer.
func (o *Output) closeMuxer() {
	o.mu.Lock()
	m := o.muxer
	o.muxer = nil
	o.mu.Unlock()
	if m != nil {
		m.close()
	}
	if o.Dir != "" {
		os.Remove(o.Dir) // only if empty
	}
}

func (o *Output) write(u *media.Unit) {
	if u.Tracks != o.tracks {
		if o.tracks == nil || !u.Tracks.SameAs(*o.tracks) {
			o.tracks = u.Tracks
			if err := o.restart(*u.Tracks); err != nil {
				o.fail(err)
				return
			}
		} else {
			o.tracks = u.Tracks
			if o.muxer != nil {
				o.muxer.markDiscontinuity()
			}
		}
	}
	// Only this goroutine sets o.muxer (restart), and Close runs after the
	// reader stopped: reading it here needs no lock.
	m := o.muxer
	if m == nil {
		return
	}
	if err := m.writeUnit(u); err != nil {
		if errors.Is(err, errNoKeyFrame) {
			o.awaitingKey = true
		}
		o.fail(fmt.Errorf("writing HLS: %w", err))
		return
	}
	if o.awaitingKey {
		if u.Kind != media.KindVideo || !u.Key {
			return // still dropped until a key frame
		}
		o.awaitingKey = false
		o.Logger.Info("HLS resumed at a key frame")
	}
	if !o.live {
		o.live = true
		o.failed = false
		o.lowDisk = false
		if o.trans != nil { // this publisher's codec: renditions need H.264
			o.warning = nil
			if u.Tracks.Video != nil && u.Tracks.Video.Codec != media.H264 {
				o.warning = errRenditionsH264
			}
		}
		if o.OnStatus != nil {
			o.OnStatus(true, o.warning)
		}
	}
	if o.DVRWindow > 0 && u.Key {
		o.checkDisk(m) // the state changes only as a segment ends, at a key frame
	}
}

// errLowDisk is the warning a broadcasting output carries while its DVR
// window keeps only the live edge.
var errLowDisk = errors.New("rewind keeps only the live edge for now: the disk holding it has less than 1 GiB free; free some space (it grows back by itself)")

// checkDisk reports a change of the DVR window's disk state: broadcasting
// with a warning while the disk is nearly full, without once there is room.
func (o *Output) checkDisk(m muxer) {
	low := m.dvrStats().LowDisk
	if low == o.lowDisk {
		return
	}
	o.lowDisk = low
	if o.OnStatus == nil {
		return
	}
	if low {
		o.OnStatus(true, errLowDisk)
	} else {
		o.OnStatus(true, o.warning)
	}
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

// restart replaces the muxer for new codec parameters.
func (o *Output) restart(t media.Tracks) error {
	o.closeMuxer()
	var m muxer
	var err error
	if o.Variant == gohlslib.MuxerVariantMPEGTS {
		m, err = newGohlslibMuxer(t, o.Variant, o.SegmentCount, o.SegmentMinDuration, o.PartMinDuration, o.encodeError)
	} else {
		dir := o.Dir
		if dir != "" {
			o.sessions++
			dir = filepath.Join(dir, fmt.Sprint(o.sessions))
		}
		m, err = newFMP4Muxer(t, o.Variant == gohlslib.MuxerVariantLowLatency, o.SegmentCount,
			o.SegmentMinDuration, o.PartMinDuration, muxerLimits{o.MaxSegmentDuration, o.MaxSegmentSize},
			dvrLimits{window: o.DVRWindow, minFree: o.DVRMinFree, free: o.FreeSpace}, dir, o.Logger)
	}
	if err != nil {
		return err
	}
	o.mu.Lock()
	o.muxer = m
	o.mu.Unlock()
	o.live = false
	return nil
}

// encodeError logs the muxer's non-fatal errors, at most once a minute.
func (o *Output) encodeError(err error) {
	o.encodeErrors++
	if o.encodeWarn == nil {
		o.encodeWarn = &netlimit.RateLog{Every: time.Minute, Logger: o.Logger}
	}
	o.encodeWarn.Add("HLS muxer warning", "error", err, "count", o.encodeErrors)
}

// ServeHTTP serves the playlists and media; the file name is the last
// element of the request path (index.m3u8 is the multivariant playlist).
func (o *Output) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.served.note(r)
	w = &countingWriter{ResponseWriter: w, n: &o.served.bytes}
	o.mu.RLock()
	m := o.muxer
	o.mu.RUnlock()
	if m == nil {
		w.Header().Set("Cache-Control", cacheNever)
		http.Error(w, "stream has no media yet", http.StatusNotFound)
		return
	}
	if o.trans != nil {
		name := path.Base(r.URL.Path)
		if src, ok := m.(*fmp4Muxer); ok && name == multivariantName {
			o.serveMultivariant(w, r, src)
			return
		}
		if rm := o.renditionFor(name); rm != nil {
			rm.handle(w, r)
			return
		}
	}
	m.handle(w, r)
}
