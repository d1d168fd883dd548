package preview

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
)

// viewerID says who asks for a session: the studio's owner (the API
// credentials: the window, scripts) or a guest holding a preview token,
// told apart by Key (the token and the address it comes from).
type viewerID struct {
	Owner bool
	Key   string
}

// session is one viewer's peer connection.
type session struct {
	id       string
	streamID string
	who      viewerID
	joined   bool // connected once (under the server's mu)
	feed     *feed
	pc       *webrtc.PeerConnection
	track    *webrtc.TrackLocalStaticRTP
	sound    *webrtc.TrackLocalStaticRTP // nil: the viewer did not ask for sound
	v        *viewer
	sent     chan struct{} // closed when the sending goroutine ends
	marks    sentMarks     // what was written to the viewer, for NACKs
	timer    *time.Timer
	endOnce  sync.Once
	joinOnce sync.Once
}

// Offer answers a WHEP offer for stream id: it returns the session's id
// and the SDP answer, with every ICE candidate in it (no trickle).
// owner is true for the studio's own credentials; a guest (a preview
// token) is told apart by guest, for its limits.
func (s *Server) Offer(ctx context.Context, streamID, offer string, owner bool, guest string) (sessionID, answer string, err error) {
	who := viewerID{Owner: owner, Key: guest}
	wantsSound, err := checkOffer(offer)
	if err != nil {
		return "", "", err
	}
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", "", fmt.Errorf("making a peer connection: %w", err)
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
	}, "video", "onair-"+streamID)
	if err != nil {
		_ = pc.Close()
		return "", "", fmt.Errorf("making the video track: %w", err)
	}
	var sound *webrtc.TrackLocalStaticRTP
	if wantsSound && s.FFmpeg != "" {
		if sound, err = webrtc.NewTrackLocalStaticRTP(opusCodec, "audio", "onair-"+streamID); err != nil {
			_ = pc.Close()
			return "", "", fmt.Errorf("making the sound track: %w", err)
		}
	}
	ss, err := s.reserve(streamID, who, pc, track)
	if err != nil {
		_ = pc.Close()
		return "", "", err
	}
	ss.sound = sound
	ss.v.sound = sound
	answer, err = s.negotiate(ctx, ss, offer)
	if err != nil {
		s.end(ss, "negotiation failed")
		return "", "", err
	}
	return ss.id, answer, nil
}

// reserve counts a new session against the limits and attaches the
// stream's feed if it has none yet.
func (s *Server) reserve(streamID string, who viewerID, pc *webrtc.PeerConnection, track *webrtc.TrackLocalStaticRTP) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if err := s.admitLocked(streamID, who); err != nil {
		return nil, err
	}
	f := s.feeds[streamID]
	if f == nil {
		f = newFeed(streamID, s.FFmpeg, s.Logger.With("live_stream", streamID))
		detach, err := s.Streams.Attach(streamID, f.reader)
		if err != nil {
			return nil, err
		}
		f.detach = detach
		s.feeds[streamID] = f
		s.wg.Add(1)
		go s.watch(f)
	}
	f.sessions++
	ss := &session{id: livestream.RandomHex(12), streamID: streamID, who: who, feed: f, pc: pc, track: track, v: newViewer(), sent: make(chan struct{})}
	ss.timer = time.AfterFunc(s.ConnectTimeout, func() {
		if pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
			s.end(ss, "the viewer did not connect in time")
		}
	})
	s.sessions[ss.id] = ss
	s.wg.Add(1)
	go s.send(ss)
	return ss, nil
}

// admitLocked checks a new session against the limits: the studio's, and
// for a guest the guests' share, the stream's and the guest's own.
func (s *Server) admitLocked(streamID string, who viewerID) error {
	if len(s.sessions) >= s.MaxSessions {
		return fmt.Errorf("%w (at most %d at once)", ErrTooMany, s.MaxSessions)
	}
	if who.Owner {
		return nil
	}
	guests, stream, mine := 0, 0, 0
	for _, ss := range s.sessions {
		if ss.who.Owner {
			continue
		}
		guests++
		if ss.streamID == streamID {
			stream++
		}
		if ss.who.Key == who.Key {
			mine++
		}
	}
	switch {
	case mine >= s.MaxPerGuest:
		return fmt.Errorf("%w: this preview link has %d sessions open already; close one", ErrTooMany, mine)
	case stream >= s.MaxGuestPerStream:
		return fmt.Errorf("%w: this stream's preview has %d guests already", ErrTooMany, stream)
	case guests >= s.MaxGuestSessions:
		return fmt.Errorf("%w: the studio's preview has %d guests already", ErrTooMany, guests)
	}
	return nil
}

// watch ends the feed's sessions once its reader stops (the stream went idle).
func (s *Server) watch(f *feed) {
	defer s.wg.Done()
	<-f.reader.Done()
	f.closeSound()
	s.mu.Lock()
	if s.feeds[f.id] == f {
		delete(s.feeds, f.id)
	}
	var ending []*session
	for _, ss := range s.sessions {
		if ss.feed == f {
			ending = append(ending, ss)
		}
	}
	s.mu.Unlock()
	for _, ss := range ending {
		s.end(ss, "the live stream went idle")
	}
}

// negotiate makes the peer connection and its answer.
func (s *Server) negotiate(ctx context.Context, ss *session, offer string) (string, error) {
	pc := ss.pc
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			ss.joinOnce.Do(func() {
				s.mu.Lock()
				ss.joined = true
				ss.feed.joined++
				s.mu.Unlock()
				ss.feed.add(ss.v, s.firstPicture(ss.streamID))
			})
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			go s.end(ss, "the viewer went away ("+st.String()+")")
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	sender, err := pc.AddTrack(ss.track)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoH264, err)
	}
	s.wg.Go(func() { // RTCP from the viewer: reports, and NACKs answered from the feed's ring
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			s.resend(ss, pkts)
		}
	})
	if ss.sound != nil {
		soundSender, err := pc.AddTrack(ss.sound)
		if err != nil {
			return "", fmt.Errorf("adding the sound track: %w", err)
		}
		s.wg.Go(func() { // the sound's reports; lost sound is not sent again
			for {
				if _, _, err := soundSender.ReadRTCP(); err != nil {
					return
				}
			}
		})
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoH264, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return "", fmt.Errorf("setting the answer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("gathering ICE candidates: %w", ctx.Err())
	}
	return pc.LocalDescription().SDP, nil
}

// send writes the viewer's frames to its track until the queue closes.
func (s *Server) send(ss *session) {
	defer s.wg.Done()
	defer close(ss.sent)
	for fr := range ss.v.queue {
		for _, p := range fr.packets {
			if err := ss.track.WriteRTP(p); err != nil {
				break // the connection is closing; end follows
			}
			ss.marks.mark(p.SequenceNumber)
		}
		if !fr.received.IsZero() {
			ss.feed.delays.add(time.Since(fr.received))
		}
	}
}

// End closes session id of stream streamID (the WHEP DELETE).
func (s *Server) End(streamID, id string) error {
	s.mu.Lock()
	ss := s.sessions[id]
	s.mu.Unlock()
	if ss == nil || ss.streamID != streamID {
		return ErrUnknownSession
	}
	s.end(ss, "ended by the viewer")
	return nil
}

// end frees everything of ss, once: the viewer leaves the feed, its
// goroutine stops, the peer connection closes, and the feed's hub reader
// detaches when it was the last session.
func (s *Server) end(ss *session, reason string) {
	ss.endOnce.Do(func() {
		s.mu.Lock()
		delete(s.sessions, ss.id)
		f := ss.feed
		f.sessions--
		if ss.joined {
			f.joined--
		}
		var detach func()
		if f.sessions == 0 {
			if s.feeds[f.id] == f {
				delete(s.feeds, f.id)
			}
			detach = f.detach
		}
		s.mu.Unlock()
		ss.joinOnce.Do(func() {}) // a late "connected" adds it no more
		f.remove(ss.v)
		close(ss.v.queue)
		<-ss.sent
		ss.timer.Stop()
		if err := ss.pc.Close(); err != nil {
			s.Logger.Debug("closing a preview peer connection", "error", err)
		}
		if detach != nil {
			detach()
		}
		s.Logger.Info("preview session ended", "live_stream", ss.streamID, "session", ss.id, "reason", reason)
	})
}

// firstPicture is the stream's newest H.264 key frame, or nil.
func (s *Server) firstPicture(streamID string) *media.Unit {
	u, live, err := s.Streams.LastKey(streamID)
	if err != nil || !live || u == nil || u.Kind != media.KindVideo || !u.Key {
		return nil
	}
	if u.Tracks != nil && u.Tracks.Video != nil && u.Tracks.Video.Codec != media.H264 {
		return nil
	}
	return u
}
