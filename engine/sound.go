package engine

import (
	"cmp"
	"fmt"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/meter"
)

// startMeterLocked gives sess a sound meter when the studio has FFmpeg and
// fewer than MaxMeters sessions are measured; otherwise the session says
// why it has none.
func (s *Service) startMeterLocked(sess *session) {
	if s.FFmpeg == "" {
		return
	}
	maxMeters := cmp.Or(s.MaxMeters, DefaultMaxMeters)
	if int(s.meters.Add(1)) > maxMeters {
		s.meters.Add(-1)
		sess.unmetered = fmt.Sprintf("not measured: the studio measures the sound of at most %d live streams at once", maxMeters)
		return
	}
	sess.meter = meter.New(s.FFmpeg, &s.pacer, s.Logger.With("live_stream", sess.id),
		func(silent bool) { s.soundChanged(sess, silent) })
	sess.meterDone = func() { s.meters.Add(-1) }
	sess.hub.AddReader(sess.meter.Reader())
}

// closeMeter ends sess's meter (after its hub let the reader go) and frees
// its place.
func (sess *session) closeMeter() {
	if sess.meter != nil {
		sess.meter.Close()
		sess.meterDone()
	}
}

// sound is what the session's meter says for Stats: nil without a meter
// (unless it says why) or before the first measurement.
func (sess *session) sound(hasAudio bool) *livestream.SoundLevels {
	if sess.meter == nil {
		if sess.unmetered != "" && hasAudio {
			return &livestream.SoundLevels{Error: sess.unmetered}
		}
		return nil
	}
	if l := sess.meter.Levels(); len(l.Channels) > 0 || l.Error != "" {
		return &l
	}
	return nil
}

// silentMessage is what live_stream.silent says to do.
const silentMessage = "no sound for 10 s: check the microphone in OBS"

// soundChanged announces that sess's input became silent or that its
// sound returned, if the session is still the stream's.
func (s *Service) soundChanged(sess *session, silent bool) {
	s.mu.Lock()
	defer s.unlockWait()
	e := s.streams[sess.id]
	if e == nil || e.sess != sess {
		return
	}
	ev := livestream.Event{Type: livestream.EventStreamSound, StreamID: sess.id, Status: "sound"}
	if silent {
		ev = livestream.Event{Type: livestream.EventStreamSilent, StreamID: sess.id, Status: "silent", Message: silentMessage}
		s.Logger.Warn("live stream silent", "live_stream", sess.id)
	}
	s.emitLocked(ev)
}
