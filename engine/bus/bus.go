// Package bus numbers the studio's events, keeps the latest of them for
// subscribers that resume after a reconnect (SSE's Last-Event-ID) and hands
// each to every subscriber without ever blocking the publisher.
package bus

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// Defaults of a Bus.
const (
	// DefaultQueue is how many events a subscriber may lag behind.
	DefaultQueue = 256
	// DefaultHistory is how many of the latest events are kept.
	DefaultHistory = 1024
)

// Bus is the event bus. The zero value is not usable; make one with New.
type Bus struct {
	logger *slog.Logger
	queue  int

	mu     sync.Mutex
	closed bool
	subs   map[*subscriber]struct{}
	// ring holds the latest events (n written in all); last is the id of
	// the newest numbered, start where this run's ids begin.
	ring  []livestream.Event
	n     int
	last  uint64
	start uint64
}

type subscriber struct {
	ch      chan livestream.Event
	dropped atomic.Uint64
	// closeOnLag: a subscriber that falls behind is closed (and lagged
	// set) instead of losing events silently; it resumes from its last id.
	closeOnLag bool
	lagged     atomic.Bool
	stop       func() bool // ends the context watch
}

// New makes a bus whose ids begin above start (the engine passes the clock
// in microseconds, so ids keep increasing across restarts).
func New(start uint64, logger *slog.Logger) *Bus {
	if logger == nil {
		logger = slog.Default()
	}
	return &Bus{logger: logger, queue: DefaultQueue, subs: map[*subscriber]struct{}{},
		ring: make([]livestream.Event, DefaultHistory), last: start, start: start}
}

// Number gives ev its id and time, once. Events must be published in the
// order they were numbered; the engine numbers and publishes under its own
// lock.
func (b *Bus) Number(ev *livestream.Event) {
	if ev.ID != 0 {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	b.mu.Lock()
	b.last++
	ev.ID = b.last
	b.mu.Unlock()
}

// Publish keeps ev (numbering it if it is not yet) and sends it to every
// subscriber without blocking.
func (b *Bus) Publish(ev livestream.Event) {
	b.Number(&ev)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.ring[b.n%len(b.ring)] = ev
	b.n++
	for sub := range b.subs {
		select {
		case sub.ch <- ev:
		default:
			if sub.closeOnLag {
				sub.lagged.Store(true)
				b.dropLocked(sub)
				continue
			}
			if sub.dropped.Add(1) == 1 {
				b.logger.Warn("event subscriber too slow, dropping events")
			}
		}
	}
}

// Subscribe returns every event from now on, first replaying the kept
// events with an id above after (none when after is 0), until ctx ends or
// the bus closes; then the channel is closed. complete is false when some
// events after it are no longer kept, or it is from before this run.
//
// With closeOnLag a subscriber that falls behind is closed (lagged then
// reports true) so that it can resume from the last id it had; without it,
// it loses events rather than slowing the studio.
func (b *Bus) Subscribe(ctx context.Context, after uint64, closeOnLag bool) (_ <-chan livestream.Event, complete bool, lagged func() bool) {
	sub := &subscriber{ch: make(chan livestream.Event, b.queue+len(b.ring)), closeOnLag: closeOnLag}
	b.mu.Lock()
	defer b.mu.Unlock()
	complete = true
	if after > 0 {
		kept := b.keptLocked()
		oldest := b.last + 1
		if len(kept) > 0 {
			oldest = kept[0].ID
		}
		complete = after >= b.start && after+1 >= oldest
		for _, ev := range kept {
			if ev.ID > after {
				sub.ch <- ev
			}
		}
	}
	if b.closed {
		close(sub.ch)
		return sub.ch, complete, sub.lagged.Load
	}
	b.subs[sub] = struct{}{}
	sub.stop = context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[sub]; ok {
			b.dropLocked(sub)
		}
	})
	return sub.ch, complete, sub.lagged.Load
}

func (b *Bus) dropLocked(sub *subscriber) {
	delete(b.subs, sub)
	close(sub.ch)
	if sub.stop != nil {
		sub.stop()
	}
}

// keptLocked returns the kept events, oldest first.
func (b *Bus) keptLocked() []livestream.Event {
	if b.n < len(b.ring) {
		return b.ring[:b.n]
	}
	i := b.n % len(b.ring)
	return append(append([]livestream.Event(nil), b.ring[i:]...), b.ring[:i]...)
}

// Close closes every subscription; later events are dropped.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for sub := range b.subs {
		b.dropLocked(sub)
	}
}
