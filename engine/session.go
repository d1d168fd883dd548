package engine

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/engine/history"

	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/ingest"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/meter"
	"github.com/onair-studio/onair/engine/output"
)

// Publish refusals.
var (
	ErrUnknownKey = ingest.ErrUnknownKey
	ErrBusy       = ingest.ErrBusy
)

// session is one active period of a live stream: from activation or the
// first publish to idle.
type session struct {
	id        string
	started   time.Time
	hub       *hub.Stream
	pub       *publisher
	idleTimer *time.Timer
	maxTimer  *time.Timer
	// outputs are the running outputs by output id; under the service lock.
	outputs map[string]*outputRuntime
	// handlers are the outputs that answer HTTP, by type, for requests that
	// never take the service lock; replaced whole when outputs change.
	handlers atomic.Pointer[map[livestream.OutputType]http.Handler]
	// counters are the running outputs that count, for Stats (replaced
	// whole with handlers).
	counters atomic.Pointer[[]outputCounter]
	// ending are the outputs to close once the lock is released.
	ending []output.Output
	rateMu sync.Mutex // for Stats' bitrate samples
	rates  []rateSample
	// hist is the stream's recent past, one sample a second (sampler.go);
	// last is what the sampler read before.
	hist *history.Ring
	last sampled
	// meter measures the sound coming in (sound.go); nil without FFmpeg,
	// or when MaxMeters sessions are measured already (unmetered says so).
	meter     *meter.Meter
	meterDone func()
	unmetered string
}

// outputRuntime is one output of a session; under the service lock.
type outputRuntime struct {
	typ       livestream.OutputType
	out       output.Output // nil: not running (off, no factory, or it failed to start)
	status    livestream.OutputStatus
	lastError string
}

// startSessionLocked makes e active.
func (s *Service) startSessionLocked(e *entry) {
	sess := &session{
		id:      e.cfg.ID,
		started: time.Now(),
		hub:     &hub.Stream{Logger: s.Logger.With("live_stream", e.cfg.ID)},
		outputs: map[string]*outputRuntime{},
		hist:    newHistory(),
	}
	for _, o := range e.cfg.Outputs {
		s.startOutputLocked(sess, o, sess.started)
	}
	s.startMeterLocked(sess)
	s.refreshHandlersLocked(sess)
	e.sess = sess
	s.publishLocked(e)
	s.setLive(e.cfg.ID, sess)
	s.armMaxRuntimeLocked(e)
	s.emitLocked(livestream.Event{Type: livestream.EventStreamActive, StreamID: e.cfg.ID, Status: string(livestream.StatusActive)})
	s.Logger.Info("live stream active", "live_stream", e.cfg.ID, "name", e.cfg.Name)
}

// startOutputLocked makes and starts output o of sess through the factory
// of its type. An output that is off, or of a type without a factory,
// stays idle; one whose factory fails is errored.
func (s *Service) startOutputLocked(sess *session, o livestream.Output, began time.Time) {
	rs := &outputRuntime{typ: o.Type, status: livestream.OutputIdle}
	sess.outputs[o.ID] = rs
	f := s.Outputs[o.Type]
	if o.Disabled || f == nil {
		return
	}
	out, err := f.New(output.Params{
		StreamID:     sess.id,
		Output:       o,
		SessionStart: began,
		Logger:       s.Logger.With("live_stream", sess.id, "output", string(o.Type), "output_id", o.ID),
		Report: func(st livestream.OutputStatus, err error) {
			s.setOutputStatus(sess, o.ID, rs, st, err)
		},
	})
	if err != nil {
		rs.status, rs.lastError = livestream.OutputErrored, err.Error()
		s.Logger.Warn("output could not start", "live_stream", sess.id, "output", o.ID, "error", err)
		return
	}
	rs.out, rs.status = out, livestream.OutputStarting
	out.Start(sess.hub)
}

// stopOutputLocked removes output id from sess; its Close is due once the
// lock is released (closeEnding).
func (s *Service) stopOutputLocked(sess *session, id string) {
	rs := sess.outputs[id]
	if rs == nil {
		return
	}
	delete(sess.outputs, id)
	if rs.out != nil {
		sess.ending = append(sess.ending, rs.out)
	}
}

// takeEndingLocked returns the outputs stopped under the lock, to close
// after it is released.
func (sess *session) takeEndingLocked() []output.Output {
	outs := sess.ending
	sess.ending = nil
	return outs
}

// closeOutputs closes outputs; never under the service lock.
func closeOutputs(outs []output.Output) {
	for _, o := range outs {
		o.Close()
	}
}

// outputCounter is a running output that counts.
type outputCounter struct {
	id  string
	typ livestream.OutputType
	c   output.Counter
}

// refreshHandlersLocked publishes the session's outputs that answer HTTP
// and those that count.
func (s *Service) refreshHandlersLocked(sess *session) {
	m := map[livestream.OutputType]http.Handler{}
	var cs []outputCounter
	for id, rs := range sess.outputs {
		if h, ok := rs.out.(http.Handler); ok {
			m[rs.typ] = h
		}
		if c, ok := rs.out.(output.Counter); ok {
			cs = append(cs, outputCounter{id: id, typ: rs.typ, c: c})
		}
	}
	sess.handlers.Store(&m)
	sess.counters.Store(&cs)
}

// setOutputStatus records what an output reported, if it still runs.
func (s *Service) setOutputStatus(sess *session, outputID string, rs *outputRuntime, st livestream.OutputStatus, err error) {
	s.mu.Lock()
	defer s.unlockWait()
	e := s.streams[sess.id]
	if e == nil || e.sess != sess || sess.outputs[outputID] != rs {
		return // the output or its session ended meanwhile
	}
	rs.status, rs.lastError = st, ""
	if err != nil {
		rs.lastError = err.Error()
	}
	s.publishLocked(e)
	ev := livestream.Event{Type: livestream.OutputEvent(st), StreamID: sess.id, OutputID: outputID, Status: string(st)}
	if err != nil {
		ev.Message = err.Error()
	}
	s.emitLocked(ev)
}

// armMaxRuntimeLocked (re)starts the maximum-runtime timer, counting from
// the session's start.
func (s *Service) armMaxRuntimeLocked(e *entry) {
	sess := e.sess
	if sess.maxTimer != nil {
		sess.maxTimer.Stop()
	}
	left := time.Until(sess.started.Add(time.Duration(e.cfg.MaxRuntimeSec) * s.Second))
	sess.maxTimer = time.AfterFunc(max(left, 0), func() {
		s.endSession(sess, "maximum runtime reached")
	})
}

// endSession idles the stream of sess, if sess is still its session.
func (s *Service) endSession(sess *session, reason string) {
	s.mu.Lock()
	e, ok := s.streams[sess.id]
	if !ok || e.sess != sess || s.closed {
		s.unlockWait()
		return
	}
	s.detachLocked(e, reason)
	s.unlockWait()
	sess.teardown()
}

// detachLocked makes e idle; the caller calls teardown on the result
// without the lock.
func (s *Service) detachLocked(e *entry, reason string) *session {
	sess := e.sess
	for id := range sess.outputs {
		s.stopOutputLocked(sess, id)
	}
	sess.handlers.Store(nil)
	e.sess = nil
	s.publishLocked(e)
	s.setLive(e.cfg.ID, nil)
	if sess.idleTimer != nil {
		sess.idleTimer.Stop()
	}
	if sess.maxTimer != nil {
		sess.maxTimer.Stop()
	}
	if sess.pub != nil {
		sess.pub.ended = true
		sess.pub.kick()
		sess.pub = nil
	}
	s.emitLocked(livestream.Event{Type: livestream.EventStreamIdle, StreamID: e.cfg.ID, Status: string(livestream.StatusIdle), Message: reason})
	s.Logger.Info("live stream idle", "live_stream", e.cfg.ID, "reason", reason)
	return sess
}

// teardown closes the session's outputs (recordings are finalised) and
// its hub; never under the service lock. Only the goroutine that detached
// the session calls it, so ending is its own.
func (sess *session) teardown() {
	closeOutputs(sess.ending)
	sess.ending = nil
	sess.hub.Close()
	sess.closeMeter()
}

// Activate makes the stream active; it then waits for its encoder (until
// the maximum runtime). Activating an active stream does nothing.
func (s *Service) Activate(id string) (livestream.StreamState, error) {
	s.mu.Lock()
	defer s.unlockWait()
	e, err := s.lookupLocked(id)
	if err != nil {
		return livestream.StreamState{}, err
	}
	if e.sess == nil {
		s.startSessionLocked(e)
	}
	return s.stateLocked(e), nil
}

// Idle ends the stream's session at once; the publisher is disconnected.
func (s *Service) Idle(id string) (livestream.StreamState, error) {
	s.mu.Lock()
	e, err := s.lookupLocked(id)
	if err != nil {
		s.unlockWait()
		return livestream.StreamState{}, err
	}
	var ending *session
	if e.sess != nil {
		ending = s.detachLocked(e, "idled by the user")
	}
	st := s.stateLocked(e)
	s.unlockWait()
	if ending != nil {
		ending.teardown()
	}
	return st, nil
}

// Authorize implements ingest.Authorizer.
func (s *Service) Authorize(key, remote string, kick func()) (ingest.Target, error) {
	s.mu.Lock()
	defer s.unlockWait()
	if s.closed {
		return nil, ErrClosed
	}
	id, ok := s.byKey[key]
	if !ok {
		s.emitLocked(livestream.Event{Type: livestream.EventPublisherRefused, Message: fmt.Sprintf("unknown stream key from %s", remote)})
		return nil, fmt.Errorf("%w (from %s)", ErrUnknownKey, remote)
	}
	e := s.streams[id]
	if e.sess != nil && e.sess.pub != nil {
		s.emitLocked(livestream.Event{Type: livestream.EventPublisherRefused, StreamID: id, Message: fmt.Sprintf("second publisher from %s refused: %v", remote, ErrBusy)})
		return nil, fmt.Errorf("live stream %s: %w (from %s)", id, ErrBusy, remote)
	}
	if e.sess == nil {
		s.startSessionLocked(e)
	}
	sess := e.sess
	if sess.idleTimer != nil {
		sess.idleTimer.Stop()
		sess.idleTimer = nil
	}
	p := &publisher{svc: s, sess: sess, remote: remote, kickFn: kick}
	sess.pub = p
	s.publishLocked(e)
	s.emitLocked(livestream.Event{Type: livestream.EventStreamConnected, StreamID: id, Message: "encoder connected from " + remote})
	return p, nil
}

// PublisherRefused records a publisher the RTMP server refused by itself.
func (s *Service) PublisherRefused(remote, reason string) {
	s.mu.Lock()
	defer s.unlockWait()
	s.emitLocked(livestream.Event{Type: livestream.EventPublisherRefused, Message: reason + " (from " + remote + ")"})
}

// publisher is the ingest target of one encoder connection.
type publisher struct {
	svc      *Service
	sess     *session
	remote   string
	kickFn   func()
	kickOnce sync.Once
	ended    bool // set under the service lock
}

func (p *publisher) kick() { p.kickOnce.Do(p.kickFn) }

func (p *publisher) StartTracks(t media.Tracks) { p.sess.hub.StartPublisher(t) }

func (p *publisher) WriteUnits(u []*media.Unit) { p.sess.hub.PublishBatch(u) }

// Close starts the idle timeout, unless the session already ended.
func (p *publisher) Close() {
	s := p.svc
	s.mu.Lock()
	defer s.unlockWait()
	if p.ended || p.sess.pub != p {
		return
	}
	p.sess.pub = nil
	e := s.streams[p.sess.id]
	s.emitLocked(livestream.Event{Type: livestream.EventStreamDisconnected, StreamID: p.sess.id, Message: "encoder disconnected: " + p.remote})
	if e == nil || e.sess != p.sess {
		return
	}
	s.publishLocked(e)
	sess := p.sess
	wait := time.Duration(e.cfg.IdleTimeoutSec) * s.Second
	sess.idleTimer = time.AfterFunc(wait, func() {
		s.endSession(sess, "encoder did not come back within the idle timeout")
	})
}

// setLive makes sess the session HTTP requests to outputs of id reach (nil: none).
func (s *Service) setLive(id string, sess *session) {
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	if sess == nil {
		delete(s.live, id)
		return
	}
	if s.live == nil {
		s.live = make(map[string]*session)
	}
	s.live[id] = sess
}
