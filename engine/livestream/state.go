package livestream

import (
	"strings"
	"time"
)

// OutputState is an output with its runtime state.
type OutputState struct {
	Output
	Status    OutputStatus
	LastError string
}

// StreamState is a live stream with its runtime state, as the API and the
// window show it.
type StreamState struct {
	LiveStream
	Status   Status
	InputURI string
	// SRTURI is the whole SRT URL to publish to (stream id and key
	// included); "" when the studio has no SRT listener.
	SRTURI  string
	Outputs []OutputState
	// ActiveSince is when the session began (zero when idle).
	ActiveSince time.Time
	// Publishing tells whether an encoder is connected now.
	Publishing bool
	// Version grows with every change the engine makes to any stream: two
	// states of one stream with the same non-zero Version are the same, so
	// a view made of one can be kept until the Version changes.
	Version uint64
}

// Stats is what comes into an active live stream, as the window and the
// API's stats object show it. Codec fields are empty while the encoder has
// not sent them.
type Stats struct {
	// Uptime is how long the session has been active.
	Uptime time.Duration
	// Publishing tells whether an encoder is connected now.
	Publishing bool
	VideoCodec string // "h264" or "h265"
	Width      int
	Height     int
	FrameRate  float64
	AudioCodec string // "aac"
	SampleRate int
	Channels   int
	// BitrateKbps is the input bitrate over the last few seconds.
	BitrateKbps float64
	// BytesReceived and FramesReceived (video) count the whole session.
	BytesReceived  uint64
	FramesReceived uint64
	// Dropped counts media units outputs dropped for being too slow.
	Dropped uint64
	// Readers is how many outputs and viewers read the stream.
	Readers int
	// BFrames tells that the encoder sends B-frames, which the WebRTC
	// preview cannot show (browsers and the window's decoder expect none).
	BFrames bool
	// PreviewViewers watch the WebRTC preview; PreviewDelayMedian and
	// PreviewDelayP95 are the time from ingest reading an access unit to
	// its RTP packets leaving for them (of the latest few thousand). Set
	// by the preview, not the engine.
	PreviewViewers     int
	PreviewDelayMedian time.Duration
	PreviewDelayP95    time.Duration
	// Sound is what the sound meter measured; nil when the studio has no
	// meter (no FFmpeg) or the stream has no audio yet.
	Sound *SoundLevels
	// Outputs are the running outputs' counters.
	Outputs []OutputStats
}

// SoundLevels are the levels of what a live stream brings in, over the
// last 100 ms, in dBFS (0 is full scale, -90 digital silence).
type SoundLevels struct {
	Channels []SoundChannel
	// Silent is true once the input has been quiet (below -60 dBFS) for
	// 10 s, until sound returns; Quiet is how long the quiet has lasted.
	Silent bool
	Quiet  time.Duration
	// Error is why the meter does not measure now; "" while it does.
	Error string
}

// SoundChannel is one channel's peak and RMS level in dBFS.
type SoundChannel struct {
	Peak float64
	RMS  float64
}

// Sample is one second of a live stream's history (GET …/stats/history,
// the stream page's graphs).
type Sample struct {
	// At is the end of the second the sample covers.
	At time.Time
	// Publishing tells whether an encoder was connected.
	Publishing bool
	// BitrateKbps and FrameRate are what came in during the second
	// (video frames per second, measured, not announced).
	BitrateKbps float64
	FrameRate   float64
	// Dropped counts the media units outputs dropped during the second
	// for being too slow.
	Dropped uint64
	// HLSViewers watch the HLS output (distinct clients of the last 30 s);
	// PreviewViewers watch the WebRTC preview.
	HLSViewers     int
	PreviewViewers int
	// OBSCongestion is OBS's own congestion figure (0 to 1) while OBS on
	// this computer streams to this stream; nil otherwise.
	OBSCongestion *float64
}

// HistorySeconds is how far back a stream's history goes.
const HistorySeconds = 300

// OutputStats are one running output's counters.
type OutputStats struct {
	ID     string
	Type   OutputType
	Status OutputStatus
	// Dropped counts media units the output lost for being too slow.
	Dropped uint64
	// Requests, BytesServed and Viewers (distinct clients in the last 30 s)
	// are for outputs viewers fetch over HTTP (HLS).
	Requests    uint64
	BytesServed uint64
	Viewers     int
	// RequestsByKind splits Requests by HLSRequestKinds: what an edge in
	// front of the studio still asks for.
	RequestsByKind [len(HLSRequestKinds)]uint64
	// DVR is what an HLS output keeps for viewers to seek back in.
	DVR DVRStats
}

// DVRStats describe an HLS output's DVR window while it runs.
type DVRStats struct {
	// Window is the configured window; 0 without one.
	Window time.Duration
	// Kept is the media the playlist holds, Bytes its size (on disk but
	// for the newest segments).
	Kept  time.Duration
	Bytes int64
	// LowDisk is set while the disk's free space is under the floor and the
	// window keeps only the live edge.
	LowDisk bool
}

// HLSRequestKinds name the kinds of HLS request, in RequestsByKind's order.
var HLSRequestKinds = [...]string{"multivariant", "playlist", "blocking_playlist", "init", "segment", "part", "other"}

// ListPosition is a place in the list of live streams, which is ordered
// newest first, then by id: a page starts after it.
type ListPosition struct {
	CreatedAt time.Time
	ID        string
}

// Event types, in Mux's style: the same names on the SSE feed, in webhooks
// and in the window.
const (
	EventStreamCreated      = "live_stream.created"
	EventStreamUpdated      = "live_stream.updated" // also when an output is added, changed or removed
	EventStreamDeleted      = "live_stream.deleted"
	EventStreamConnected    = "live_stream.connected"    // an encoder connected
	EventStreamDisconnected = "live_stream.disconnected" // the encoder left
	EventStreamActive       = "live_stream.active"
	EventStreamIdle         = "live_stream.idle"
	EventStreamKeyReset     = "live_stream.key_reset"
	// The input has been silent for 10 s while live (Message says what to
	// check), and its sound has returned.
	EventStreamSilent = "live_stream.silent"
	EventStreamSound  = "live_stream.sound"
	// EventPublisherRefused: an encoder was refused (unknown key, or the
	// stream already has one); without a stream id when the key is unknown.
	EventPublisherRefused = "live_stream.publisher_refused"
	// Output status changes: "output." and the status.
	EventOutputStarting     = "output.starting"
	EventOutputBroadcasting = "output.broadcasting"
	EventOutputErrored      = "output.errored"
	EventOutputIdle         = "output.idle"
)

// EventTypes are every event type, for webhook filters and documentation.
var EventTypes = []string{EventStreamCreated, EventStreamUpdated, EventStreamDeleted, EventStreamConnected,
	EventStreamDisconnected, EventStreamActive, EventStreamIdle, EventStreamKeyReset, EventStreamSilent, EventStreamSound,
	EventPublisherRefused,
	EventOutputStarting, EventOutputBroadcasting, EventOutputErrored, EventOutputIdle,
	EventAssetRecording, EventAssetReady, EventAssetDeleted, EventAssetUpdated, EventAssetProcessing}

// OutputEvent is the event type of an output's status.
func OutputEvent(st OutputStatus) string { return "output." + string(st) }

// Event is one state change.
type Event struct {
	// ID increases with every event (across restarts too, as long as the
	// clock does not go back); set by the engine.
	ID       uint64
	Type     string
	StreamID string
	OutputID string
	AssetID  string
	Status   string
	Message  string
	Time     time.Time
	// The object as it was when the event happened: the stream (for
	// stream and output events), the output, the asset. Set by the engine
	// and the library; nil where there is none.
	Stream *StreamState
	Output *OutputState
	Asset  *Asset
}

// OBSStatus is what OBS Studio tells of itself through obs-websocket.
type OBSStatus struct {
	Version          string
	WebSocketVersion string
	Streaming        bool
	Reconnecting     bool
	// Server is where OBS's stream service points.
	Server        string
	Duration      time.Duration
	TotalFrames   int64
	SkippedFrames int64
	// Congestion is OBS's 0..1 estimate of network congestion.
	Congestion float64
	// FPS is OBS's rendering frame rate; LaggedFrames the frames it failed
	// to render in time (its own load, not the network).
	FPS          float64
	LaggedFrames int64
	BytesSent    int64
	// Advice says what to change in OBS's settings, if anything.
	Advice string
}

// Ingest is the protocol an encoder publishes a stream with.
type Ingest string

// Ingest protocols.
const (
	IngestRTMP Ingest = "rtmp" // the stream's server URL and key
	IngestSRT  Ingest = "srt"  // the stream's whole SRT URL, no key
)

// OBSSettings are how the studio reaches obs-websocket.
type OBSSettings struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Password string `json:"password"` // never logged
}

// OBSSnapshot is OBS's status as last read, or why it could not be read.
type OBSSnapshot struct {
	Status OBSStatus
	// Err says why OBS could not be read (not running, wrong password, …).
	Err error
	// At is when it was read.
	At time.Time
	// Lost: OBS answered at the snapshot before and does not now (it quit
	// or crashed).
	Lost bool
}

// Part is one part of the studio and whether it runs: the store, HTTP and
// RTMP are required; SRT, the preview and OBS are optional, and a studio
// whose optional part could not start serves without it.
type Part struct {
	Name     string `json:"name"`
	Up       bool   `json:"up"`
	Required bool   `json:"required"`
	// Address is where the part listens, when it does.
	Address string `json:"address,omitempty"`
	// Reason says why it is down and what to do.
	Reason string `json:"reason,omitempty"`
	// Detail says what a running part chose and why (the renditions'
	// encoder).
	Detail string `json:"detail,omitempty"`
}

// PartTurnedOff is the Reason of an optional part the settings turn off
// (it is not down: it was not asked for).
const PartTurnedOff = "turned off in the settings"

// NeedsH264 says why a stream in codec (e.g. "h265") has no live preview
// and what to change: the preview sends the video as it comes, and
// WebRTC previews here take H.264 only.
func NeedsH264(codec string) string {
	c := strings.ToUpper(codec)
	return "the live preview (in the window and the browser) needs H.264 video and this stream is " + c +
		": in OBS set Settings > Output > Encoder to an H.264 encoder (x264, NVENC H.264…) to preview; HLS viewers, recordings and simulcast take " +
		c + " as it is"
}
