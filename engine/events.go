package engine

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// subscriberQueue is how many events a subscriber may lag behind before
// events are dropped for it.
const subscriberQueue = 256

type subscriber struct {
	ch      chan livestream.Event
	dropped atomic.Uint64
}

// Subscribe returns every event from now on, until ctx ends or the service
// closes; then the channel is closed. A subscriber that does not keep up
// loses events rather than slowing the studio.
func (s *Service) Subscribe(ctx context.Context) <-chan livestream.Event {
	sub := &subscriber{ch: make(chan livestream.Event, subscriberQueue)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		close(sub.ch)
		return sub.ch
	}
	s.subs[sub] = struct{}{}
	s.wg.Go(func() {
		select {
		case <-ctx.Done():
		case <-s.closedCh():
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.subs[sub]; ok {
			delete(s.subs, sub)
			close(sub.ch)
		}
	})
	return sub.ch
}

// Emit sends ev to every subscriber, as the engine's own events: for the
// parts of the studio beside the engine (the asset library).
func (s *Service) Emit(ev livestream.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.emitLocked(ev)
	}
}

// emitLocked sends ev to every subscriber without blocking.
func (s *Service) emitLocked(ev livestream.Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	for sub := range s.subs {
		select {
		case sub.ch <- ev:
		default:
			if sub.dropped.Add(1) == 1 {
				s.Logger.Warn("event subscriber too slow, dropping events")
			}
		}
	}
}
