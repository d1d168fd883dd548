package hls

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/media/mp4frag"
)

// gohlslibMuxer serves the MPEG-TS variant with gohlslib's muxer.
type gohlslibMuxer struct {
	m     *gohlslib.Muxer
	video *gohlslib.Track
	audio *gohlslib.Track
	start time.Time
	h265  bool
}

func newGohlslibMuxer(t media.Tracks, variant gohlslib.MuxerVariant, count int, segMin, partMin time.Duration, onErr func(error)) (*gohlslibMuxer, error) {
	g := &gohlslibMuxer{}
	var tracks []*gohlslib.Track
	if t.Video != nil {
		var c codecs.Codec = &codecs.H264{SPS: t.Video.SPS, PPS: t.Video.PPS}
		switch t.Video.Codec {
		case media.H265:
			c, g.h265 = &codecs.H265{VPS: t.Video.VPS, SPS: t.Video.SPS, PPS: t.Video.PPS}, true
		case media.AV1:
			return nil, errors.New("the MPEG-TS variant carries H.264 and H.265 only: set the HLS output's variant to lowlatency or fmp4 for an AV1 stream")
		}
		g.video = &gohlslib.Track{Codec: c, ClockRate: 90000}
		tracks = append(tracks, g.video)
	}
	if t.Audio != nil {
		g.audio = &gohlslib.Track{Codec: &codecs.MPEG4Audio{Config: t.Audio.Config}, ClockRate: t.Audio.Config.SampleRate}
		tracks = append(tracks, g.audio)
	}
	g.m = &gohlslib.Muxer{Tracks: tracks, Variant: variant, SegmentCount: count,
		SegmentMinDuration: segMin, PartMinDuration: partMin, OnEncodeError: onErr}
	if err := g.m.Start(); err != nil {
		return nil, fmt.Errorf("starting the HLS muxer: %w", err)
	}
	return g, nil
}

func (g *gohlslibMuxer) writeUnit(u *media.Unit) error {
	if g.start.IsZero() {
		recv := u.Received
		if recv.IsZero() {
			recv = time.Now()
		}
		g.start = recv.Add(-u.PTS)
	}
	ntp := g.start.Add(u.PTS)
	switch u.Kind {
	case media.KindVideo:
		if g.video != nil {
			if g.h265 {
				return g.m.WriteH265(g.video, ntp, mp4frag.ToTicks(u.PTS, 90000), u.NALUs)
			}
			return g.m.WriteH264(g.video, ntp, mp4frag.ToTicks(u.PTS, 90000), u.NALUs)
		}
	case media.KindAudio:
		if g.audio != nil {
			return g.m.WriteMPEG4Audio(g.audio, ntp, mp4frag.ToTicks(u.PTS, int64(g.audio.ClockRate)), [][]byte{u.Frame})
		}
	}
	return nil
}

// markDiscontinuity: gohlslib has no discontinuity support; the hub's
// continuous timeline keeps the playlist playable.
func (g *gohlslibMuxer) markDiscontinuity() {}

func (g *gohlslibMuxer) handle(w http.ResponseWriter, r *http.Request) {
	tw := &trackingWriter{ResponseWriter: w}
	g.m.Handle(tw, r)
	if !tw.wrote {
		http.Error(w, "no such HLS file", http.StatusNotFound)
	}
}

func (g *gohlslibMuxer) close() { g.m.Close() }

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

// dvrStats: the MPEG-TS muxer keeps only the live edge, in memory.
func (g *gohlslibMuxer) dvrStats() livestream.DVRStats { return livestream.DVRStats{} }
