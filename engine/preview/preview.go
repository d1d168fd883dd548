// Package preview is the studio's WebRTC preview: WHEP sessions (an SDP
// offer in, an answer out) that send a live stream's H.264 video, as
// ingest received it, and its sound as Opus, to browsers and to the
// window's player.
//
// The viewers of one stream share one hub reader and one packetizer (a
// feed): each access unit becomes RTP packets once, and every viewer's
// goroutine writes those packets to its own peer connection. A viewer
// starts with the stream's newest key frame (held by the hub), then waits
// for the next one; when it falls behind, it drops media and waits for the
// next one. Sound goes to a viewer whose offer asks for Opus when the
// studio has FFmpeg: the stream's AAC (WebRTC has no AAC) made Opus by one
// FFmpeg child per stream, running only while someone listens (sound.go,
// engine/opus).
package preview

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
)

// Errors of Offer and End. Each is a livestream.ValidationError or wraps
// livestream.ErrNotFound or livestream.ErrConflict, so callers map them to
// answers without knowing this package.
var (
	ErrBadOffer       = &livestream.ValidationError{Field: "offer", Message: "the body is not an SDP offer"}
	ErrNoH264         = &livestream.ValidationError{Field: "offer", Message: "the offer has no H.264 video to receive (the preview sends H.264 video, and Opus sound when asked)"}
	ErrUnknownSession = fmt.Errorf("no such preview session: %w", livestream.ErrNotFound)
	ErrTooMany        = fmt.Errorf("too many preview sessions: %w", livestream.ErrConflict)
	ErrClosed         = errors.New("preview server is closed")
)

// Streams is where viewers attach: the engine.
type Streams interface {
	// Attach adds r to the live stream's hub; r stops when the session
	// ends (r.Done closes) or when detach is called.
	Attach(id string, r *hub.Reader) (detach func(), err error)
	// LastKey is the newest video key frame the live stream sent (nil
	// before the first): a new viewer's first picture.
	LastKey(id string) (u *media.Unit, live bool, err error)
}

// Server runs the preview sessions of every stream.
type Server struct {
	//
	// parameters
	//
	// Streams is required.
	Streams Streams
	// UDPAddr is where media goes out and ICE answers, e.g. the HTTP
	// server's host and port (UDP): candidates carry only this address.
	// When that port is taken a free one on the same host is used. Required.
	UDPAddr string
	// ListenPacket opens the UDP port; nil: net.ListenPacket. (Tests make
	// it fail as Wine and some firewalls do.)
	ListenPacket func(network, address string) (net.PacketConn, error)
	// MaxSessions bounds the sessions of the whole studio. It defaults to 100.
	MaxSessions int
	// Guests (token holders) share at most MaxGuestSessions of them (the
	// rest are kept for the owner: the window and API callers always get a
	// session), at most MaxGuestPerStream on one stream and at most
	// MaxPerGuest per token and address. They default to 80, 20 and 4.
	MaxGuestSessions, MaxGuestPerStream, MaxPerGuest int
	// ConnectTimeout ends a session whose peer does not connect in time.
	// It defaults to 15 s.
	ConnectTimeout time.Duration
	// FFmpeg makes the preview's sound (Opus from the stream's AAC) for
	// viewers whose offer asks for Opus; "": the preview is silent.
	FFmpeg string
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	//
	// private
	//
	api      *webrtc.API
	udp      net.PacketConn
	mux      ice.UDPMux
	mu       sync.Mutex
	closed   bool
	feeds    map[string]*feed
	sessions map[string]*session
	wg       sync.WaitGroup
}

// Start opens the UDP port and prepares the WebRTC stack.
func (s *Server) Start() error {
	if s.Streams == nil || s.UDPAddr == "" {
		return errors.New("preview: Streams and UDPAddr are required")
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	s.MaxSessions = cmp.Or(s.MaxSessions, 100)
	s.MaxGuestSessions = min(cmp.Or(s.MaxGuestSessions, 80), s.MaxSessions)
	s.MaxGuestPerStream = cmp.Or(s.MaxGuestPerStream, 20)
	s.MaxPerGuest = cmp.Or(s.MaxPerGuest, 4)
	if s.ConnectTimeout <= 0 {
		s.ConnectTimeout = 15 * time.Second
	}
	listen := s.ListenPacket
	if listen == nil {
		listen = net.ListenPacket
	}
	udp, err := listen("udp", s.UDPAddr)
	if err != nil {
		host, _, _ := net.SplitHostPort(s.UDPAddr)
		if udp, err = listen("udp", net.JoinHostPort(host, "0")); err != nil {
			return fmt.Errorf("opening the preview's UDP port on %s: %w", s.UDPAddr, err)
		}
		s.Logger.Info("preview UDP port taken, using another", "wanted", s.UDPAddr, "using", udp.LocalAddr().String())
	}
	s.udp = batched(udp)
	udp = s.udp
	lf := &logging.DefaultLoggerFactory{DefaultLogLevel: logging.LogLevelError, Writer: slogWriter{s.Logger}, ScopeLevels: map[string]logging.LogLevel{}}
	s.mux = webrtc.NewICEUDPMux(lf.NewLogger("ice"), udp)

	me := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	for i, profile := range []string{"42e01f", "42001f", "4d001f", "64001f"} {
		c := webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
				SDPFmtpLine:  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profile,
				RTCPFeedback: fb,
			},
			PayloadType: webrtc.PayloadType(102 + 2*i),
		}
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return fmt.Errorf("preview: registering H.264: %w", err)
		}
	}
	opus := webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: 111}
	if err := me.RegisterCodec(opus, webrtc.RTPCodecTypeAudio); err != nil {
		return fmt.Errorf("preview: registering Opus: %w", err)
	}
	ir := &interceptor.Registry{}
	// No NACK interceptor: packets a viewer reports lost are sent again
	// from the feed's one ring of sent packets, shared by every viewer of
	// the stream (nack.go), instead of a copy of each packet per viewer.
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return fmt.Errorf("preview: RTCP reports: %w", err)
	}
	se := webrtc.SettingEngine{LoggerFactory: lf}
	se.SetICEUDPMux(s.mux)
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	se.SetICETimeouts(3*time.Second, 8*time.Second, time.Second)
	s.api = webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	s.feeds = map[string]*feed{}
	s.sessions = map[string]*session{}
	s.Logger.Info("preview ready", "udp", udp.LocalAddr().String())
	return nil
}

// nackPackets is how many of the packets last sent each stream's feed
// keeps to send again when a viewer reports them lost (a power of two):
// about two seconds of a preview's video, shared by all its viewers.
const nackPackets = 512

// Sessions returns how many preview sessions are open.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Close ends every session and closes the UDP port.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed || s.sessions == nil {
		s.closed = true
		s.mu.Unlock()
		return
	}
	s.closed = true
	all := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	for _, ss := range all {
		s.end(ss, "the studio is closing")
	}
	s.wg.Wait()
	_ = s.mux.Close()
	_ = s.udp.Close()
}

// opusCodec is the preview's sound: Opus, 48 kHz, stereo as WebRTC
// always names it.
var opusCodec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}

// checkOffer reads offer and tells whether it asks for H.264 video (an
// error if not) and for Opus sound.
func checkOffer(offer string) (sound bool, err error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return false, fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	video := false
	for _, m := range sd.MediaDescriptions {
		for _, a := range m.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			v := strings.ToUpper(a.Value)
			switch m.MediaName.Media {
			case "video":
				video = video || strings.Contains(v, " H264/90000")
			case "audio":
				sound = sound || strings.Contains(v, " OPUS/48000")
			}
		}
	}
	if !video {
		return false, ErrNoH264
	}
	return sound, nil
}

// slogWriter passes pion's log lines to the studio's logger.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.log.Warn(strings.TrimSpace(string(p)), "component", "webrtc")
	return len(p), nil
}
