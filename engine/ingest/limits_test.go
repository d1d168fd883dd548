package ingest

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

// closedWithin reports whether the server closes c within d, reading (and
// discarding) whatever it sends meanwhile.
func closedWithin(t *testing.T, c net.Conn, d time.Duration) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return false
	}
	return true
}

// A client that sends its handshake one byte at a time never reaches
// publish: the connection is closed when PublishTimeout is over, although
// it is never quiet for as long as ReadTimeout.
func TestSlowHandshakeClosedAtPublishTimeout(t *testing.T) {
	s := &Server{Address: "127.0.0.1:0", Authorizer: keys{}, PublishTimeout: 500 * time.Millisecond,
		ReadTimeout: 2 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		closedWithin(t, c, 10*time.Second)
		closed <- time.Since(start)
	}()
	// C0 then C1 (1536 bytes), one byte every 100 ms: the handshake would
	// take two and a half minutes.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	b := []byte{3}
	for {
		select {
		case d := <-closed:
			if d > 3*time.Second {
				t.Fatalf("closed after %v, want about the 500 ms publish timeout", d)
			}
			return
		case <-tick.C:
			c.Write(b)
			b[0] = 0
		case <-time.After(10 * time.Second):
			t.Fatal("slow handshake still open after 10 s")
		}
	}
}

// Connections over the per-address cap are closed at once; the ones
// within it stay; a closed one frees its place; a publisher keeps working
// beside them.
func TestConnectionCapPerHost(t *testing.T) {
	rec := &recorder{}
	s := &Server{Address: "127.0.0.1:0", Authorizer: keys{"k": rec}, MaxConnsPerHost: 3, MaxConns: 100,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	addr := s.Addr().String()
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	pub, err := dial(t, addr, AppName, "k") // the third connection
	if err != nil {
		t.Fatalf("publisher within the cap refused: %v", err)
	}
	over, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	if !closedWithin(t, over, 2*time.Second) {
		t.Fatal("a fourth connection from one address was not closed")
	}
	for _, c := range idle {
		if closedWithin(t, c, 100*time.Millisecond) {
			t.Fatal("a connection within the cap was closed")
		}
	}
	idle[0].Close()
	// The server notices the close when its handshake read fails.
	deadline := time.Now().Add(2 * time.Second)
	for s.limit.Open() > 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	again, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if closedWithin(t, again, 200*time.Millisecond) {
		t.Fatal("a connection was refused after another one closed")
	}
	tags := readTags(t, mediatest.Small.Path(t))
	for _, tg := range tags[:100] {
		if err := pub.send(tg.Video, tg.Timestamp, tg.Body); err != nil {
			t.Fatalf("publisher: %v", err)
		}
	}
	deadline = time.Now().Add(5 * time.Second)
	for rec.count() < 90 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := rec.count(); n < 90 {
		t.Fatalf("publisher delivered %d of ~100 units beside the refused connections", n)
	}
}

// Close right after Start returns, before the serving goroutine has begun:
// the listener must still be closed and Close must return.
func TestCloseRightAfterStart(t *testing.T) {
	for i := range 300 {
		s := &Server{Address: "127.0.0.1:0", Authorizer: keys{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { s.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Close did not return (round %d): the listener was left accepting", i)
		}
	}
}
