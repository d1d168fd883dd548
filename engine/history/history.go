// Package history keeps the recent past of a live stream's counters — one
// sample a second in a fixed-size ring — for the graphs of the stream page
// and GET …/stats/history. Adding a sample never allocates once the ring is
// full; readers get copies.
package history

import (
	"sync"

	"github.com/onair-studio/onair/engine/livestream"
)

// Ring holds the latest samples, oldest first, up to its size.
type Ring struct {
	mu   sync.Mutex
	buf  []livestream.Sample
	next int  // where the next sample goes
	full bool // buf has wrapped
}

// New makes a ring that keeps size samples.
func New(size int) *Ring {
	if size < 1 {
		size = 1
	}
	return &Ring{buf: make([]livestream.Sample, size)}
}

// Add keeps s, forgetting the oldest sample when the ring is full.
func (r *Ring) Add(s livestream.Sample) {
	r.mu.Lock()
	r.buf[r.next] = s
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
	r.mu.Unlock()
}

// Last returns a copy of the newest n samples (all when n ≤ 0 or more
// than it holds), oldest first.
func (r *Ring) Last(n int) []livestream.Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	held := r.next
	if r.full {
		held = len(r.buf)
	}
	if n <= 0 || n > held {
		n = held
	}
	out := make([]livestream.Sample, n)
	start := r.next - n
	if start >= 0 {
		copy(out, r.buf[start:r.next])
		return out
	}
	k := copy(out, r.buf[len(r.buf)+start:])
	copy(out[k:], r.buf[:r.next])
	return out
}
