package ui

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// coalesce is how long the follower gathers events before one reload: 50
// changes at once cause one refresh of the window.
const coalesce = 50 * time.Millisecond

// follower keeps the window's copy of the streams up to date: one goroutine
// reads the engine's events and, after a short gathering, reloads the list
// once and hands it to apply on the UI thread.
type follower struct {
	eng   Engine
	apply func([]livestream.StreamState) // on the UI thread
	do    func(func())                   // runs on the UI thread: fyne.Do
	// notify, if set, sees every event on the follower's goroutine.
	notify func(livestream.Event)
	// Reloads counts list reloads, for tests and measurements.
	Reloads atomic.Int64
	// failing are the outputs told as failed (notify's goroutine only).
	failing map[string]bool
}

func (f *follower) run(ctx context.Context) {
	events := f.eng.Subscribe(ctx)
	f.reload()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			f.seen(ev)
			timer := time.NewTimer(coalesce)
		gather:
			for {
				select {
				case ev, ok := <-events:
					if !ok {
						break gather
					}
					f.seen(ev)
				case <-timer.C:
					break gather
				case <-ctx.Done():
					timer.Stop()
					return
				}
			}
			timer.Stop()
			f.reload()
		}
	}
}

func (f *follower) seen(ev livestream.Event) {
	if f.notify != nil {
		f.notify(ev)
	}
}

func (f *follower) reload() {
	list, err := f.eng.List()
	if err != nil {
		return // the engine is closing
	}
	f.Reloads.Add(1)
	f.do(func() { f.apply(list) })
}
