// Package engine is the studio's one façade: it owns the table of live
// streams, their sessions (activate, idle, idle timeout, maximum runtime),
// the outputs each session feeds, and the events every change emits. The
// window and the REST API both drive it.
package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/engine/bus"
	"github.com/onair-studio/onair/engine/ffmpeg"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/output"
)

// Repository keeps live streams across restarts.
type Repository interface {
	LoadStreams() ([]livestream.LiveStream, error)
	// Commit stores a group of changes in one transaction, in order
	// (numbering their outbox items): when it returns nil all of them are
	// durable, else none is.
	Commit([]livestream.Change) error
}

// Outbox is where events go to be stored for later delivery (the webhook
// dispatcher). Prepare is called under the engine's lock; neither method
// may call the engine.
type Outbox interface {
	// Prepare returns the outbox items of ev (none when nobody wants it);
	// they are stored with the change that caused ev.
	Prepare(ev livestream.Event) []livestream.OutboxItem
	// Stored hands over items once they are durable, in their order.
	Stored(items []livestream.OutboxItem)
}

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("studio engine is closed")

// Service is the engine.
type Service struct {
	//
	// parameters
	//
	// Repo stores the streams. Required.
	Repo Repository
	// RTMPURL is the server URL encoders publish to, e.g. rtmp://127.0.0.1:1935/live. Required.
	RTMPURL string
	// SRTURI, when set, makes the SRT URL an encoder publishes a stream key
	// to ("" when SRT is off).
	SRTURI func(streamKey string) string
	// HTTPURL is the base URL of the HTTP server, e.g. http://127.0.0.1:8935. Required.
	HTTPURL string
	// Outputs are the factories of the output types the studio runs, by
	// type; outputs of other types stay idle.
	Outputs output.Factories
	// Outbox, when set, is where events go to be stored for webhooks
	// before the call that caused them returns (see Outbox).
	Outbox Outbox
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Second is the length of the seconds in idle_timeout_sec and
	// max_runtime_sec. It defaults to time.Second; tests shorten it.
	Second time.Duration
	// SampleEvery is how often each live stream's history gets a sample
	// (GET …/stats/history); it defaults to time.Second.
	SampleEvery time.Duration
	// Sampled, when set, completes each sample with what the engine does
	// not know (preview viewers, OBS's congestion). It runs on the
	// sampler's goroutine and must not block.
	Sampled func(id string, s *livestream.Sample)
	// FFmpeg, when set, is the FFmpeg each live session's sound meter
	// decodes with (stats' sound, live_stream.silent); "" leaves streams
	// unmeasured.
	FFmpeg string
	// MaxMeters bounds the live sessions measured at once (each meter is
	// an FFmpeg: ~0.45 % of a core and 15 MB running, ~180 ms of CPU to start); sessions beyond it say so
	// in stats.sound. Zero: DefaultMaxMeters.
	MaxMeters int

	//
	// private
	//
	mu     sync.Mutex
	closed bool
	// meters counts the running sound meters; pacer spaces their starts.
	meters atomic.Int32
	pacer  ffmpeg.Pacer
	// table and each entry's state are what reads see (view.go); they are
	// published under mu and read without it.
	table      atomic.Pointer[table]
	readClosed atomic.Bool
	version    uint64 // of the last published state; under mu
	streams    map[string]*entry
	byKey      map[string]string
	bus        *bus.Bus
	// The committer's queue (commit.go): commits waiting to be stored;
	// inflight counts those queued or being stored whose after has not run,
	// lastQueued is the newest. Under mu.
	queue          []*commit
	inflight       int
	lastQueued     *commit
	commitsStopped bool
	wake           chan struct{}
	stopCommits    chan struct{}
	stopSampler    chan struct{}
	// live maps stream ids to their sessions for requests to outputs. It
	// has its own lock because mu is held while a change is stored (an fsync):
	// viewers never wait on the disk.
	liveMu sync.RWMutex
	live   map[string]*session
	wg     sync.WaitGroup
}

type entry struct {
	// id and created never change: readers sort by them without the lock.
	id      string
	created time.Time
	// state is the published view of cfg and sess.
	state atomic.Pointer[livestream.StreamState]

	cfg  livestream.LiveStream // under mu
	sess *session              // under mu
	// busy is set while a change of the stream is being stored (closed
	// when it is finished); under mu.
	busy chan struct{}
}

func newEntry(ls livestream.LiveStream) *entry {
	return &entry{id: ls.ID, created: ls.CreatedAt, cfg: ls}
}

// Start loads the stored streams. Every stream starts idle.
func (s *Service) Start() error {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Second == 0 {
		s.Second = time.Second
	}
	s.pacer.Every = meterEvery
	if s.SampleEvery == 0 {
		s.SampleEvery = time.Second
	}
	if s.Repo == nil || s.RTMPURL == "" || s.HTTPURL == "" {
		return errors.New("engine: Repo, RTMPURL and HTTPURL are required")
	}
	list, err := s.Repo.LoadStreams()
	if err != nil {
		return fmt.Errorf("loading live streams: %w", err)
	}
	s.streams = make(map[string]*entry, len(list))
	s.byKey = make(map[string]string, len(list))
	s.bus = bus.New(uint64(time.Now().UnixMicro()), s.Logger)
	s.wake = make(chan struct{}, 1)
	s.stopCommits = make(chan struct{})
	for _, ls := range list {
		e := newEntry(ls)
		s.streams[ls.ID] = e
		s.byKey[ls.Input.StreamKey] = ls.ID
		s.publishLocked(e)
	}
	s.table.Store(newTable(s.streams))
	s.stopSampler = make(chan struct{})
	s.wg.Go(s.commitLoop)
	s.wg.Go(s.sampleLoop)
	s.Logger.Info("engine started", "live_streams", len(list))
	return nil
}

// Close ends every session (publishers disconnected, outputs finished),
// closes subscriptions and waits for the engine's goroutines.
func (s *Service) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.readClosed.Store(true)
	var ending []*session
	for _, e := range s.streams {
		if e.sess != nil {
			ending = append(ending, s.detachLocked(e, "studio stopping"))
		}
	}
	s.bus.Close()
	s.unlockWait()
	for _, sess := range ending {
		sess.teardown()
	}
	close(s.stopSampler)
	close(s.stopCommits) // what teardown emitted is stored first
	s.wg.Wait()
}

// OutputHandler returns the HTTP handler of the running output of type t
// of stream id, or nil when the stream is idle, unknown or has no such
// output answering HTTP. It never takes the service lock.
func (s *Service) OutputHandler(id string, t livestream.OutputType) http.Handler {
	s.liveMu.RLock()
	sess := s.live[id]
	s.liveMu.RUnlock()
	if sess == nil {
		return nil
	}
	if m := sess.handlers.Load(); m != nil {
		return (*m)[t]
	}
	return nil
}

func (s *Service) lookupLocked(id string) (*entry, error) {
	if s.closed {
		return nil, ErrClosed
	}
	e, ok := s.streams[id]
	if !ok {
		return nil, fmt.Errorf("live stream %q: %w", id, livestream.ErrNotFound)
	}
	return e, nil
}

// stateLocked composes the stream's view.
func (s *Service) stateLocked(e *entry) livestream.StreamState { return s.compose(e.cfg, e.sess) }

// compose makes the view of a stream configured as cfg with session sess
// (nil: idle); sess is read under mu.
func (s *Service) compose(cfg livestream.LiveStream, sess *session) livestream.StreamState {
	st := livestream.StreamState{
		LiveStream: cfg.Clone(),
		Status:     livestream.StatusIdle,
		InputURI:   s.RTMPURL,
	}
	if s.SRTURI != nil {
		st.SRTURI = s.SRTURI(cfg.Input.StreamKey)
	}
	if sess != nil {
		st.Status = livestream.StatusActive
		st.ActiveSince = sess.started
		st.Publishing = sess.pub != nil
	}
	for _, o := range cfg.Outputs {
		os := livestream.OutputState{Output: o, Status: livestream.OutputIdle}
		if f, ok := s.Outputs[o.Type].(output.URIFactory); ok {
			os.URI = f.URI(cfg.ID, o)
		}
		if sess != nil {
			if rs, ok := sess.outputs[o.ID]; ok {
				os.Status, os.LastError = rs.status, rs.lastError
			}
		}
		st.Outputs = append(st.Outputs, os)
	}
	return st
}

// DefaultMaxMeters is how many live sessions' sound is measured at once
// unless MaxMeters says otherwise: more than a desktop studio streams at
// once, and a bound on what the meters cost a studio with very many
// streams (each start of Debian's FFmpeg takes ~180 ms of CPU, each
// running meter ~0.45 % of a core and 15 MB).
const DefaultMaxMeters = 8

// meterEvery spaces the starts of sound meters' FFmpeg across the studio:
// at ~180 ms of CPU per start, many streams going live at once cost ingest
// at most about a third of a core.
const meterEvery = 500 * time.Millisecond
