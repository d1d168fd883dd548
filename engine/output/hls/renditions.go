package hls

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/netlimit"
	"github.com/onair-studio/onair/engine/transcode"
)

// Warnings of an output whose renditions cannot be made; the source plays.
var (
	errNoFFmpeg = errors.New("renditions need FFmpeg, which is not installed: install it (Debian and Ubuntu: sudo apt install ffmpeg; " +
		"macOS: brew install ffmpeg; Windows: winget install Gyan.FFmpeg) and restart the studio; viewers get the source only")
	errRenditionsTS   = errors.New("renditions need the fMP4 HLS variants (the studio runs MPEG-TS); viewers get the source only")
	errRenditionsH264 = errors.New("renditions are made from H.264: the encoder sends another codec, so viewers get the source only (in OBS: Settings > Output > Video Encoder: x264 or another H.264 encoder)")
)

// renditionWait is how long the multivariant playlist waits for the
// renditions' first segments (after the source's), at a stream's start.
const renditionWait = 3 * time.Second

// renditionName is rendition r's media playlist.
func renditionName(r livestream.Rendition) string {
	return "stream_" + strconv.Itoa(r.Height) + "p.m3u8"
}

// startRenditions adds the transcoder's reader to the stream, or sets why
// there are no renditions.
func (o *Output) startRenditions() {
	switch {
	case len(o.Renditions) == 0:
		return
	case o.Variant == gohlslib.MuxerVariantMPEGTS:
		o.warning = errRenditionsTS
		return
	case o.FFmpeg == "":
		o.warning = errNoFFmpeg
		return
	}
	o.rend = make([]*fmp4Muxer, len(o.Renditions))
	o.rendTracks = make([]*media.Tracks, len(o.Renditions))
	o.rendWarn = &netlimit.RateLog{Every: time.Minute, Logger: o.Logger}
	o.trans = &transcode.Transcoder{FFmpeg: o.FFmpeg, Encoder: o.Encoder, Renditions: o.Renditions,
		Log: o.Logger.With("component", "renditions"), OnUnit: o.renditionUnit, OnState: o.renditionState}
	o.stream.AddReader(o.trans.Reader())
}

// closeRenditions ends the transcoder, then the renditions' muxers.
func (o *Output) closeRenditions() {
	if o.trans == nil {
		return
	}
	o.trans.Abort() // a write to a slow FFmpeg does not hold the reader up
	o.stream.RemoveReader(o.trans.Reader())
	o.trans.Close()
	o.mu.Lock()
	muxers := o.rend
	o.rend = nil
	o.mu.Unlock()
	for _, m := range muxers {
		if m != nil {
			m.close()
		}
	}
}

// renditionUnit writes a unit of rendition i (the transcoder's goroutine).
// A new FFmpeg run of the same parameters continues the playlist after a
// discontinuity; other parameters start another.
func (o *Output) renditionUnit(i int, u *media.Unit) {
	o.mu.RLock()
	m := o.rend[i] // only this goroutine replaces it
	o.mu.RUnlock()
	if u.Tracks != o.rendTracks[i] {
		same := o.rendTracks[i] != nil && u.Tracks.SameAs(*o.rendTracks[i])
		o.rendTracks[i] = u.Tracks
		if same && m != nil {
			m.markDiscontinuity()
		} else {
			var err error
			if m, err = o.newRendition(i, *u.Tracks); err != nil {
				o.rendWarn.Add("a rendition could not start", "height", o.Renditions[i].Height, "error", err)
				return
			}
		}
	}
	if m == nil {
		return
	}
	if err := m.writeUnit(u); err != nil {
		o.rendWarn.Add("writing a rendition", "height", o.Renditions[i].Height, "error", err)
	}
}

// newRendition replaces rendition i's muxer and returns the new one.
func (o *Output) newRendition(i int, t media.Tracks) (*fmp4Muxer, error) {
	r := o.Renditions[i]
	dir := ""
	if o.Dir != "" {
		dir = filepath.Join(o.Dir, fmt.Sprintf("%dp-%s", r.Height, livestream.RandomHex(4)))
	}
	m, err := newFMP4Muxer(t, o.Variant == gohlslib.MuxerVariantLowLatency, o.SegmentCount,
		o.SegmentMinDuration, o.PartMinDuration, muxerLimits{o.MaxSegmentDuration, o.MaxSegmentSize},
		dvrLimits{window: o.DVRWindow, minFree: o.DVRMinFree, free: o.FreeSpace}, dir, o.Logger)
	if err != nil {
		return nil, err
	}
	m.playlist = renditionName(r)
	o.mu.Lock()
	old := o.rend[i]
	o.rend[i] = m
	o.mu.Unlock()
	if old != nil {
		old.close()
	}
	return m, nil
}

// renditionState reports the renditions stopping (errored: the source
// plays on, they start again by themselves) and coming back.
func (o *Output) renditionState(err error) {
	if o.OnStatus == nil {
		return
	}
	if err != nil {
		o.OnStatus(false, fmt.Errorf("the renditions stopped and start again shortly; viewers get the source meanwhile: %w", err))
		return
	}
	o.OnStatus(true, nil)
}

// renditionFor returns the muxer serving name, a rendition's playlist or
// file, or nil.
func (o *Output) renditionFor(name string) *fmp4Muxer {
	o.mu.RLock()
	defer o.mu.RUnlock()
	for _, m := range o.rend {
		if m == nil {
			continue
		}
		if name == m.playlist || (len(name) > len(m.prefix) && name[:len(m.prefix)] == m.prefix && name[len(m.prefix)] == '_') {
			return m
		}
	}
	return nil
}

// serveMultivariant lists the source and the renditions that have a
// segment (waiting a little for them at the start), tallest first.
func (o *Output) serveMultivariant(w http.ResponseWriter, r *http.Request, src *fmp4Muxer) {
	type line struct {
		v     *playlist.MultivariantVariant
		cache string
	}
	top, err := locked(r.Context(), src, func() bool { return len(src.segments) > 0 }, func() (line, error) {
		return line{src.variantLocked(), "public, max-age=" + strconv.Itoa(max(1, src.targetDuration()/2))}, nil
	})
	if err != nil {
		fail(w, err)
		return
	}
	variants := []*playlist.MultivariantVariant{top.v}
	deadline := time.Now().Add(renditionWait)
	for {
		variants = variants[:1]
		o.mu.RLock()
		muxers := append([]*fmp4Muxer(nil), o.rend...)
		o.mu.RUnlock()
		for _, m := range muxers {
			if m == nil {
				continue
			}
			v, _ := locked(r.Context(), m, nil, func() (*playlist.MultivariantVariant, error) {
				if len(m.segments) == 0 {
					return nil, nil
				}
				return m.variantLocked(), nil
			})
			if v != nil {
				variants = append(variants, v)
			}
		}
		if len(variants) == len(o.Renditions)+1 || time.Now().After(deadline) || r.Context().Err() != nil {
			break
		}
		select {
		case <-r.Context().Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	b, err := playlist.Multivariant{Version: 9, IndependentSegments: true, Variants: variants}.Marshal()
	if err != nil {
		fail(w, err)
		return
	}
	if len(variants) < len(o.Renditions)+1 {
		top.cache = "public, max-age=1" // the others follow shortly
	}
	writePlaylist(w, playlistAnswer{b, top.cache})
}
