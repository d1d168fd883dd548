package preview

import (
	"slices"
	"sync"
	"time"
)

// delayLog keeps the latest send delays: from ingest reading an access
// unit to its last RTP packet leaving for a viewer.
type delayLog struct {
	mu   sync.Mutex
	ring [4096]time.Duration
	n    int // samples ever added
}

func (d *delayLog) add(v time.Duration) {
	d.mu.Lock()
	d.ring[d.n%len(d.ring)] = v
	d.n++
	d.mu.Unlock()
}

// StreamStats returns how many viewers watch stream id's preview (sessions
// that connected, not offers that never did) and the
// median and 95th percentile send delays of its latest access units.
func (s *Server) StreamStats(id string) (viewers int, median, p95 time.Duration) {
	s.mu.Lock()
	f := s.feeds[id]
	if f != nil {
		viewers = f.joined
	}
	s.mu.Unlock()
	if f == nil {
		return 0, 0, 0
	}
	median, p95 = f.delays.figures()
	return viewers, median, p95
}

// Viewers is how many watch stream id's preview now: StreamStats without
// the delay figures (which sort the kept delays), for once-a-second
// sampling.
func (s *Server) Viewers(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.feeds[id]; f != nil {
		return f.joined
	}
	return 0
}

// figures are the median and 95th percentile of the kept delays.
func (d *delayLog) figures() (median, p95 time.Duration) {
	d.mu.Lock()
	n := min(d.n, len(d.ring))
	v := slices.Clone(d.ring[:n])
	d.mu.Unlock()
	if n == 0 {
		return 0, 0
	}
	slices.Sort(v)
	return v[n/2], v[n*95/100]
}
