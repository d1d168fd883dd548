// Package player is the window's live preview: a WHEP client (pion) that
// receives a live stream's H.264 video, and an OpenH264 decoder (engine/picture)
// that turns it into RGBA pictures. It has no widgets: the window draws what it is
// handed, so it is tested without a display.
package player

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// Client asks a studio for a preview session.
type Client struct {
	// URL is the stream's WHEP endpoint,
	// http://HOST/v2/video/CLOUD/live_streams/ID/whep. Required.
	URL string
	// Username and Password are the API key and secret (HTTP Basic), or
	// Token is a preview token (Bearer).
	Username, Password string
	Token              string
	// HTTP defaults to a client with a 10 s timeout.
	HTTP *http.Client
	// Sound asks for the stream's sound too (Opus; the studio sends it
	// when it has FFmpeg).
	Sound bool
}

// AccessUnit is one received picture's data in Annex B form.
type AccessUnit struct {
	Data []byte
	Key  bool
	// Timestamp is the RTP timestamp (90 kHz).
	Timestamp uint32
}

// Session is one preview session.
type Session struct {
	pc        *webrtc.PeerConnection
	location  string
	client    *Client
	units     chan AccessUnit
	sound     chan *rtp.Packet
	done      chan struct{}
	closeOnce sync.Once
	readers   sync.WaitGroup
}

// Connect sends an offer and sets up the session from the answer.
func (c *Client) Connect(ctx context.Context) (*Session, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("preview address %q: %w", c.URL, err)
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("preparing WebRTC: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	se.SetICETimeouts(3*time.Second, 8*time.Second, time.Second)
	if ip := net.ParseIP(strings.Trim(u.Hostname(), "[]")); ip != nil && ip.IsLoopback() || u.Hostname() == "localhost" {
		// A studio on this machine: offer loopback addresses only.
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetRemoteIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("making a peer connection: %w", err)
	}
	s := &Session{pc: pc, client: c, units: make(chan AccessUnit, 8), sound: make(chan *rtp.Packet, soundQueue), done: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			s.closePeer()
		}
	}()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return nil, fmt.Errorf("adding the video receiver: %w", err)
	}
	if c.Sound {
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			return nil, fmt.Errorf("adding the sound receiver: %w", err)
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		s.readers.Add(1)
		go s.read(tr)
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			go s.closePeer()
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return nil, fmt.Errorf("making the offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return nil, fmt.Errorf("setting the offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// The exchange is not cut short by ctx: once the studio made the
	// session, its address must come back so that it can be ended.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	answer, loc, err := c.post(pctx, pc.LocalDescription().SDP)
	cancel()
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		_ = c.delete(context.Background(), loc)
		return nil, ctx.Err()
	}
	s.location = loc
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		_ = c.delete(context.Background(), loc)
		return nil, fmt.Errorf("the studio's answer: %w", err)
	}
	ok = true
	return s, nil
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

func (c *Client) auth(req *http.Request) {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	} else if c.Username != "" {
		req.SetBasicAuth(c.Username, c.Password)
	}
}

// post sends the offer; it returns the answer and the session's address.
func (c *Client) post(ctx context.Context, offer string) (answer, location string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, strings.NewReader(offer))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/sdp")
	c.auth(req)
	resp, err := c.http().Do(req)
	if err != nil {
		return "", "", fmt.Errorf("asking the studio for a preview: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return "", "", &StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(body))}
	}
	loc, err := resp.Location()
	if err != nil {
		return "", "", fmt.Errorf("the studio's answer has no session address: %w", err)
	}
	return string(body), loc.String(), nil
}

func (c *Client) delete(ctx context.Context, location string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, location, nil)
	if err != nil {
		return err
	}
	c.auth(req)
	resp, err := c.http().Do(req)
	if err != nil {
		return fmt.Errorf("ending the preview session: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return &StatusError{Code: resp.StatusCode}
	}
	return nil
}

// StatusError is a refusal by the studio.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	msg := e.Body
	if i := strings.Index(msg, `"message":"`); i >= 0 {
		msg = strings.TrimSuffix(strings.SplitN(msg[i+11:], `"`, 2)[0], `"`)
	}
	return fmt.Sprintf("the studio refused the preview (%d): %s", e.Code, msg)
}

// Units are the received access units; closed when the session ends.
func (s *Session) Units() <-chan AccessUnit { return s.units }

// Sound is the received Opus packets (none unless the client asked for
// sound and the studio sends it); closed when the session ends. Packets
// that are not taken in time are dropped.
func (s *Session) Sound() <-chan *rtp.Packet { return s.sound }

// soundQueue is how many Opus packets wait for the decoder: 1.3 s.
const soundQueue = 64

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Close ends the session at the studio and frees it here.
func (s *Session) Close() error {
	var err error
	if s.location != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = s.client.delete(ctx, s.location)
		cancel()
	}
	s.closePeer()
	return err
}

func (s *Session) closePeer() {
	s.closeOnce.Do(func() {
		_ = s.pc.Close()
		close(s.done)
		go func() { // units closes once the track readers are gone
			s.readers.Wait()
			close(s.units)
			close(s.sound)
		}()
	})
}

// read turns the track's packets into access units. After a lost packet
// it waits for the next key frame.
func (s *Session) read(tr *webrtc.TrackRemote) {
	defer s.readers.Done()
	if strings.EqualFold(tr.Codec().MimeType, webrtc.MimeTypeOpus) {
		s.readSound(tr)
		return
	}
	if !strings.EqualFold(tr.Codec().MimeType, webrtc.MimeTypeH264) {
		return
	}
	var (
		depack  codecs.H264Packet
		au      bytes.Buffer
		key     bool
		lastSeq uint16
		started bool
		broken  = true // until a key frame
	)
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		if started && pkt.SequenceNumber != lastSeq+1 {
			broken, key = true, false
			au.Reset()
			depack = codecs.H264Packet{}
		}
		started, lastSeq = true, pkt.SequenceNumber
		nalus, err := depack.Unmarshal(pkt.Payload)
		if err != nil {
			broken = true
			continue
		}
		if len(nalus) > 0 {
			au.Write(nalus)
			key = key || hasIDR(nalus)
		}
		if !pkt.Marker {
			continue
		}
		if key {
			broken = false
		}
		if !broken && au.Len() > 0 {
			select {
			case s.units <- AccessUnit{Data: bytes.Clone(au.Bytes()), Key: key, Timestamp: pkt.Timestamp}:
			case <-s.done:
				return
			default: // the decoder is behind: the next picture would be damaged
				broken = true
			}
		}
		au.Reset()
		key = false
	}
}

// readSound hands the Opus packets on until the track ends.
func (s *Session) readSound(tr *webrtc.TrackRemote) {
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		select {
		case s.sound <- pkt:
		case <-s.done:
			return
		default: // the decoder is behind: this packet is lost
		}
	}
}

// hasIDR reports whether Annex B data holds an IDR slice.
func hasIDR(b []byte) bool {
	for i := 0; i+3 < len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 && b[i+3]&0x1f == 5 {
			return true
		}
	}
	return false
}

// ErrEnded tells that the studio ended the session (the stream went idle).
var ErrEnded = errors.New("the preview ended")
