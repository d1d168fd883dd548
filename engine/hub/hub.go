// Package hub fans one publisher's media out to many readers. Every reader
// has its own bounded queue and goroutine: a slow reader drops units (and
// counts them) but never delays the publisher or the other readers.
package hub

import (
	"log/slog"
	"sync"
	"time"

	"github.com/onair-studio/onair/engine/media"
)

// reconnectGap is the spacing put between the last unit of one publisher and
// the first of the next, so that the session's timeline stays increasing.
const reconnectGap = 40 * time.Millisecond

// Stream is the hub of one live stream's session.
// Publish is called by one publisher at a time.
type Stream struct {
	// Logger receives drop warnings. It defaults to slog.Default().
	Logger *slog.Logger

	mu      sync.Mutex
	readers []*Reader
	closed  bool

	tracks    *media.Tracks
	rebase    bool
	offset    time.Duration
	lastDTS   time.Duration
	published bool

	units  uint64
	bytes  uint64
	frames uint64 // video units
	// reordered counts video units shown at another time than decoded:
	// the stream has B-frames.
	reordered uint64
	// lastKey is the newest video key frame (shared like every unit).
	lastKey *media.Unit
}

// Stats are a stream's counters.
type Stats struct {
	Units uint64
	Bytes uint64
	// VideoFrames counts video access units.
	VideoFrames uint64
	// Reordered counts video units whose PTS differs from their DTS: the
	// encoder sends B-frames.
	Reordered uint64
	Readers   int
	Dropped   uint64
	// Tracks are the current publisher's, nil before the first.
	Tracks *media.Tracks
}

// StartPublisher announces a new publisher and its tracks. Its units are
// moved on the timeline so that they follow the previous publisher's.
func (s *Stream) StartPublisher(t media.Tracks) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tt := t
	s.tracks = &tt
	s.rebase = true
}

// Tracks returns the current publisher's tracks, or nil before the first.
func (s *Stream) Tracks() *media.Tracks {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tracks
}

// Publish hands u to every reader. It never blocks on a reader.
// u must not be changed afterwards.
func (s *Stream) Publish(u *media.Unit) { s.PublishBatch([]*media.Unit{u}) }

// PublishBatch hands units, in order, to every reader as one batch: a
// reader wakes once per batch. It never blocks on a reader. The units must
// not be changed afterwards; the slice may be reused.
func (s *Stream) PublishBatch(units []*media.Unit) {
	if len(units) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.tracks == nil {
		return
	}
	for _, u := range units {
		if s.rebase {
			s.rebase = false
			if s.published {
				s.offset = s.lastDTS + reconnectGap - u.DTS
			} else {
				s.offset = -u.DTS
			}
		}
		u.DTS += s.offset
		u.PTS += s.offset
		if u.DTS > s.lastDTS || !s.published {
			s.lastDTS = u.DTS
		}
		s.published = true
		u.Tracks = s.tracks
		s.units++
		s.bytes += uint64(u.Size())
		if u.Kind == media.KindVideo {
			s.frames++
			if u.PTS != u.DTS {
				s.reordered++
			}
			if u.Key {
				s.lastKey = u
			}
		}
	}
	if len(s.readers) == 0 {
		return
	}
	b := append([]*media.Unit(nil), units...) // shared by the readers
	for _, r := range s.readers {
		r.offer(b)
	}
}

// LastKey returns the newest video key frame published, nil before the
// first. The unit is shared: read it, never change it.
func (s *Stream) LastKey() *media.Unit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastKey
}

// Stats returns the stream's counters.
func (s *Stream) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Units: s.units, Bytes: s.bytes, VideoFrames: s.frames, Reordered: s.reordered, Readers: len(s.readers), Tracks: s.tracks}
	for _, r := range s.readers {
		st.Dropped += r.Dropped()
	}
	return st
}

// AddReader starts r: from now on it receives every unit published, from the
// next key frame on for video. r must not have been added before.
func (s *Stream) AddReader(r *Reader) {
	r.start(s.logger())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		r.stop()
		return
	}
	r.needKey = true
	s.readers = append(s.readers, r)
}

// RemoveReader detaches r and waits for its goroutine to end.
func (s *Stream) RemoveReader(r *Reader) {
	s.mu.Lock()
	for i, x := range s.readers {
		if x == r {
			s.readers = append(s.readers[:i:i], s.readers[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	r.stop()
}

// Close detaches every reader and waits for them. Publish does nothing afterwards.
func (s *Stream) Close() {
	s.mu.Lock()
	rs := s.readers
	s.readers = nil
	s.closed = true
	s.mu.Unlock()
	for _, r := range rs {
		r.stop()
	}
}

func (s *Stream) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
