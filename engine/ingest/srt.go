package ingest

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	srt "github.com/datarhei/gosrt"
)

// Errors an Authorizer wraps so that each protocol refuses in its own
// words (an SRT rejection code, an RTMP error).
var (
	ErrUnknownKey = errors.New("unknown stream key")
	ErrBusy       = errors.New("another encoder is already publishing on this stream key")
)

// SRTServer accepts SRT publishers (gosrt). The stream id selects the
// stream as OBS and ffmpeg send it: "publish:KEY" (or the SRT access
// control form "#!::r=KEY,m=publish"). The payload is MPEG-TS with H.264
// and AAC, turned into the same media units RTMP gives, for the same
// Authorizer: one publisher per stream whatever the protocol.
type SRTServer struct {
	// Address to listen on (UDP), e.g. "127.0.0.1:8890". Required.
	Address string
	// Passphrase, when set, is required of every publisher (10 to 79
	// characters, SRT's AES encryption); when empty, encrypted publishers
	// are refused.
	Passphrase string
	// Latency is the receiver's buffer (SRT's latency); the larger of it
	// and the publisher's wins. It defaults to 120 ms.
	Latency time.Duration
	// Authorizer checks stream keys. Required.
	Authorizer Authorizer
	// ReadTimeout disconnects a publisher that sends nothing for this long.
	// It defaults to 15 s.
	ReadTimeout time.Duration
	// PublishTimeout closes a connection whose media cannot be read (no
	// program table, no parameter sets) this long after it was accepted.
	// It defaults to 10 s.
	PublishTimeout time.Duration
	// MaxConns caps the SRT publishers at once. It defaults to 512.
	MaxConns int
	// OnRefused is told of publishers refused before the Authorizer (bad
	// stream id, passphrase). Optional.
	OnRefused func(remote, reason string)
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	ln    srt.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[srt.Conn]struct{}
	done  chan struct{}
}

// Start listens and serves in the background.
func (s *SRTServer) Start() error {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.ReadTimeout == 0 {
		s.ReadTimeout = 15 * time.Second
	}
	if s.PublishTimeout == 0 {
		s.PublishTimeout = 10 * time.Second
	}
	if s.MaxConns == 0 {
		s.MaxConns = 512
	}
	cfg := srt.DefaultConfig()
	cfg.Logger = quietSRTLog{}
	cfg.PeerIdleTimeout = s.ReadTimeout
	if s.Latency > 0 {
		cfg.ReceiverLatency, cfg.PeerLatency = s.Latency, s.Latency
	}
	if s.Passphrase != "" {
		if n := len(s.Passphrase); n < 10 || n > 79 {
			return fmt.Errorf("the SRT passphrase has %d characters: use 10 to 79", n)
		}
	}
	ln, err := srt.Listen("srt", s.Address, cfg)
	if err != nil {
		return fmt.Errorf("listening for SRT on %s (UDP): %w", s.Address, err)
	}
	s.ln = ln
	s.conns = map[srt.Conn]struct{}{}
	s.done = make(chan struct{})
	go s.accept()
	return nil
}

// Addr is the UDP address the server listens on.
func (s *SRTServer) Addr() net.Addr { return s.ln.Addr() }

// Close stops listening, disconnects every publisher and waits for them.
func (s *SRTServer) Close() error {
	if s.ln == nil {
		return nil
	}
	s.ln.Close() // closes the connections too
	<-s.done
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *SRTServer) accept() {
	defer close(s.done)
	for {
		req, err := s.ln.Accept2()
		if err != nil {
			if errors.Is(err, srt.ErrListenerClosed) {
				return
			}
			s.Logger.Warn("accepting an SRT connection", "error", err)
			continue
		}
		s.admit(req)
	}
}

// admit answers one handshake: the stream id, the passphrase and the
// stream key decide, before any media is read.
func (s *SRTServer) admit(req srt.ConnRequest) {
	remote := req.RemoteAddr().String()
	refuse := func(code srt.RejectionReason, reason string) {
		req.Reject(code)
		s.Logger.Warn("SRT publisher refused", "remote", remote, "reason", reason)
		if s.OnRefused != nil {
			s.OnRefused(remote, reason)
		}
	}
	key, ok := publishKey(req.StreamId())
	if !ok {
		refuse(srt.REJX_BAD_REQUEST, "the SRT stream id must be publish:STREAM_KEY (set streamid in the encoder's SRT URL)")
		return
	}
	if code, reason := s.check(req); reason != "" {
		refuse(code, reason)
		return
	}
	var conn srt.Conn
	kicked := false
	kick := func() {
		s.mu.Lock()
		c := conn
		kicked = true
		s.mu.Unlock()
		if c != nil {
			_ = c.Close()
		}
	}
	t, err := s.Authorizer.Authorize(key, remote, kick)
	if err != nil {
		code := srt.REJ_PEER
		switch {
		case errors.Is(err, ErrUnknownKey):
			code = srt.REJX_UNAUTHORIZED
		case errors.Is(err, ErrBusy):
			code = srt.REJX_CONFLICT
		}
		req.Reject(code)
		s.Logger.Warn("SRT publisher refused", "remote", remote, "reason", err)
		return
	}
	c, err := req.Accept()
	if err != nil {
		t.Close()
		s.Logger.Warn("accepting an SRT publisher", "remote", remote, "error", err)
		return
	}
	s.mu.Lock()
	conn = c
	s.conns[c] = struct{}{}
	if kicked {
		_ = c.Close() // the stream went idle while the handshake ended
	}
	s.mu.Unlock()
	s.wg.Go(func() {
		defer func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			_ = c.Close()
		}()
		log := s.Logger.With("remote", remote, "protocol", "srt")
		log.Info("publisher connected", "stream_key_suffix", keySuffix(key))
		err := (&tsReader{conn: c, target: t, publishTimeout: s.PublishTimeout, log: log}).run()
		log.Info("publisher disconnected", "reason", err)
	})
}

// check says why a publisher is refused before its key is looked at
// ("": it is not): the passphrase, the cap on publishers.
func (s *SRTServer) check(req srt.ConnRequest) (srt.RejectionReason, string) {
	switch {
	case s.Passphrase == "" && req.IsEncrypted():
		return srt.REJ_UNSECURE, "the publisher encrypts but this studio has no SRT passphrase: remove passphrase from the URL"
	case s.Passphrase != "" && !req.IsEncrypted():
		return srt.REJ_UNSECURE, "this studio requires the SRT passphrase: add passphrase=… to the URL"
	case s.Passphrase != "":
		if err := req.SetPassphrase(s.Passphrase); err != nil {
			return srt.REJ_BADSECRET, "wrong SRT passphrase"
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) >= s.MaxConns {
		return srt.REJX_OVERLOAD, fmt.Sprintf("too many SRT publishers (%d)", s.MaxConns)
	}
	return 0, ""
}

// publishKey reads the stream key from an SRT stream id.
func publishKey(id string) (string, bool) {
	if rest, ok := strings.CutPrefix(id, "#!::"); ok {
		var key, mode string
		for kv := range strings.SplitSeq(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "r":
				key = v
			case "m":
				mode = v
			}
		}
		return key, key != "" && mode == "publish"
	}
	key, ok := strings.CutPrefix(id, "publish:")
	return key, ok && key != "" && !strings.ContainsAny(key, " /?#")
}

// quietSRTLog is the SRT library's logger with no topic on, as its default
// is, without the default's queue of 1,024 messages (0.5 MB) that nothing
// reads: the studio logs what happens to SRT connections itself.
type quietSRTLog struct{}

func (quietSRTLog) HasTopic(string) bool                     { return false }
func (quietSRTLog) Print(string, uint32, int, func() string) {}
func (quietSRTLog) Listen() <-chan srt.Log                   { return nil }
func (quietSRTLog) Close()                                   {}
