// Package ingest is the studio's RTMP server. It checks each publisher's
// stream key through an Authorizer, turns FLV tags into media units and
// hands them to the target the Authorizer returns.
package ingest

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	rtmp "github.com/yutopp/go-rtmp"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/netlimit"
)

// AppName is the RTMP application encoders publish to: rtmp://HOST:PORT/live.
const AppName = "live"

// Target receives one publisher's media.
type Target interface {
	// StartTracks announces the publisher's tracks, before its first unit
	// and again whenever they change.
	StartTracks(media.Tracks)
	// WriteUnits hands over the units read in one batch, in order; it must
	// not block, and must not keep the slice.
	WriteUnits([]*media.Unit)
	// Close tells that the publisher has gone.
	Close()
}

// Authorizer decides who may publish.
type Authorizer interface {
	// Authorize is asked when an encoder publishes on key from remote. kick
	// disconnects the publisher; it may be called at any time, more than once.
	Authorize(key, remote string, kick func()) (Target, error)
}

// Server accepts RTMP publishers.
type Server struct {
	//
	// parameters
	//
	// Address to listen on, e.g. "127.0.0.1:1935". Required unless Listener is set.
	Address string
	// Listener, when set, is used instead of listening on Address.
	Listener net.Listener
	// Authorizer checks stream keys. Required.
	Authorizer Authorizer
	// ReadTimeout disconnects a publisher that sends nothing for this long.
	// It defaults to 15 s.
	ReadTimeout time.Duration
	// ReadBatch is the shortest time between two reads of a connection once
	// it streams: media that arrives meanwhile is read at once, so a
	// publisher costs one read and one wake-up per batch instead of one per
	// packet. It adds at most this much delay. It defaults to 50 ms (measured:
	// 20 ms costs a third more CPU, 100 ms saves nothing more); a
	// negative value turns batching off.
	ReadBatch time.Duration
	// PublishTimeout closes a connection that has not started publishing
	// this long after it was accepted (handshake, connect and publish
	// included). It defaults to 10 s.
	PublishTimeout time.Duration
	// MaxConns caps the RTMP connections open at once. It defaults to 512;
	// a negative value means no limit.
	MaxConns int
	// MaxConnsPerHost caps the connections open at once from one IP
	// address. It defaults to 128 (one encoder machine may publish many
	// streams); a negative value means no limit.
	MaxConnsPerHost int
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	//
	// callbacks
	//
	// OnRefused is called when a publisher is refused before reaching the
	// Authorizer (wrong application name). Optional.
	OnRefused func(remote, reason string)

	//
	// private
	//
	ln    net.Listener
	limit *netlimit.Limiter
	srv   *rtmp.Server
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  chan struct{}
	slow  *netlimit.RateLog // connections closed for not publishing in time
}

// Start listens and serves in the background.
func (s *Server) Start() error {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.ReadTimeout == 0 {
		s.ReadTimeout = 15 * time.Second
	}
	if s.ReadBatch == 0 {
		s.ReadBatch = 50 * time.Millisecond
	}
	if s.PublishTimeout == 0 {
		s.PublishTimeout = 10 * time.Second
	}
	s.limit = &netlimit.Limiter{
		Max:        limitOrDefault(s.MaxConns, 512),
		MaxPerHost: limitOrDefault(s.MaxConnsPerHost, 128),
		Name:       "RTMP",
		Logger:     s.Logger,
	}
	ln := s.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.Address); err != nil {
			return fmt.Errorf("listening for RTMP on %s: %w", s.Address, err)
		}
	}
	s.ln = ln
	ln = s.limit.Listen(ln)
	s.slow = &netlimit.RateLog{Logger: s.Logger}
	s.conns = map[net.Conn]struct{}{}
	s.done = make(chan struct{})
	s.srv = rtmp.NewServer(&rtmp.ServerConfig{OnConnect: s.onConnect})
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return nil
}

// limitOrDefault maps the parameter convention (0 default, negative none)
// to the limiter's (0 none).
func limitOrDefault(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops listening, disconnects every publisher and waits for them.
func (s *Server) Close() error {
	err := s.srv.Close()
	// go-rtmp closes only a listener its Serve has registered: when Close
	// comes first, Serve would then accept for ever. Closing it here too
	// ends Accept either way.
	_ = s.ln.Close()
	<-s.done
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	// go-rtmp can leave a connection's goroutine blocked on a write to a
	// peer that is gone; do not hang the studio's shutdown on it.
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.Logger.Warn("some RTMP connections did not end within 5 s of closing")
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (s *Server) onConnect(nc net.Conn) (io.ReadWriteCloser, *rtmp.ConnConfig) {
	s.wg.Add(1)
	s.mu.Lock()
	s.conns[nc] = struct{}{}
	s.mu.Unlock()
	h := &connHandler{
		server: s,
		nc:     nc,
		remote: nc.RemoteAddr().String(),
		log:    s.Logger.With("remote", nc.RemoteAddr().String()),
	}
	h.badWarn = &netlimit.RateLog{Every: 5 * time.Second, Logger: h.log}
	h.publishTimer = time.AfterFunc(s.PublishTimeout, h.publishTimeout)
	ic := &ingestConn{Conn: nc, timeout: s.ReadTimeout, batch: s.ReadBatch, beforeRead: h.flush, sleep: time.Sleep}
	if s.ReadBatch > 0 {
		ic.quiet = newQuietReader(nc)
	}
	return ic, &rtmp.ConnConfig{
		Handler:          h,
		ReaderBufferSize: 64 * 1024,
		WriterBufferSize: 4 * 1024,
		ControlState: rtmp.StreamControlStateConfig{
			DefaultBandwidthWindowSize: 6 * 1024 * 1024 / 8,
		},
	}
}

// refusedSlow logs, at most once per 10 s and with a count, connections
// closed because they did not publish within PublishTimeout.
func (s *Server) refusedSlow(remote string) {
	s.slow.Add("RTMP connection closed: no publish within the time limit", "remote", remote, "limit", s.PublishTimeout)
}

func (s *Server) forget(nc net.Conn) {
	s.mu.Lock()
	delete(s.conns, nc)
	s.mu.Unlock()
	s.limit.Release(nc)
	s.wg.Done()
}

// ingestConn ends connections that stall (handshake included) and batches
// the reads of a streaming publisher.
type ingestConn struct {
	net.Conn
	timeout  time.Duration
	batch    time.Duration
	deadline time.Time
	lastRead time.Time
	quiet    *quietReader // nil: plain reads
	full     bool         // the last read filled the buffer: more may be queued
	sleep    func(time.Duration)
	// beforeRead runs when everything read so far has been handled: the
	// end of a batch.
	beforeRead func()
}

// batchMinRead is the smallest read that may wait for a batch: the buffered
// reader's refills are large, the handshake's exact reads are small.
const batchMinRead = 4096

func (c *ingestConn) Read(p []byte) (int, error) {
	c.beforeRead()
	now := time.Now()
	if c.batch > 0 && len(p) >= batchMinRead && now.Sub(c.lastRead) < c.batch && !c.full {
		// Wake on the next multiple of the batch on the wall clock: every
		// publisher then wakes at the same instants, and the runtime serves
		// them all from one thread wake-up. A read that filled the buffer
		// is followed at once: a publisher sending more than a buffer per
		// batch is not held back.
		wait := c.batch - time.Duration(now.UnixNano()%int64(c.batch))
		c.sleep(wait)
		now = now.Add(wait)
	}
	// Moving the deadline costs a timer update: do it at most once a second.
	if now.Sub(c.deadline) > time.Second {
		c.deadline = now
		if err := c.SetReadDeadline(now.Add(c.timeout)); err != nil {
			return 0, err
		}
	}
	var n int
	var err error
	if c.quiet != nil {
		n, err = c.quiet.Read(p)
	} else {
		n, err = c.Conn.Read(p)
	}
	c.full = n == len(p)
	c.lastRead = time.Now()
	return n, err
}
