package preview

import (
	"context"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"

	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/mediatest/clipunits"
)

// hubs is a stand-in for the engine: one hub per stream id.
type hubs map[string]*hub.Stream

func (h hubs) Attach(id string, r *hub.Reader) (func(), error) {
	s, ok := h[id]
	if !ok {
		return nil, livestream.ErrNotFound
	}
	s.AddReader(r)
	return func() { s.RemoveReader(r) }, nil
}

func (h hubs) LastKey(id string) (*media.Unit, bool, error) {
	s, ok := h[id]
	if !ok {
		return nil, false, livestream.ErrNotFound
	}
	return s.LastKey(), true, nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// peer is a receiving pion peer on loopback that counts what arrives.
type peer struct {
	pc      *webrtc.PeerConnection
	packets atomic.Int64
	frames  atomic.Int64 // RTP packets with the marker bit: access units
	firstTS chan uint32
	done    chan struct{}
	// seen counts each RTP sequence number received (a packet sent again
	// counts twice); last and ssrc are the newest packet's.
	mu   sync.Mutex
	seen map[uint16]int
	last uint16
	ssrc uint32
	log  []seenFrame // every access unit completed, in order
	cur  seenFrame
}

// seenFrame is an access unit as a peer received it.
type seenFrame struct {
	at       time.Time // its last packet's arrival
	ts       uint32
	key      bool // it starts with the SPS
	from, to uint16
	sum      uint32 // CRC-32 of its payloads: the same picture sent again has the same
}

// startsWithSPS reports whether an H.264 RTP payload starts with an SPS,
// alone or in a STAP-A with the PPS: a key frame from the studio.
func startsWithSPS(payload []byte) bool {
	if len(payload) < 4 {
		return false
	}
	nal := payload[0] & 0x1f
	if nal == 24 {
		nal = payload[3] & 0x1f
	}
	return nal == 7
}

// receiver is the WebRTC stack of the tests' viewers: on loopback, every
// codec pion knows, and a packet sent again (after a NACK) let through to
// the test, which counts it.
func receiver(t testing.TB) *webrtc.API {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.DisableSRTPReplayProtection(true)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
}

func newPeer(t testing.TB, s *Server, id string) (*peer, string) {
	t.Helper()
	pc, err := receiver(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{pc: pc, firstTS: make(chan uint32, 1), done: make(chan struct{}), seen: map[uint16]int{}}
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		defer close(p.done)
		first := true
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if first {
				first = false
				// The first packet of a viewer starts a key frame: SPS
				// (7), alone or in a STAP-A (24) with the PPS.
				if startsWithSPS(pkt.Payload) {
					p.firstTS <- pkt.Timestamp
				} else {
					p.firstTS <- 0
				}
			}
			p.mu.Lock()
			p.seen[pkt.SequenceNumber]++
			p.last, p.ssrc = pkt.SequenceNumber, pkt.SSRC
			if p.cur.at.IsZero() {
				p.cur = seenFrame{at: time.Now(), ts: pkt.Timestamp, key: startsWithSPS(pkt.Payload), from: pkt.SequenceNumber}
			}
			p.cur.sum = crc32.Update(p.cur.sum, crc32.IEEETable, pkt.Payload)
			if pkt.Marker {
				p.cur.at, p.cur.to = time.Now(), pkt.SequenceNumber
				p.log = append(p.log, p.cur)
				p.cur = seenFrame{}
			}
			p.mu.Unlock()
			p.packets.Add(1)
			if pkt.Marker {
				p.frames.Add(1)
			}
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	sid, answer, err := s.Offer(context.Background(), id, pc.LocalDescription().SDP, true, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	return p, sid
}

func startServer(t testing.TB, h hubs) *Server {
	t.Helper()
	s := &Server{Streams: h, UDPAddr: "127.0.0.1:0", Logger: quiet()}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// publish sends the clip's units in real time until stop is closed.
func publish(st *hub.Stream, tracks media.Tracks, units []*media.Unit, stop <-chan struct{}) {
	st.StartPublisher(tracks)
	start := time.Now()
	var base time.Duration
	for loop := 0; ; loop++ {
		for _, u := range clipunits.Copy(units) {
			u.DTS += base
			u.PTS += base
			if d := time.Until(start.Add(u.DTS)); d > 0 {
				select {
				case <-stop:
					return
				case <-time.After(d):
				}
			}
			u.Received = time.Now()
			st.Publish(u)
		}
		base += units[len(units)-1].DTS + 33*time.Millisecond
	}
}

// liveServer is a preview server over one stream, "a", that the preview
// clip is published to in real time until the test ends.
func liveServer(t *testing.T) (*Server, *hub.Stream) {
	t.Helper()
	s, st, _ := clipServer(t, mediatest.Preview)
	return s, st
}

// clipServer is a preview server over one stream, "a", that clip is
// published to in real time, from start, until the test ends.
func clipServer(t *testing.T, clip mediatest.Clip) (s *Server, st *hub.Stream, start time.Time) {
	t.Helper()
	tracks, units := clipunits.Units(t, clip)
	st = &hub.Stream{Logger: quiet()}
	s = startServer(t, hubs{"a": st})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	start = time.Now()
	wg.Go(func() { publish(st, tracks, units, stop) })
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
		s.Close()
	})
	return s, st, start
}

// A viewer that reports a lost packet (RTCP NACK) gets it again while it
// is among the last nackPackets sent, and not once it is older: the
// responder's memory per viewer is bounded.
func TestLostPacketsAreSentAgain(t *testing.T) {
	s, _ := liveServer(t)
	p, _ := newPeer(t, s, "a")
	defer p.pc.Close()
	// Until the packet nackPackets+100 back is one the viewer had: its first
	// picture and the copies of it sent again come before a gap (the
	// stream's frames up to its next key frame are not sent to it).
	received := func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.seen[p.last-nackPackets-100] == 1
	}
	deadline := time.Now().Add(20 * time.Second)
	for p.packets.Load() < nackPackets+150 || !received() {
		if time.Now().After(deadline) {
			t.Fatalf("%d packets in 20 s", p.packets.Load())
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.mu.Lock()
	recent, old, ssrc := p.last-20, p.last-nackPackets-100, p.ssrc
	p.mu.Unlock()
	err := p.pc.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: ssrc,
		Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{old, recent})}})
	if err != nil {
		t.Fatal(err)
	}
	count := func(seq uint16) int {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.seen[seq]
	}
	deadline = time.Now().Add(5 * time.Second)
	for count(recent) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("packet %d (20 back) was not sent again: received %d times", recent, count(recent))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := count(old); n != 1 {
		t.Errorf("packet %d (%d back, beyond the %d kept) received %d times", old, nackPackets+100, nackPackets, n)
	}
}

// Two viewers of one stream share its one hub reader; each starts at a key
// frame (the newest, held) and receives the video; ending the sessions detaches the reader.
func TestViewersShareOneReader(t *testing.T) {
	s, st := liveServer(t)

	p1, id1 := newPeer(t, s, "a")
	p2, id2 := newPeer(t, s, "a")
	if n := st.Stats().Readers; n != 1 {
		t.Fatalf("hub readers with two viewers: %d, want 1", n)
	}
	for i, p := range []*peer{p1, p2} {
		select {
		case ts := <-p.firstTS:
			if ts == 0 {
				t.Errorf("viewer %d did not start at a key frame", i+1)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("viewer %d received nothing", i+1)
		}
	}
	// The first picture, the stream's next key frame within its 1 s
	// interval, then every frame.
	time.Sleep(2 * time.Second)
	for i, p := range []*peer{p1, p2} {
		if n := p.frames.Load(); n < 20 {
			t.Errorf("viewer %d: %d frames in about two seconds", i+1, n)
		}
	}
	if err := s.End("a", id1); err != nil {
		t.Fatal(err)
	}
	if err := s.End("a", id1); !errors.Is(err, livestream.ErrNotFound) {
		t.Errorf("ending twice: %v", err)
	}
	if err := s.End("b", id2); !errors.Is(err, livestream.ErrNotFound) {
		t.Errorf("ending through another stream: %v", err)
	}
	if n := st.Stats().Readers; n != 1 {
		t.Fatalf("hub readers with one viewer left: %d", n)
	}
	if err := s.End("a", id2); err != nil {
		t.Fatal(err)
	}
	if n := st.Stats().Readers; n != 0 {
		t.Fatalf("hub readers without viewers: %d", n)
	}
	p1.pc.Close()
	p2.pc.Close()
}

// The stream's end (its hub closed) ends every session and frees all.
func TestStreamEndEndsSessions(t *testing.T) {
	defer goleak.VerifyNone(t)
	tracks, units := clipunits.Units(t, mediatest.Preview)
	st := &hub.Stream{Logger: quiet()}
	s := startServer(t, hubs{"a": st})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { publish(st, tracks, units, stop) })
	p, _ := newPeer(t, s, "a")
	select {
	case <-p.firstTS:
	case <-time.After(5 * time.Second):
		t.Fatal("nothing received")
	}
	close(stop)
	wg.Wait()
	st.Close()
	deadline := time.Now().Add(5 * time.Second)
	for s.Sessions() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := s.Sessions(); n != 0 {
		t.Fatalf("sessions after the stream ended: %d", n)
	}
	p.pc.Close()
	<-p.done
	s.Close()
}

// An offer for an unknown stream, and offers past the limit, are refused.
func TestRefusals(t *testing.T) {
	st := &hub.Stream{Logger: quiet()}
	s := &Server{Streams: hubs{"a": st}, UDPAddr: "127.0.0.1:0", Logger: quiet(), MaxSessions: 1}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st.StartPublisher(media.Tracks{Video: &media.VideoParams{}})
	p, _ := newPeer(t, s, "a")
	defer p.pc.Close()
	offer := p.pc.LocalDescription().SDP
	if _, _, err := s.Offer(context.Background(), "a", offer, true, ""); !errors.Is(err, ErrTooMany) {
		t.Errorf("past the limit: %v", err)
	}
	s.MaxSessions = 10 // read only by Offer, on this goroutine
	if _, _, err := s.Offer(context.Background(), "nope", offer, true, ""); !errors.Is(err, livestream.ErrNotFound) {
		t.Errorf("unknown stream: %v", err)
	}
}

// FuzzCheckOffer: whatever the body, the check answers without panicking,
// and an error is one of the two the API turns into a 400.
func FuzzCheckOffer(f *testing.F) {
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\na=rtpmap:102 H264/90000\r\n")
	f.Add("v=0\r\nm=audio 9 RTP/AVP 0\r\n")
	f.Add("")
	f.Add("\x00\r\n")
	f.Fuzz(func(t *testing.T, offer string) {
		_, err := checkOffer(offer)
		var ve *livestream.ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("%q: %v is not a validation error", offer, err)
		}
	})
}

// BenchmarkFanOut: one access unit of the standard clip packetized once
// and handed to 20 viewers' queues (the reader goroutine's work per unit).
func BenchmarkFanOut(b *testing.B) {
	_, units := clipunits.Units(b, mediatest.Standard)
	var video []*media.Unit
	for _, u := range units {
		if u.Kind == media.KindVideo {
			video = append(video, u)
		}
	}
	f := newFeed("a", "", slog.New(slog.DiscardHandler))
	for range 20 {
		v := newViewer()
		v.needKey = false
		f.add(v, nil)
		go func() {
			for range v.queue {
			}
		}()
	}
	b.ResetTimer()
	for i := range b.N {
		f.onUnit(video[i%len(video)])
	}
	b.StopTimer()
	for _, v := range f.viewers {
		close(v.queue)
	}
}

// longGOP is a clip with a key frame every 6 s, so that a viewer joins
// well before the next one.
var longGOP = mediatest.Clip{Width: 320, Height: 180, FPS: 30, Seconds: 12, VideoKbps: 300, GOPSeconds: 6, NoBFrames: true}

// A viewer joining mid-way between key frames gets the newest key frame at
// once, as a picture of now (its RTP time is the newest unit's), the same
// picture again a few times over the next second and a half (each again a
// picture of now), then nothing until the stream's next key frame, then
// every frame: no burst of old frames, no corrupt pictures from frames it
// never had.
func TestNewViewerStartsWithTheNewestKeyFrame(t *testing.T) {
	s, st, start := clipServer(t, longGOP)
	// 1.5 s into the first 6 s key frame interval.
	time.Sleep(time.Until(start.Add(1500 * time.Millisecond)))
	if st.LastKey() == nil {
		t.Fatal("the hub holds no key frame 1.5 s into the clip")
	}
	joined := time.Now()
	p, _ := newPeer(t, s, "a")
	defer p.pc.Close()
	frames := func() []seenFrame {
		p.mu.Lock()
		defer p.mu.Unlock()
		return append([]seenFrame(nil), p.log...)
	}
	deadline := time.Now().Add(12 * time.Second)
	for len(frames()) < 30+len(firstPictureAgain) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	log := frames()
	if len(log) < 30 {
		t.Fatalf("%d frames in 12 s", len(log))
	}
	first := log[0]
	// The next key frame is 4.5 s away: a viewer waiting for it gets
	// nothing for 4.5 s.
	if d := first.at.Sub(joined); d > 2500*time.Millisecond || !first.key {
		t.Errorf("the first picture came %v after the offer (key frame: %v); the newest key frame was held", d, first.key)
	}
	// The first picture and the copies of it: the same key frame, spaced out,
	// each stamped with the time it was sent.
	copies := 1
	for copies < len(log) && log[copies].at.Sub(first.at) < 3*time.Second {
		c, prev := log[copies], log[copies-1]
		if !c.key || c.sum != first.sum {
			t.Errorf("frame %d, %v after the first picture and before the stream's next key frame, is not the first picture again (key %v): the viewer got frames whose references it lacks", copies, c.at.Sub(first.at), c.key)
		}
		if gap := c.at.Sub(prev.at); gap < 100*time.Millisecond {
			t.Errorf("frame %d came %v after the one before: a burst", copies, gap)
		}
		copies++
	}
	if copies-1 > len(firstPictureAgain) {
		t.Errorf("the first picture was sent %d times; at most %d", copies, 1+len(firstPictureAgain))
	}
	if copies == 1 {
		t.Error("the first picture was not sent again")
	}
	t.Logf("first picture %v after the offer, sent %d times; the stream's next key frame %v after it", first.at.Sub(joined), copies, log[min(copies, len(log)-1)].at.Sub(first.at))
	if copies >= len(log) || !log[copies].key || log[copies].sum == first.sum {
		t.Fatalf("frame %d is not the stream's next key frame", copies)
	}
	// RTP time and arrival agree from each picture to the next (the first
	// picture and its copies carry the time of now, not of their key frame
	// 1.5 s earlier), and the packets come in order.
	for i := 1; i <= copies; i++ {
		wall := log[i].at.Sub(log[i-1].at)
		rtpGap := time.Duration(log[i].ts-log[i-1].ts) * time.Second / 90000
		if d := rtpGap - wall; d < -400*time.Millisecond || d > 400*time.Millisecond {
			t.Errorf("pictures %d and %d are %v apart in RTP time and %v in arrival", i-1, i, rtpGap, wall)
		}
		// Numbered without a gap to the stream's own packets? No: the
		// frames skipped go unnumbered for this viewer, but in order.
		if int16(log[i].from-log[i-1].to) <= 0 {
			t.Errorf("picture %d's packets (from %d) do not come after picture %d's (to %d)", i, log[i].from, i-1, log[i-1].to)
		}
	}
	for i := copies + 1; i < len(log); i++ {
		if log[i].from != log[i-1].to+1 {
			t.Errorf("frame %d starts at packet %d, after %d: a gap once live", i, log[i].from, log[i-1].to)
			break
		}
	}
}

// A viewer joining while another watches gets its first picture again
// under packet numbers the other had (never a number of its own twice),
// and the other viewer's picture goes on untouched: no copy reaches it, no
// packet of it is missing.
func TestFirstPictureAgainLeavesOthersAlone(t *testing.T) {
	clip := mediatest.Clip{Width: 320, Height: 180, FPS: 30, Seconds: 9, VideoKbps: 300, GOPSeconds: 3, NoBFrames: true}
	s, _, start := clipServer(t, clip)
	// The first viewer half a second in; the second once the first has had
	// the stream's own key frame at 3 s.
	time.Sleep(time.Until(start.Add(500 * time.Millisecond)))
	p1, _ := newPeer(t, s, "a")
	defer p1.pc.Close()
	time.Sleep(time.Until(start.Add(3500 * time.Millisecond)))
	p2, _ := newPeer(t, s, "a")
	defer p2.pc.Close()
	time.Sleep(time.Until(start.Add(7 * time.Second))) // past the second viewer's copies and the key frame at 6 s
	log := func(p *peer) []seenFrame {
		p.mu.Lock()
		defer p.mu.Unlock()
		return append([]seenFrame(nil), p.log...)
	}
	l1, l2 := log(p1), log(p2)
	// The first viewer: from the stream's own key frame on, every packet,
	// and no picture twice.
	live := slices.IndexFunc(l1, func(f seenFrame) bool { return f.key && f.sum != l1[0].sum })
	if live < 0 {
		t.Fatalf("the first viewer had no key frame of the stream's own in %d frames", len(l1))
	}
	seen := map[uint32]bool{}
	for i := live; i < len(l1); i++ {
		if i > live && l1[i].from != l1[i-1].to+1 {
			t.Errorf("the first viewer's frame %d starts at packet %d, after %d: a gap once live", i, l1[i].from, l1[i-1].to)
		}
		if seen[l1[i].sum] {
			t.Errorf("the first viewer had frame %d (key %v) twice: another viewer's copy reached it", i, l1[i].key)
		}
		seen[l1[i].sum] = true
	}
	if n := len(l1) - live; n < 90 {
		t.Errorf("the first viewer had %d frames in the 3.5 s after the stream's key frame", n)
	}
	// The second viewer: its first picture, at least once again, then the
	// stream's own key frame, its packets in order throughout.
	copies := 0
	for copies < len(l2) && l2[copies].sum == l2[0].sum {
		copies++
	}
	if copies < 2 {
		t.Errorf("the second viewer had its first picture %d times, never again", copies)
	}
	if copies >= len(l2) || !l2[copies].key {
		t.Fatalf("the second viewer's frame %d (of %d) is not the stream's next key frame", copies, len(l2))
	}
	for i := 1; i < len(l2); i++ {
		if int16(l2[i].from-l2[i-1].to) <= 0 {
			t.Errorf("the second viewer's frame %d (from packet %d) does not come after frame %d (to %d)", i, l2[i].from, i-1, l2[i-1].to)
		}
	}
	t.Logf("the second viewer had its first picture %d times, then the stream's key frame %v after it", copies, l2[copies].at.Sub(l2[0].at))
}
