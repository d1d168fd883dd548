package ffmpeg

import (
	"sync"
	"time"
)

// Pacer spaces the FFmpeg starts of every child fed a live stream's sound (sound meters, preview audio): each start
// takes the next free slot, at least Every after the one before. Many
// streams going live together then do not start their decoders at once —
// each start of Debian's FFmpeg takes ~180 ms of CPU, and 128 at once took
// it from ingest until encoders were refused for not publishing in time.
type Pacer struct {
	Every time.Duration
	mu    sync.Mutex
	next  time.Time
}

// Slot reserves the next free start time from now on and returns it.
func (p *Pacer) Slot(now time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	slot := now
	if p.next.After(now) {
		slot = p.next
	}
	p.next = slot.Add(p.Every)
	return slot
}
