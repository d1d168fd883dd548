package engine

import (
	"fmt"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// Create makes a new idle live stream with its default outputs.
func (s *Service) Create(p livestream.CreateParams) (livestream.StreamState, error) {
	if err := p.Validate(); err != nil {
		return livestream.StreamState{}, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	id := livestream.NewID()
	ls := livestream.LiveStream{
		ID:             id,
		Name:           "Live stream " + now.Format("2006-01-02 15:04:05"),
		Input:          livestream.Input{Type: "rtmp", StreamKey: livestream.NewStreamKey()},
		IdleTimeoutSec: livestream.DefaultIdleTimeoutSec,
		MaxRuntimeSec:  livestream.DefaultMaxRuntimeSec,
		CreatedAt:      now,
		UpdatedAt:      now,
		Outputs:        livestream.DefaultOutputs(id, now),
	}
	if p.Name != nil {
		ls.Name = *p.Name
	}
	if p.IdleTimeoutSec != nil {
		ls.IdleTimeoutSec = *p.IdleTimeoutSec
	}
	if p.MaxRuntimeSec != nil {
		ls.MaxRuntimeSec = *p.MaxRuntimeSec
	}

	s.mu.Lock()
	defer s.unlockFlush()
	if s.closed {
		return livestream.StreamState{}, ErrClosed
	}
	e := newEntry(ls)
	ev := livestream.Event{Type: livestream.EventStreamCreated, StreamID: id, Status: string(livestream.StatusIdle)}
	items := s.stageLocked(&ev, e, nil)
	if err := s.putLocked(ls, items); err != nil {
		return livestream.StreamState{}, fmt.Errorf("storing new live stream: %w", err)
	}
	s.streams[id] = e
	s.byKey[ls.Input.StreamKey] = id
	s.addLocked(e)
	s.emitStoredLocked(ev, len(items) > 0)
	return s.stateLocked(e), nil
}

// Update changes a stream's name and limits. New limits apply from the
// next timer on.
func (s *Service) Update(id string, p livestream.UpdateParams) (livestream.StreamState, error) {
	if err := p.Validate(); err != nil {
		return livestream.StreamState{}, err
	}
	s.mu.Lock()
	defer s.unlockFlush()
	e, err := s.lookupLocked(id)
	if err != nil {
		return livestream.StreamState{}, err
	}
	next := e.cfg.Clone()
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.IdleTimeoutSec != nil {
		next.IdleTimeoutSec = *p.IdleTimeoutSec
	}
	if p.MaxRuntimeSec != nil {
		next.MaxRuntimeSec = *p.MaxRuntimeSec
	}
	next.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	ev := livestream.Event{Type: livestream.EventStreamUpdated, StreamID: id}
	items := s.stageLocked(&ev, e, &next)
	if err := s.putLocked(next, items); err != nil {
		return livestream.StreamState{}, fmt.Errorf("storing live stream %s: %w", id, err)
	}
	e.cfg = next
	s.publishLocked(e)
	if e.sess != nil && p.MaxRuntimeSec != nil {
		s.armMaxRuntimeLocked(e)
	}
	s.emitStoredLocked(ev, len(items) > 0)
	return s.stateLocked(e), nil
}

// Delete ends the stream's session and removes it with its outputs.
// Recorded assets stay in the library.
func (s *Service) Delete(id string) error {
	s.mu.Lock()
	e, err := s.lookupLocked(id)
	if err != nil {
		s.unlockFlush()
		return err
	}
	ev := livestream.Event{Type: livestream.EventStreamDeleted, StreamID: id}
	items := s.stageLocked(&ev, e, nil)
	if err := s.deleteLocked(id, items); err != nil {
		s.unlockFlush()
		return fmt.Errorf("deleting live stream %s: %w", id, err)
	}
	var ending *session
	if e.sess != nil {
		ending = s.detachLocked(e, "live stream deleted")
	}
	last := s.stateLocked(e) // as it was, for the event
	ev.Stream, ev.Output = &last, nil
	delete(s.streams, id)
	delete(s.byKey, e.cfg.Input.StreamKey)
	s.removeLocked(e)
	s.emitStoredLocked(ev, len(items) > 0)
	s.unlockFlush()
	if ending != nil {
		ending.teardown()
	}
	return nil
}

// ResetStreamKey gives the stream a new key. The old key stops working at
// once: a publisher using it is disconnected (the session stays active for
// the idle timeout, so the encoder can come back with the new key).
func (s *Service) ResetStreamKey(id string) (livestream.StreamState, error) {
	s.mu.Lock()
	defer s.unlockFlush()
	e, err := s.lookupLocked(id)
	if err != nil {
		return livestream.StreamState{}, err
	}
	next := e.cfg.Clone()
	next.Input.StreamKey = livestream.NewStreamKey()
	next.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	ev := livestream.Event{Type: livestream.EventStreamKeyReset, StreamID: id}
	items := s.stageLocked(&ev, e, &next)
	if err := s.putLocked(next, items); err != nil {
		return livestream.StreamState{}, fmt.Errorf("storing new stream key of %s: %w", id, err)
	}
	delete(s.byKey, e.cfg.Input.StreamKey)
	s.byKey[next.Input.StreamKey] = id
	e.cfg = next
	s.publishLocked(e)
	if e.sess != nil && e.sess.pub != nil {
		e.sess.pub.kick()
	}
	s.emitStoredLocked(ev, len(items) > 0)
	return s.stateLocked(e), nil
}
