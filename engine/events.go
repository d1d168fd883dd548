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

// historySize is how many of the latest events are kept for subscribers
// that resume after a reconnect (SSE's Last-Event-ID).
const historySize = 1024

type subscriber struct {
	ch      chan livestream.Event
	dropped atomic.Uint64
	// closeOnLag: a subscriber that falls behind is closed (and lagged
	// set) instead of losing events silently; it resumes from its last id.
	closeOnLag bool
	lagged     atomic.Bool
}

// Subscribe returns every event from now on, until ctx ends or the service
// closes; then the channel is closed. A subscriber that does not keep up
// loses events rather than slowing the studio.
func (s *Service) Subscribe(ctx context.Context) <-chan livestream.Event {
	sub := s.subscribe(ctx, 0, false)
	return sub.ch
}

// SubscribeAfter is Subscribe, first replaying the kept events with an id
// above after (none when after is 0). complete is false when events after
// it were no longer kept, or after is from before this start: the
// subscriber missed some. A subscriber that falls behind is closed rather
// than losing events: lagged then reports true, and the subscriber may
// resume from the last id it had.
func (s *Service) SubscribeAfter(ctx context.Context, after uint64) (_ <-chan livestream.Event, complete bool, lagged func() bool) {
	sub := s.subscribe(ctx, after, true)
	return sub.ch, sub.complete, sub.lagged.Load
}

type subscription struct {
	*subscriber
	complete bool
}

func (s *Service) subscribe(ctx context.Context, after uint64, closeOnLag bool) subscription {
	sub := &subscriber{ch: make(chan livestream.Event, subscriberQueue+historySize), closeOnLag: closeOnLag}
	s.mu.Lock()
	defer s.unlockFlush()
	complete := true
	if after > 0 {
		// Ids of this start begin above startEventID: an older one may
		// have been followed by events that were never kept.
		complete = after >= s.startEventID && after+1 >= s.oldestKeptLocked()
		for _, ev := range s.historyLocked() {
			if ev.ID > after {
				sub.ch <- ev
			}
		}
	}
	if s.closed {
		close(sub.ch)
		return subscription{sub, complete}
	}
	s.subs[sub] = struct{}{}
	s.wg.Go(func() {
		select {
		case <-ctx.Done():
		case <-s.closedCh():
			return
		}
		s.mu.Lock()
		defer s.unlockFlush()
		if _, ok := s.subs[sub]; ok {
			delete(s.subs, sub)
			close(sub.ch)
		}
	})
	return subscription{sub, complete}
}

// historyLocked returns the kept events, oldest first.
func (s *Service) historyLocked() []livestream.Event {
	if s.histN == 0 {
		return nil
	}
	if s.histN < len(s.history) {
		return s.history[:s.histN]
	}
	i := s.histN % len(s.history)
	return append(append([]livestream.Event(nil), s.history[i:]...), s.history[:i]...)
}

// oldestKeptLocked is the id of the oldest kept event (the next id when
// none is kept).
func (s *Service) oldestKeptLocked() uint64 {
	if h := s.historyLocked(); len(h) > 0 {
		return h[0].ID
	}
	return s.lastEventID + 1
}

// Emit sends ev to every subscriber, as the engine's own events: for the
// parts of the studio beside the engine (the asset library).
func (s *Service) Emit(ev livestream.Event) {
	s.mu.Lock()
	defer s.unlockFlush()
	if !s.closed {
		s.emitLocked(ev)
	}
}

// emitLocked numbers ev, attaches the stream and output as they are now,
// keeps it in the history, hands it to the sink and sends it to every
// subscriber without blocking.
func (s *Service) emitLocked(ev livestream.Event) { s.emit(ev, true) }

// emitStoredLocked is emitLocked for an event whose outbox items were
// stored with its change (stageLocked).
func (s *Service) emitStoredLocked(ev livestream.Event, stored bool) { s.emit(ev, !stored) }

// numberLocked gives ev its id and time, once.
func (s *Service) numberLocked(ev *livestream.Event) {
	if ev.ID != 0 {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	s.lastEventID++
	ev.ID = s.lastEventID
}

// attachLocked sets the event's stream (as e is now) and output.
func (s *Service) attachLocked(ev *livestream.Event, e *entry) {
	st := s.stateLocked(e)
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

// stageLocked prepares the outbox items of ev, the event of changing e to
// next (nil: e is deleted), for storing in the change's own transaction.
// It returns nil when there is nothing to store that way.
func (s *Service) stageLocked(ev *livestream.Event, e *entry, next *livestream.LiveStream) []livestream.OutboxItem {
	if s.Outbox == nil {
		return nil
	}
	if _, ok := s.Repo.(OutboxRepository); !ok {
		return nil
	}
	s.numberLocked(ev)
	saved := e.cfg
	if next != nil {
		e.cfg = *next // the object as it will be
	}
	s.attachLocked(ev, e)
	e.cfg = saved
	return s.Outbox.Prepare(*ev)
}

// putLocked stores next with the staged items in one transaction (or
// alone without them).
func (s *Service) putLocked(next livestream.LiveStream, items []livestream.OutboxItem) error {
	if items == nil {
		return s.Repo.PutStream(next)
	}
	r := s.Repo.(OutboxRepository)
	return s.Outbox.StoreWith(items, func(all []livestream.OutboxItem) error { return r.PutStreamOutbox(next, all) })
}

// deleteLocked removes stream id with the staged items in one transaction.
func (s *Service) deleteLocked(id string, items []livestream.OutboxItem) error {
	if items == nil {
		return s.Repo.DeleteStream(id)
	}
	r := s.Repo.(OutboxRepository)
	return s.Outbox.StoreWith(items, func(all []livestream.OutboxItem) error { return r.DeleteStreamOutbox(id, all) })
}

func (s *Service) emit(ev livestream.Event, sink bool) {
	s.numberLocked(&ev)
	if e := s.streams[ev.StreamID]; e != nil {
		// The stream as it is now (a staged event's snapshot was taken
		// before its change was applied); a deleted one keeps the last.
		s.attachLocked(&ev, e)
	}
	if s.history == nil {
		s.history = make([]livestream.Event, historySize)
	}
	s.history[s.histN%len(s.history)] = ev
	s.histN++
	if sink && s.Outbox != nil {
		if items := s.Outbox.Prepare(ev); len(items) > 0 {
			s.Outbox.Queue(items)
		}
	}
	for sub := range s.subs {
		select {
		case sub.ch <- ev:
		default:
			if sub.closeOnLag {
				sub.lagged.Store(true)
				delete(s.subs, sub)
				close(sub.ch)
				continue
			}
			if sub.dropped.Add(1) == 1 {
				s.Logger.Warn("event subscriber too slow, dropping events")
			}
		}
	}
}

// unlockFlush releases the lock, then waits until the sink has made the
// events emitted so far durable (Flush): a call answers only once its
// events are stored, and calls that overlap share one write.
func (s *Service) unlockFlush() {
	s.mu.Unlock()
	if s.Outbox != nil {
		s.Outbox.Flush()
	}
}
