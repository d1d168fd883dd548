package netlimit

import (
	"log/slog"
	"sync"
	"time"
)

// RateLog logs a recurring refusal at most once per interval, with how
// many happened since the last line, so that a flood of hostile
// connections cannot flood the log.
type RateLog struct {
	// Every is the shortest time between two lines. It defaults to 10 s.
	Every time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	mu    sync.Mutex
	count uint64
	last  time.Time
}

// Add counts one occurrence and logs msg with args when a line is due.
func (r *RateLog) Add(msg string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count++
	every := r.Every
	if every == 0 {
		every = 10 * time.Second
	}
	now := time.Now()
	if now.Sub(r.last) < every {
		return
	}
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	log.Warn(msg, append(args, "since_last_report", r.count)...)
	r.last, r.count = now, 0
}
