package hls

import (
	"path/filepath"
	"time"

	"github.com/bluenviron/gohlslib/v2"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/output"
	"github.com/onair-studio/onair/engine/transcode"
)

// Factory makes the HLS output of each session.
type Factory struct {
	// Variant defaults to low-latency fMP4.
	Variant gohlslib.MuxerVariant
	// Dir holds the finished segments of active streams, one folder per
	// stream. Empty keeps them in memory.
	Dir string
	// BaseURL is the HTTP server's, e.g. http://127.0.0.1:8935: playlists
	// are at BaseURL/hls/{id}/index.m3u8. Required.
	BaseURL string
	// PublicURL, when set and not empty, is the public playback address
	// (a CDN in front of the studio): the uri then names it instead.
	PublicURL func() string
	// FFmpeg encodes the renditions with Encoder; "": outputs with
	// renditions play the source only and say what to install.
	FFmpeg string
	// Encoder returns the encoder chosen for this computer (nil: libx264).
	Encoder func() transcode.Encoder
}

// New implements output.Factory.
func (f *Factory) New(p output.Params) (output.Output, error) {
	dir := ""
	if f.Dir != "" {
		dir = filepath.Join(f.Dir, p.StreamID)
	}
	return &Output{
		Variant:    f.Variant,
		Dir:        dir,
		DVRWindow:  time.Duration(p.Output.DVRWindowSec) * time.Second,
		Renditions: p.Output.Renditions,
		FFmpeg:     f.FFmpeg,
		Encoder:    f.encoder(),
		Logger:     p.Logger,
		OnStatus: func(ok bool, err error) {
			if ok {
				p.Report(livestream.OutputBroadcasting, err) // err: a warning
			} else {
				p.Report(livestream.OutputErrored, err)
			}
		},
	}, nil
}

// URI implements output.URIFactory: the multivariant playlist's URL.
func (f *Factory) URI(streamID string, _ livestream.Output) string {
	base := f.BaseURL
	if f.PublicURL != nil {
		if p := f.PublicURL(); p != "" {
			base = p
		}
	}
	return base + "/hls/" + streamID + "/index.m3u8"
}

func (f *Factory) encoder() transcode.Encoder {
	if f.Encoder == nil {
		return transcode.Software()
	}
	return f.Encoder()
}
