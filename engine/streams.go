package engine

import (
	"github.com/onair-studio/onair/engine/livestream"
)

// Create makes a new idle live stream with its default outputs.
func (s *Service) Create(p livestream.CreateParams) (livestream.StreamState, error) {
	if err := p.Validate(); err != nil {
		return livestream.StreamState{}, err
	}
	now := livestream.Now()
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
	if s.closed {
		s.mu.Unlock()
		return livestream.StreamState{}, ErrClosed
	}
	var st livestream.StreamState
	c := s.stageLocked(newEntry(ls), plan{
		ev:   livestream.Event{Type: livestream.EventStreamCreated, StreamID: id, Status: string(livestream.StatusIdle)},
		next: &ls,
		apply: func(e *entry, _ *livestream.Event) {
			s.streams[id] = e
			s.byKey[ls.Input.StreamKey] = id
			s.addLocked(e)
			st = s.stateLocked(e)
		},
	})
	s.mu.Unlock()
	<-c.done
	if c.err != nil {
		return livestream.StreamState{}, wrap("storing new live stream", c.err)
	}
	return st, nil
}

// Update changes a stream's name and limits. New limits apply from the
// next timer on.
func (s *Service) Update(id string, p livestream.UpdateParams) (st livestream.StreamState, err error) {
	if err := p.Validate(); err != nil {
		return livestream.StreamState{}, err
	}
	err = s.mutate(id, func(e *entry) (plan, error) {
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
		next.UpdatedAt = livestream.Now()
		return plan{what: "storing live stream " + id, next: &next,
			ev: livestream.Event{Type: livestream.EventStreamUpdated, StreamID: id},
			apply: func(e *entry, _ *livestream.Event) {
				if e.sess != nil && p.MaxRuntimeSec != nil {
					s.armMaxRuntimeLocked(e)
				}
				st = s.stateLocked(e)
			}}, nil
	})
	return st, err
}

// Delete ends the stream's session and removes it with its outputs.
// Recorded assets stay in the library.
func (s *Service) Delete(id string) error {
	var ending *session
	err := s.mutate(id, func(*entry) (plan, error) {
		return plan{what: "deleting live stream " + id,
			ev: livestream.Event{Type: livestream.EventStreamDeleted, StreamID: id},
			apply: func(e *entry, ev *livestream.Event) {
				if e.sess != nil {
					ending = s.detachLocked(e, "live stream deleted")
				}
				last := s.stateLocked(e) // as it was, for the event
				ev.Stream, ev.Output = &last, nil
				delete(s.streams, id)
				delete(s.byKey, e.cfg.Input.StreamKey)
				s.removeLocked(e)
			}}, nil
	})
	if ending != nil {
		ending.teardown()
	}
	return err
}

// ResetStreamKey gives the stream a new key. The old key stops working at
// once: a publisher using it is disconnected (the session stays active for
// the idle timeout, so the encoder can come back with the new key).
func (s *Service) ResetStreamKey(id string) (st livestream.StreamState, err error) {
	err = s.mutate(id, func(e *entry) (plan, error) {
		next := e.cfg.Clone()
		next.Input.StreamKey = livestream.NewStreamKey()
		next.UpdatedAt = livestream.Now()
		old := e.cfg.Input.StreamKey
		return plan{what: "storing new stream key of " + id, next: &next,
			ev: livestream.Event{Type: livestream.EventStreamKeyReset, StreamID: id},
			apply: func(e *entry, _ *livestream.Event) {
				delete(s.byKey, old)
				s.byKey[next.Input.StreamKey] = id
				if e.sess != nil && e.sess.pub != nil {
					e.sess.pub.kick()
				}
				st = s.stateLocked(e)
			}}, nil
	})
	return st, err
}

// now is the time of a change as stored: UTC, to the millisecond.
