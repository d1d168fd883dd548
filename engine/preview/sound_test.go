package preview

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/onair-studio/onair/engine/ffmpeg"
	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/mediatest/clipunits"
)

// listener is a pion peer that asks for the picture and the sound and
// keeps the Opus packets it receives.
type listener struct {
	pc     *webrtc.PeerConnection
	answer string
	id     string
	mu     sync.Mutex
	opus   []*rtp.Packet
}

func (l *listener) packets() []*rtp.Packet {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*rtp.Packet(nil), l.opus...)
}

func newListener(t *testing.T, s *Server, stream string, sound bool) *listener {
	t.Helper()
	pc, err := receiver(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	l := &listener{pc: pc}
	kinds := []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo}
	if sound {
		kinds = append(kinds, webrtc.RTPCodecTypeAudio)
	}
	for _, k := range kinds {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if tr.Kind() == webrtc.RTPCodecTypeAudio {
				l.mu.Lock()
				l.opus = append(l.opus, pkt)
				l.mu.Unlock()
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
	l.id, l.answer, err = s.Offer(context.Background(), stream, pc.LocalDescription().SDP, true, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: l.answer}); err != nil {
		t.Fatal(err)
	}
	return l
}

func eventually(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %v", what, d)
		}
	}
}

// The preview's sound (must-show 3 of the renditions and sound issue): a
// viewer asking for sound gets an Opus track in the answer, and Opus
// packets that decode to the clip's 440 Hz tone within 5 Hz; FFmpeg runs
// only while someone listens: not for the stream alone, not for a viewer
// without sound, and not after the listener left.
func TestPreviewSound(t *testing.T) {
	bin, err := ffmpeg.Locate("")
	if err != nil {
		t.Fatal(err)
	}
	tracks, units := clipunits.Units(t, mediatest.Preview)
	st := &hub.Stream{Logger: quiet()}
	s := &Server{Streams: hubs{"a": st}, UDPAddr: "127.0.0.1:0", Logger: quiet(), FFmpeg: bin}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { publish(st, tracks, units, stop) })
	defer func() { close(stop); wg.Wait(); s.Close() }()

	time.Sleep(time.Second)
	if n := len(mediatest.ChildFFmpegs(t)); n != 0 {
		t.Fatalf("%d FFmpeg children with nobody previewing", n)
	}
	silent := newListener(t, s, "a", false)
	if strings.Contains(strings.ToLower(silent.answer), "opus") {
		t.Error("a viewer that asked for no sound was offered Opus")
	}
	eventually(t, "the silent viewer connects", 10*time.Second, func() bool {
		return silent.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
	time.Sleep(time.Second)
	if n := len(mediatest.ChildFFmpegs(t)); n != 0 {
		t.Fatalf("%d FFmpeg children for a viewer without sound", n)
	}

	l := newListener(t, s, "a", true)
	if !strings.Contains(strings.ToLower(l.answer), "opus/48000/2") {
		t.Fatalf("the answer has no Opus track:\n%s", l.answer)
	}
	eventually(t, "3 s of Opus", 20*time.Second, func() bool { return len(l.packets()) >= 150 })
	if n := len(mediatest.ChildFFmpegs(t)); n != 1 {
		t.Errorf("%d FFmpeg children while one viewer listens; want 1", n)
	}
	pkts := l.packets()
	hz := mediatest.ToneHz(mediatest.DecodeOpusRTP(t, pkts), 48000)
	t.Logf("%d Opus packets, the tone at %.1f Hz", len(pkts), hz)
	if math.Abs(hz-440) > 5 {
		t.Errorf("the preview's sound decodes to %.1f Hz; want 440 ± 5", hz)
	}
	if err := s.End("a", l.id); err != nil {
		t.Fatal(err)
	}
	eventually(t, "FFmpeg gone once the listener left", 5*time.Second, func() bool { return len(mediatest.ChildFFmpegs(t)) == 0 })
}
