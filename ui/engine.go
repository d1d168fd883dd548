package ui

import (
	"context"
	"net/url"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/picture"
)

// Engine is what the window needs from the studio's engine: the same calls
// the REST API makes. It grows here, and only here, as the window does.
// Every call may wait on the disk: the window makes them off the UI thread
// (actions.go).
type Engine interface {
	List() ([]livestream.StreamState, error)
	Get(id string) (livestream.StreamState, error)
	Stats(id string) (stats livestream.Stats, ok bool, err error)
	// History is an active stream's last seconds of counters, a sample a
	// second, oldest first (a copy: quick).
	History(id string, seconds int) (samples []livestream.Sample, ok bool, err error)
	Create(livestream.CreateParams) (livestream.StreamState, error)
	Update(id string, p livestream.UpdateParams) (livestream.StreamState, error)
	Delete(id string) error
	Activate(id string) (livestream.StreamState, error)
	Idle(id string) (livestream.StreamState, error)
	ResetStreamKey(id string) (livestream.StreamState, error)
	CreateOutput(id string, p livestream.OutputParams) (livestream.OutputState, error)
	UpdateOutput(id, outputID string, p livestream.OutputParams) (livestream.OutputState, error)
	DeleteOutput(id, outputID string) error
	Subscribe(ctx context.Context) <-chan livestream.Event
}

// Studio is the rest of what the window shows and changes: the API
// credentials and the settings that apply at the next start.
type Studio interface {
	// Credentials returns the API key and secret in use.
	Credentials() (key, secret string)
	// RotateSecret makes a new API secret, in effect at once.
	RotateSecret() (string, error)
	// Settings returns the saved settings and the addresses in use.
	Settings() Settings
	// SaveSettings stores settings that apply at the next start.
	SaveSettings(Settings) error
	// Close stops the studio (for a restart with new settings).
	Close()
	// Library is the recordings library.
	Library() Library
	// OBS is OBS Studio on this computer, through obs-websocket.
	OBS() OBS
	// Preview is the WebRTC preview; nil when the studio runs none.
	Preview() Preview
	// PreviewError says why the preview is not running (nil: it runs, or
	// the studio has none by design).
	PreviewError() error
	// Parts says which parts of the studio run, where, and why the others
	// do not (quick: in memory).
	Parts() []livestream.Part
	// Codec is where the preview's H.264 decoder comes from when the
	// computer has none.
	Codec() Codec
	// Stills are pictures of live streams and recordings (they decode
	// video: off the UI thread).
	Stills() Stills
	// Clips cuts clips out of recordings.
	Clips() Clips
	// RetryPreview tries to start a preview that could not start (its UDP
	// port refused) and says why it is still off (nil: it runs). It opens a
	// port: call it off the UI thread.
	RetryPreview() error
	// Webhooks are the webhook URLs; nil when the studio runs none.
	Webhooks() Webhooks
	// CheckS3 tries the saved object store settings (network: off the UI
	// thread).
	CheckS3() error
}

// OBS drives OBS Studio. Every call talks to OBS over the network: the
// window makes them off the UI thread.
type OBS interface {
	Status(ctx context.Context) (livestream.OBSStatus, error)
	Settings() livestream.OBSSettings
	SaveSettings(livestream.OBSSettings) error
	// Setup points OBS's stream service at a stream; Start also starts
	// OBS's stream; Stop stops it.
	Setup(ctx context.Context, streamID string, via livestream.Ingest) error
	Start(ctx context.Context, streamID string, via livestream.Ingest) error
	Stop(ctx context.Context) error
	// Watch calls f with each status the studio's OBS monitor reads
	// (about once a second while OBS runs) until ctx ends; f must not
	// block.
	Watch(ctx context.Context, f func(livestream.OBSSnapshot))
	// Refresh has the monitor read OBS now (a page showing it opened).
	Refresh()
}

// Library is the recordings library the window shows. Its calls are quick
// (the index is in memory) except Delete, which removes a file.
type Library interface {
	// List returns at most limit recordings after the position (nil: from
	// the first), newest first, of one stream when streamID is set.
	List(after *livestream.AssetPosition, limit int, streamID string) (items []livestream.Asset, total int, more bool)
	// URL is where a recording plays: its file, or a download address in
	// the object store when the file is only there (network: off the UI
	// thread).
	URL(publicID string) (*url.URL, error)
	// Delete removes a recording and its file.
	Delete(publicID string) error
	// Dir is the library's folder.
	Dir() string
	// UploadProgress tells how far the copy of a recording to the bucket
	// is; ok is false when it is not being copied now.
	UploadProgress(publicID string) (sent, total int64, ok bool)
}

// Stills make JPEG pictures: a live stream's newest key frame, a
// recording's poster (at < 0) or its picture at a time. Width 0 is the
// video's size.
type Stills interface {
	Thumbnail(id string, width int) ([]byte, error)
	Poster(publicID string, at time.Duration, width int) ([]byte, error)
}

// Clips cut a clip out of a recording without re-encoding: checked and
// indexed at once (it reads the recording: off the UI thread), cut in the
// background. publicID may be empty.
type Clips interface {
	Clip(source string, start, end time.Duration, publicID string) (livestream.Asset, error)
}

// Settings are the studio's saved settings with what the window shows
// beside them.
type Settings struct {
	livestream.Settings
	// Read only:
	DataDir string
	RTMPURL string // the server URL encoders use now
	HTTPURL string // the base URL of the API and HLS now
	// TLSFingerprint is the SHA-256 of the HTTPS certificate, when the API
	// is served beyond this computer ("" on loopback).
	TLSFingerprint string
}

// Codec fetches the window preview's H.264 decoder (OpenH264) where the
// system has none: Cisco's build, checked against its pinned SHA-256.
type Codec interface {
	// Offer is what would be downloaded; ok is false when there is nothing
	// to offer (the system's package is the way).
	Offer() (d picture.Download, ok bool)
	// Fetch downloads it, checks it and loads it (off the UI thread).
	Fetch(ctx context.Context) error
}
