package netlimit

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// serve accepts on ln until it closes and sends each accepted connection.
func serve(ln net.Listener) <-chan net.Conn {
	ch := make(chan net.Conn, 16)
	go func() {
		defer close(ch)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ch <- c
		}
	}()
	return ch
}

// refusedAtOnce reports whether the peer closes c within d.
func refusedAtOnce(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	ne, ok := errors.AsType[net.Error](err)
	return !ok || !ne.Timeout()
}

func TestCaps(t *testing.T) {
	for _, tc := range []struct {
		name      string
		max, host int
	}{
		{"total", 2, 0},
		{"per host", 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &Limiter{Max: tc.max, MaxPerHost: tc.host, Logger: quiet()}
			raw, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln := l.Listen(raw)
			defer ln.Close()
			accepted := serve(ln)
			var clients []net.Conn
			for range 3 {
				c, err := net.Dial("tcp", raw.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				clients = append(clients, c)
			}
			a := <-accepted
			<-accepted
			if !refusedAtOnce(clients[2], 2*time.Second) {
				t.Fatal("third connection not closed")
			}
			if refusedAtOnce(clients[0], 50*time.Millisecond) || refusedAtOnce(clients[1], 50*time.Millisecond) {
				t.Fatal("a connection within the cap was closed")
			}
			if l.Open() != 2 || l.Refused() != 1 {
				t.Fatalf("open %d refused %d, want 2 and 1", l.Open(), l.Refused())
			}
			a.Close()
			l.Release(a)
			l.Release(a) // twice is harmless
			c, err := net.Dial("tcp", raw.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			select {
			case <-accepted:
			case <-time.After(2 * time.Second):
				t.Fatal("no place freed by Release")
			}
			if l.Open() != 2 {
				t.Fatalf("open %d, want 2", l.Open())
			}
		})
	}
}

func TestHostOf(t *testing.T) {
	if h := hostOf(&net.TCPAddr{IP: net.ParseIP("::1"), Port: 5}); h != "::1" {
		t.Fatal(h)
	}
	if h := hostOf(&net.UnixAddr{Name: "x"}); h != "x" {
		t.Fatal(h)
	}
}

// A flood of refusals makes one line per interval, with the count.
func TestRateLog(t *testing.T) {
	var buf strings.Builder
	r := &RateLog{Every: 100 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	for range 1000 {
		r.Add("refused", "remote", "127.0.0.1")
	}
	time.Sleep(150 * time.Millisecond)
	r.Add("refused", "remote", "127.0.0.1")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "since_last_report=1") || !strings.HasSuffix(lines[1], "since_last_report=1000") {
		t.Fatalf("log:\n%s", buf.String())
	}
}
