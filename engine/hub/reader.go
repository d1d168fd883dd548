package hub

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/engine/media"
)

// Reader is one consumer of a Stream. Its callbacks run on its own goroutine.
type Reader struct {
	// Name appears in log lines. Optional.
	Name string
	// QueueSize is the number of units the reader may lag behind.
	// It defaults to 512 (about 8 s of 30 fps video with audio).
	QueueSize int
	// OnUnit receives each unit, in order. Required.
	OnUnit func(*media.Unit)

	// private
	queue    chan *media.Unit
	done     chan struct{}
	stopOnce sync.Once
	dropped  atomic.Uint64
	needKey  bool // touched only under the stream's lock
	lastWarn time.Time
	log      *slog.Logger
}

// Dropped returns how many units the reader lost for being too slow.
func (r *Reader) Dropped() uint64 { return r.dropped.Load() }

func (r *Reader) start(log *slog.Logger) {
	n := r.QueueSize
	if n <= 0 {
		n = 512
	}
	r.log = log
	r.queue = make(chan *media.Unit, n)
	r.done = make(chan struct{})
	go r.run()
}

func (r *Reader) run() {
	defer close(r.done)
	for u := range r.queue {
		r.OnUnit(u)
	}
}

// offer is called with the stream's lock held.
func (r *Reader) offer(u *media.Unit) {
	if r.needKey && u.Kind == media.KindVideo {
		if !u.Key {
			return
		}
		r.needKey = false
	}
	select {
	case r.queue <- u:
	default:
		n := r.dropped.Add(1)
		if u.Kind == media.KindVideo || u.Tracks.Video != nil {
			r.needKey = true
		}
		if now := time.Now(); now.Sub(r.lastWarn) > 5*time.Second {
			r.lastWarn = now
			r.log.Warn("reader is too slow, dropping media", "reader", r.Name, "dropped_total", n)
		}
	}
}

func (r *Reader) stop() {
	r.stopOnce.Do(func() {
		if r.queue == nil {
			return
		}
		close(r.queue)
		<-r.done
	})
}
