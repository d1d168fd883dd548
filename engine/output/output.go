// Package output declares the one shape every output of a live stream's
// session has: a hub reader started and closed by the engine, made by the
// factory of its type, reporting its status through a callback. The engine
// knows outputs only through this package; each type lives in a package
// of its own below it.
package output

import (
	"log/slog"
	"time"

	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/livestream"
)

// Output is one running output of a session.
type Output interface {
	// Start attaches the output's own hub reader to s. It never blocks:
	// slow work (dialing, opening files) runs in the output's goroutines.
	// It may be called under the engine's lock.
	Start(s *hub.Stream)
	// Close detaches the reader, finishes the output's work (a recording is
	// finalised) and waits for its goroutines. It is never called under the
	// engine's lock.
	Close()
}

// Report tells the engine an output's status: starting, broadcasting or
// errored (with err). An output calls it from its own goroutines, never
// from inside Start or Close, and never while it holds a lock that Start
// or Close take.
type Report func(status livestream.OutputStatus, err error)

// Params is what a factory knows of the output it makes.
type Params struct {
	// StreamID is the live stream's id.
	StreamID string
	// Output is the output's stored configuration.
	Output livestream.Output
	// SessionStart is when the session began (archive file names use it).
	SessionStart time.Time
	// Logger is the stream's logger, with the output's type.
	Logger *slog.Logger
	// Report receives status changes.
	Report Report
}

// Factory makes the outputs of one type.
type Factory interface {
	New(p Params) (Output, error)
}

// URIFactory is a factory whose outputs have an address the API shows as
// the output's uri (the HLS playlist).
type URIFactory interface {
	Factory
	URI(streamID string, o livestream.Output) string
}

// Counts are an output's counters, read at any time without locks.
type Counts struct {
	// Dropped counts the media units the output's hub reader lost for
	// being too slow.
	Dropped uint64
	// Requests and BytesServed count what an output answering HTTP served;
	// Viewers are the distinct clients (address and user agent) it served
	// in the last 30 s.
	Requests, BytesServed uint64
	Viewers               int
	// RequestsByKind splits Requests by livestream.HLSRequestKinds.
	RequestsByKind [len(livestream.HLSRequestKinds)]uint64
	// DVR is what an HLS output keeps for viewers to seek back in.
	DVR livestream.DVRStats
}

// Counter is an output that counts (the metrics and stats read it).
type Counter interface {
	Counts() Counts
}

// Factories is the table of output types the engine runs.
type Factories map[livestream.OutputType]Factory
