package engine

import (
	"time"

	"github.com/onair-studio/onair/engine/history"
	"github.com/onair-studio/onair/engine/livestream"
)

// sampled is what a session's sampler read last, for the deltas of the
// next second. Only the sampler goroutine touches it.
type sampled struct {
	at                     time.Time
	bytes, frames, dropped uint64
}

// sampleLoop adds a sample to every live stream's history each
// SampleEvery, until the service closes: one goroutine for all streams,
// a fixed-size ring each, fed by the counters Stats reads.
func (s *Service) sampleLoop() {
	t := time.NewTicker(s.SampleEvery)
	defer t.Stop()
	var sessions []*session
	for {
		select {
		case <-s.stopSampler:
			return
		case now := <-t.C:
			sessions = s.sampleAll(now, sessions)
		}
	}
}

// sampleAll adds a sample at now to every live stream's history; sessions
// is scratch space, handed back for the next tick.
func (s *Service) sampleAll(now time.Time, sessions []*session) []*session {
	sessions = sessions[:0]
	s.liveMu.RLock()
	for _, sess := range s.live {
		sessions = append(sessions, sess)
	}
	s.liveMu.RUnlock()
	tab := s.table.Load()
	for _, sess := range sessions {
		publishing := false
		if e := tab.byID[sess.id]; e != nil {
			publishing = e.state.Load().Publishing
		}
		smp := sess.sample(now, publishing)
		if s.Sampled != nil {
			s.Sampled(sess.id, &smp)
		}
		sess.hist.Add(smp)
	}
	clear(sessions) // no session kept alive by the scratch slice
	return sessions
}

// sample reads the session's counters: the second's deltas and the
// viewers now.
func (sess *session) sample(now time.Time, publishing bool) livestream.Sample {
	hs := sess.hub.Stats()
	smp := livestream.Sample{At: now.Truncate(time.Millisecond), Publishing: publishing}
	prev := &sess.last
	if prev.at.IsZero() {
		prev.at = sess.started
	}
	if dt := now.Sub(prev.at).Seconds(); dt > 0 {
		if hs.Bytes >= prev.bytes {
			smp.BitrateKbps = float64(hs.Bytes-prev.bytes) * 8 / 1000 / dt
		}
		if hs.VideoFrames >= prev.frames {
			smp.FrameRate = float64(hs.VideoFrames-prev.frames) / dt
		}
	}
	// Dropped sums the current readers: one that left takes its count along.
	if hs.Dropped >= prev.dropped {
		smp.Dropped = hs.Dropped - prev.dropped
	}
	*prev = sampled{at: now, bytes: hs.Bytes, frames: hs.VideoFrames, dropped: hs.Dropped}
	// Viewers are counted by the outputs viewers fetch over HTTP (HLS);
	// the others count none.
	if cs := sess.counters.Load(); cs != nil {
		for _, oc := range *cs {
			smp.HLSViewers += oc.c.Counts().Viewers
		}
	}
	return smp
}

// History returns the newest samples of a live stream's history, at most
// seconds of them (all kept: livestream.HistorySeconds), oldest first; ok
// is false when the stream is idle.
func (s *Service) History(id string, seconds int) (samples []livestream.Sample, ok bool, err error) {
	sess, err := s.liveSession(id)
	if sess == nil {
		return nil, false, err
	}
	return sess.hist.Last(seconds), true, nil
}

func newHistory() *history.Ring { return history.New(livestream.HistorySeconds) }
