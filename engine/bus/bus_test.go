package bus_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/onair-studio/onair/engine/bus"
	"github.com/onair-studio/onair/engine/livestream"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Ids increase from the start, once per event, and a published event
// keeps the id it was numbered with.
func TestNumbering(t *testing.T) {
	b := bus.New(1000, quiet())
	defer b.Close()
	ch, complete, _ := b.Subscribe(t.Context(), 0, false)
	if !complete {
		t.Fatal("a subscriber from now on is not complete")
	}
	first := livestream.Event{Type: "a"}
	b.Number(&first)
	b.Number(&first) // numbered once
	b.Publish(first)
	b.Publish(livestream.Event{Type: "b"})
	for want := uint64(1001); want <= 1002; want++ {
		if ev := <-ch; ev.ID != want || ev.Time.IsZero() {
			t.Fatalf("event %+v, want id %d with a time", ev, want)
		}
	}
}

// A subscriber resuming after an id gets every kept event after it; one
// from before the start, or older than the kept ones, is told it missed
// some.
func TestResume(t *testing.T) {
	b := bus.New(0, quiet())
	defer b.Close()
	for range bus.DefaultHistory + 10 {
		b.Publish(livestream.Event{Type: "x"})
	}
	ch, complete, _ := b.Subscribe(t.Context(), bus.DefaultHistory+5, true)
	if !complete {
		t.Fatal("resuming inside the history is not complete")
	}
	for want := uint64(bus.DefaultHistory + 6); want <= bus.DefaultHistory+10; want++ {
		if ev := <-ch; ev.ID != want {
			t.Fatalf("replayed %d, want %d", ev.ID, want)
		}
	}
	if _, complete, _ := b.Subscribe(t.Context(), 5, true); complete {
		t.Fatal("resuming from an id no longer kept is complete")
	}
	later := bus.New(5000, quiet())
	defer later.Close()
	if _, complete, _ := later.Subscribe(t.Context(), 4000, true); complete {
		t.Fatal("resuming from an id of an earlier run is complete")
	}
}

// A subscriber that falls behind is closed (closeOnLag) or loses events;
// the publisher never waits. One whose context ends is closed.
func TestSlowSubscribers(t *testing.T) {
	b := bus.New(0, quiet())
	defer b.Close()
	strict, _, lagged := b.Subscribe(t.Context(), 0, true)
	loose, _, _ := b.Subscribe(t.Context(), 0, false)
	ctx, cancel := context.WithCancel(t.Context())
	gone, _, _ := b.Subscribe(ctx, 0, false)
	n := bus.DefaultQueue + bus.DefaultHistory + 5
	for range n {
		b.Publish(livestream.Event{Type: "x"})
	}
	got := drain(t, strict)
	if !lagged() || got >= n {
		t.Fatalf("strict subscriber: lagged %v after %d of %d events", lagged(), got, n)
	}
	if len(loose) != cap(loose) {
		t.Fatalf("loose subscriber holds %d of %d", len(loose), cap(loose))
	}
	cancel()
	drain(t, gone)
}

// drain reads ch until it is closed, which must happen within 5 s; it
// returns how many events it read.
func drain(t *testing.T, ch <-chan livestream.Event) int {
	t.Helper()
	n := 0
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return n
			}
			n++
		case <-deadline:
			t.Fatalf("the subscription was not closed (%d events read)", n)
		}
	}
}

// Close closes every subscription; later subscribers get a closed channel.
func TestClose(t *testing.T) {
	b := bus.New(0, quiet())
	ch, _, _ := b.Subscribe(t.Context(), 0, false)
	b.Close()
	if n := drain(t, ch); n != 0 {
		t.Fatalf("%d events after Close", n)
	}
	late, _, _ := b.Subscribe(t.Context(), 0, false)
	drain(t, late)
}
