package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
)

// bitrateWindow is the shortest span the input bitrate is measured over.
const bitrateWindow = 2 * time.Second

// rateSample is one reading of a session's byte counter.
type rateSample struct {
	at    time.Time
	bytes uint64
}

// liveSession returns an active stream's session: nil with no error when
// the stream is idle, nil with an error when there is no such stream or
// the engine is closed. It never takes the engine's lock.
func (s *Service) liveSession(id string) (*session, error) {
	if s.readClosed.Load() {
		return nil, ErrClosed
	}
	if s.table.Load().byID[id] == nil {
		return nil, fmt.Errorf("live stream %q: %w", id, livestream.ErrNotFound)
	}
	s.liveMu.RLock()
	sess := s.live[id]
	s.liveMu.RUnlock()
	return sess, nil
}

// LastKey returns an active stream's newest video key frame (shared: never
// change it) with the tracks it decodes with; ok is false when the stream
// is idle, and the unit nil while no key frame came.
func (s *Service) LastKey(id string) (u *media.Unit, ok bool, err error) {
	sess, err := s.liveSession(id)
	if sess == nil {
		return nil, false, err
	}
	return sess.hub.LastKey(), true, nil
}

// Stats returns what comes into an active stream; ok is false when it is
// idle. It reads the hub's counters (which the hub keeps anyway) and never
// takes the engine's lock: the window asks every second.
func (s *Service) Stats(id string) (st livestream.Stats, ok bool, err error) {
	sess, err := s.liveSession(id)
	if sess == nil {
		return st, false, err
	}
	e := s.table.Load().byID[id]
	if e == nil { // deleted meanwhile
		return st, false, fmt.Errorf("live stream %q: %w", id, livestream.ErrNotFound)
	}
	hs := sess.hub.Stats()
	now := time.Now()
	st = livestream.Stats{
		Uptime:         now.Sub(sess.started).Truncate(time.Second),
		Publishing:     e.state.Load().Publishing,
		BytesReceived:  hs.Bytes,
		FramesReceived: hs.VideoFrames,
		Dropped:        hs.Dropped,
		Readers:        hs.Readers,
		BFrames:        hs.Reordered > 0,
	}
	if t := hs.Tracks; t != nil {
		d := t.Describe()
		st.VideoCodec, st.AudioCodec = d.VideoCodec, d.AudioCodec
		st.Width, st.Height, st.FrameRate = d.Width, d.Height, d.FPS
		st.SampleRate, st.Channels = d.SampleRate, d.Channels
	}
	st.BitrateKbps = sess.bitrate(now, hs.Bytes)
	st.Sound = sess.sound(st.AudioCodec != "")
	if cs := sess.counters.Load(); cs != nil {
		state := e.state.Load()
		for _, oc := range *cs {
			c := oc.c.Counts()
			os := livestream.OutputStats{ID: oc.id, Type: oc.typ, Dropped: c.Dropped, Requests: c.Requests, BytesServed: c.BytesServed, Viewers: c.Viewers, RequestsByKind: c.RequestsByKind, DVR: c.DVR}
			for _, o := range state.Outputs {
				if o.ID == oc.id {
					os.Status = o.Status
				}
			}
			st.Outputs = append(st.Outputs, os)
		}
		slices.SortFunc(st.Outputs, func(a, b livestream.OutputStats) int { return strings.Compare(a.ID, b.ID) })
	}
	return st, true, nil
}

// bitrate returns the input bitrate in kbit/s between the oldest kept
// sample at least bitrateWindow old and now, keeping a few samples.
func (sess *session) bitrate(now time.Time, bytes uint64) float64 {
	sess.rateMu.Lock()
	defer sess.rateMu.Unlock()
	cur := rateSample{at: now, bytes: bytes}
	if len(sess.rates) == 0 {
		sess.rates = append(sess.rates, rateSample{at: sess.started})
	}
	// The newest sample at least a window old is the base.
	base := sess.rates[0]
	for _, r := range sess.rates {
		if now.Sub(r.at) >= bitrateWindow {
			base = r
		}
	}
	if last := sess.rates[len(sess.rates)-1]; now.Sub(last.at) >= time.Second/2 {
		sess.rates = append(sess.rates, cur)
	}
	for len(sess.rates) > 2 && now.Sub(sess.rates[1].at) >= bitrateWindow {
		sess.rates = sess.rates[1:]
	}
	dt := now.Sub(base.at).Seconds()
	if dt <= 0 || bytes < base.bytes {
		return 0
	}
	return float64(bytes-base.bytes) * 8 / 1000 / dt
}
