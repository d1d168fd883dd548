package engine

import (
	"context"

	"github.com/onair-studio/onair/engine/livestream"
)

// Subscribe returns every event from now on, until ctx ends or the service
// closes; then the channel is closed. A subscriber that does not keep up
// loses events rather than slowing the studio.
func (s *Service) Subscribe(ctx context.Context) <-chan livestream.Event {
	ch, _, _ := s.bus.Subscribe(ctx, 0, false)
	return ch
}

// SubscribeAfter is Subscribe, first replaying the kept events with an id
// above after (none when after is 0). complete is false when events after
// it were no longer kept, or after is from before this start: the
// subscriber missed some. A subscriber that falls behind is closed rather
// than losing events: lagged then reports true, and the subscriber may
// resume from the last id it had.
func (s *Service) SubscribeAfter(ctx context.Context, after uint64) (_ <-chan livestream.Event, complete bool, lagged func() bool) {
	return s.bus.Subscribe(ctx, after, true)
}

// Emit sends ev to every subscriber, as the engine's own events: for the
// parts of the studio beside the engine (the asset library).
func (s *Service) Emit(ev livestream.Event) {
	s.mu.Lock()
	if !s.closed {
		s.emitLocked(ev)
	}
	s.unlockWait()
}

// emitLocked emits an event that is not part of a stored change (a session
// began or ended, an encoder connected). Its outbox items are stored by the
// committer; it reaches subscribers in the order events were numbered, so
// it waits behind changes still being stored.
func (s *Service) emitLocked(ev livestream.Event) {
	s.bus.Number(&ev)
	var items []livestream.OutboxItem
	if s.Outbox != nil {
		staged := ev
		if e := s.streams[ev.StreamID]; e != nil {
			s.attach(&staged, s.compose(e.cfg, e.sess))
		}
		items = s.Outbox.Prepare(staged)
	}
	if len(items) == 0 && s.inflight == 0 {
		s.publishEventLocked(ev)
		return
	}
	s.enqueueLocked(&commit{change: livestream.Change{Outbox: items}, ev: &ev, happened: true})
}

// publishEventLocked attaches the stream as it is now (a deleted one keeps
// the state its change gave it) and hands ev to the bus.
func (s *Service) publishEventLocked(ev livestream.Event) {
	if e := s.streams[ev.StreamID]; e != nil {
		s.attach(&ev, s.compose(e.cfg, e.sess))
	}
	s.bus.Publish(ev)
}

// attach sets the event's stream and its output.
func (s *Service) attach(ev *livestream.Event, st livestream.StreamState) {
	ev.Stream = &st
	ev.Output = nil
	if ev.OutputID != "" {
		for i := range st.Outputs {
			if st.Outputs[i].ID == ev.OutputID {
				ev.Output = &st.Outputs[i]
			}
		}
	}
}
