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

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/output"
)

// Repository keeps live streams across restarts. Each call is one
// transaction: when it returns nil the change is durable.
type Repository interface {
	LoadStreams() ([]livestream.LiveStream, error)
	PutStream(livestream.LiveStream) error
	DeleteStream(id string) error
}

// Outbox stores events for later delivery (the webhook dispatcher). Its
// methods are called under the engine's lock, except Flush; none may call
// the engine.
type Outbox interface {
	// Prepare returns the outbox items of ev (none when nobody wants it).
	Prepare(ev livestream.Event) []livestream.OutboxItem
	// Queue keeps items to be stored by the next Flush or StoreWith.
	Queue(items []livestream.OutboxItem)
	// Flush stores what is queued; called after the engine's lock is
	// released, before the call returns. Overlapping flushes share a write.
	Flush()
	// StoreWith runs write, the change's own transaction, with what is queued
	// followed by items, so the change and its events are durable together
	// and in order.
	StoreWith(items []livestream.OutboxItem, write func(all []livestream.OutboxItem) error) error
}

// OutboxRepository is a Repository that stores outbox items in the same
// transaction as a change. With it and an Outbox, a change costs one write
// whether or not webhooks are set.
type OutboxRepository interface {
	PutStreamOutbox(ls livestream.LiveStream, items []livestream.OutboxItem) error
	DeleteStreamOutbox(id string, items []livestream.OutboxItem) error
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

	//
	// private
	//
	mu     sync.Mutex
	closed bool
	// table and each entry's state are what reads see (view.go); they are
	// published under mu and read without it.
	table      atomic.Pointer[table]
	readClosed atomic.Bool
	version    uint64 // of the last published state; under mu
	streams    map[string]*entry
	byKey      map[string]string
	subs       map[*subscriber]struct{}
	// history is a ring of the latest events (histN written in all);
	// lastEventID the id of the newest. Under mu.
	history     []livestream.Event
	histN       int
	lastEventID uint64
	// startEventID is where this start's ids begin: ids go on increasing
	// across restarts because they start at the clock (microseconds).
	startEventID uint64
	// live maps stream ids to their sessions for requests to outputs. It
	// has its own lock because mu is held while a change is stored (an fsync):
	// viewers never wait on the disk.
	liveMu sync.RWMutex
	live   map[string]*session
	wg     sync.WaitGroup
	done   chan struct{}
}

type entry struct {
	// id and created never change: readers sort by them without the lock.
	id      string
	created time.Time
	// state is the published view of cfg and sess.
	state atomic.Pointer[livestream.StreamState]

	cfg  livestream.LiveStream // under mu
	sess *session              // under mu
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
	if s.Repo == nil || s.RTMPURL == "" || s.HTTPURL == "" {
		return errors.New("engine: Repo, RTMPURL and HTTPURL are required")
	}
	list, err := s.Repo.LoadStreams()
	if err != nil {
		return fmt.Errorf("loading live streams: %w", err)
	}
	s.streams = make(map[string]*entry, len(list))
	s.byKey = make(map[string]string, len(list))
	s.subs = map[*subscriber]struct{}{}
	s.done = make(chan struct{})
	s.startEventID = uint64(time.Now().UnixMicro())
	s.lastEventID = s.startEventID
	for _, ls := range list {
		e := newEntry(ls)
		s.streams[ls.ID] = e
		s.byKey[ls.Input.StreamKey] = ls.ID
		s.publishLocked(e)
	}
	s.table.Store(newTable(s.streams))
	s.Logger.Info("engine started", "live_streams", len(list))
	return nil
}

// Close ends every session (publishers disconnected, outputs finished),
// closes subscriptions and waits for the engine's goroutines.
func (s *Service) Close() {
	s.mu.Lock()
	if s.closed {
		s.unlockFlush()
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
	for sub := range s.subs {
		delete(s.subs, sub)
		close(sub.ch)
	}
	close(s.done)
	s.unlockFlush()
	for _, sess := range ending {
		sess.teardown()
	}
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
func (s *Service) stateLocked(e *entry) livestream.StreamState {
	st := livestream.StreamState{
		LiveStream: e.cfg.Clone(),
		Status:     livestream.StatusIdle,
		InputURI:   s.RTMPURL,
	}
	if e.sess != nil {
		st.Status = livestream.StatusActive
		st.ActiveSince = e.sess.started
		st.Publishing = e.sess.pub != nil
	}
	for _, o := range e.cfg.Outputs {
		os := livestream.OutputState{Output: o, Status: livestream.OutputIdle}
		if f, ok := s.Outputs[o.Type].(output.URIFactory); ok {
			os.URI = f.URI(e.cfg.ID, o)
		}
		if e.sess != nil {
			if rs, ok := e.sess.outputs[o.ID]; ok {
				os.Status, os.LastError = rs.status, rs.lastError
			}
		}
		st.Outputs = append(st.Outputs, os)
	}
	return st
}

// closedCh is closed when the service closes; for subscribers' goroutines.
func (s *Service) closedCh() <-chan struct{} { return s.done }
