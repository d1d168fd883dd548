package hub

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/netlimit"
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
	// OnBatch, when set, is called after the units of each batch (what
	// ingest read at once): a network output flushes there, one system
	// call per batch instead of one per unit.
	OnBatch func()

	// private
	queue    chan []*media.Unit // batches, as ingest read them
	queued   atomic.Int64       // units in queue
	size     int64
	done     chan struct{}
	stopOnce sync.Once
	dropped  atomic.Uint64
	needKey  bool             // touched only under the stream's lock
	slow     netlimit.RateLog // "too slow" at most every 5 s
	log      *slog.Logger
}

// Dropped returns how many units the reader lost for being too slow.
func (r *Reader) Dropped() uint64 { return r.dropped.Load() }

// Done is closed once the reader has stopped: removed, or its stream
// closed (the session ended). Valid after AddReader.
func (r *Reader) Done() <-chan struct{} { return r.done }

func (r *Reader) start(log *slog.Logger) {
	n := r.QueueSize
	if n <= 0 {
		n = 512
	}
	r.log = log
	r.slow = netlimit.RateLog{Every: 5 * time.Second, Logger: log}
	r.size = int64(n)
	r.queue = make(chan []*media.Unit, n)
	r.done = make(chan struct{})
	go r.run()
}

func (r *Reader) run() {
	defer close(r.done)
	for b := range r.queue {
		for _, u := range b {
			r.OnUnit(u)
		}
		if r.OnBatch != nil {
			r.OnBatch()
		}
		r.queued.Add(-int64(len(b)))
	}
}

// offer hands a batch to the reader, or drops it when the reader's queue
// is full. Called with the stream's lock held; b is shared and immutable.
func (r *Reader) offer(b []*media.Unit) {
	if r.needKey {
		b = r.fromKey(b)
		if len(b) == 0 {
			return
		}
	}
	if r.queued.Load()+int64(len(b)) <= r.size {
		select {
		case r.queue <- b:
			r.queued.Add(int64(len(b)))
			return
		default:
		}
	}
	n := r.dropped.Add(uint64(len(b)))
	for _, u := range b {
		if u.Kind == media.KindVideo {
			r.needKey = true // the decoder lost a reference: wait for a key frame
			break
		}
	}
	r.slow.Add("reader is too slow, dropping media", "reader", r.Name, "dropped_total", n)
}

// fromKey keeps the audio and the video from the first key frame on.
func (r *Reader) fromKey(b []*media.Unit) []*media.Unit {
	out := make([]*media.Unit, 0, len(b))
	for _, u := range b {
		if u.Kind == media.KindVideo && r.needKey {
			if !u.Key {
				continue
			}
			r.needKey = false
		}
		out = append(out, u)
	}
	return out
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
