// Package livestream holds the studio's domain types: live streams, their
// outputs, statuses and stream keys, with the validation rules of the
// product contract and the typed errors every layer above shares.
package livestream

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
)

// Status is the life-cycle state of a live stream.
type Status string

// Live stream statuses.
const (
	StatusIdle   Status = "idle"
	StatusActive Status = "active"
)

// OutputType is the kind of an output.
type OutputType string

// Output types.
const (
	OutputHLS       OutputType = "hls"
	OutputArchive   OutputType = "archive"
	OutputSimulcast OutputType = "simulcast"
)

// OutputStatus is the runtime state of one output.
type OutputStatus string

// Output statuses.
const (
	OutputIdle         OutputStatus = "idle"
	OutputStarting     OutputStatus = "starting"
	OutputBroadcasting OutputStatus = "broadcasting"
	OutputErrored      OutputStatus = "errored"
)

// Limits and defaults of the product contract.
const (
	DefaultIdleTimeoutSec = 120
	MinIdleTimeoutSec     = 0
	MaxIdleTimeoutSec     = 1800
	DefaultMaxRuntimeSec  = 10800
	MinMaxRuntimeSec      = 60
	MaxMaxRuntimeSec      = 43200
	MaxNameLength         = 255
	MaxURILength          = 2048
	MaxStreamKeyLength    = 512
	// MaxDVRWindowSec bounds an HLS output's DVR window (4 hours).
	MaxDVRWindowSec   = 4 * 3600
	MaxPublicIDLength = 255
)

// Input is the RTMP input of a live stream.
type Input struct {
	Type      string `json:"type"`
	StreamKey string `json:"stream_key"`
}

// Output is one reader of a live stream's ingest.
type Output struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Type      OutputType `json:"type"`
	URI       string     `json:"uri,omitempty"`
	StreamKey string     `json:"stream_key,omitempty"`
	Vendor    string     `json:"vendor,omitempty"`
	PublicID  string     `json:"public_id,omitempty"`
	// Disabled outputs are kept but not run (recording switched off, a
	// destination paused).
	Disabled bool `json:"disabled,omitempty"`
	// DVRWindowSec (HLS only) keeps this many seconds of the stream in the
	// playlist for viewers to seek back in; 0 keeps only the live edge.
	DVRWindowSec int `json:"dvr_window_sec,omitempty"`
	// Renditions (HLS only) are the lower renditions FFmpeg encodes from
	// the source for viewers on slower connections, tallest first; the
	// source is always the top one, passed through untouched.
	Renditions []Rendition `json:"renditions,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"updated_at"`
}

// Rendition is one encoded rendition of an HLS output: the picture's
// height (its width follows the source's shape) and the video bitrate.
type Rendition struct {
	Height  int `json:"height"`
	Bitrate int `json:"bitrate"`
}

// Limits of renditions.
const (
	MaxRenditions       = 3
	MinRenditionHeight  = 144
	MaxRenditionHeight  = 1080
	MinRenditionBitrate = 100_000
	MaxRenditionBitrate = 20_000_000
)

// LiveStream is the stored configuration of one reusable channel.
// Runtime state (status, output status) is not part of it.
type LiveStream struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Input          Input     `json:"input"`
	Outputs        []Output  `json:"outputs"`
	IdleTimeoutSec int       `json:"idle_timeout_sec"`
	MaxRuntimeSec  int       `json:"max_runtime_sec"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Clone returns a deep copy, so callers may change it freely.
func (s LiveStream) Clone() LiveStream {
	c := s
	c.Outputs = append([]Output(nil), s.Outputs...)
	for i := range c.Outputs {
		c.Outputs[i].Renditions = slices.Clone(c.Outputs[i].Renditions)
	}
	return c
}

// OutputByID returns the index of the output with the given id, or -1.
func (s *LiveStream) OutputByID(id string) int {
	for i := range s.Outputs {
		if s.Outputs[i].ID == id {
			return i
		}
	}
	return -1
}

// HasOutputType reports whether an output of type t exists.
func (s *LiveStream) HasOutputType(t OutputType) bool {
	for i := range s.Outputs {
		if s.Outputs[i].Type == t {
			return true
		}
	}
	return false
}

// NewID returns a new identifier: 32 lowercase hex characters (128 random bits).
func NewID() string {
	var b [16]byte
	mustRead(b[:])
	return hex.EncodeToString(b[:])
}

// RandomHex returns n random bytes in lowercase hex: request and session
// ids, name prefixes.
func RandomHex(n int) string {
	b := make([]byte, n)
	mustRead(b)
	return hex.EncodeToString(b)
}

// Now is the time as the studio stores and shows it: UTC, to the
// millisecond (what JSON round-trips unchanged).
func Now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// NewStreamKey returns a new URL-safe stream key of 192 random bits.
func NewStreamKey() string {
	var b [24]byte
	mustRead(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// NewSecret returns a URL-safe random secret of n bytes of entropy.
func NewSecret(n int) string {
	b := make([]byte, n)
	mustRead(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func mustRead(b []byte) {
	// crypto/rand.Read never fails on supported platforms (Go 1.24+ crashes instead).
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err))
	}
}

// IsID reports whether s has the shape of an id.
func IsID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// DefaultArchivePublicID is the public id of a stream's archive output
// unless the user picks another, as Cloudinary names it.
func DefaultArchivePublicID(streamID string) string {
	return "live_stream_" + streamID + "_archive"
}
