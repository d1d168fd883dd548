// Package netlimit caps the connections a server holds open, in total and
// per remote host, so that one client (or many idle sockets) cannot use up
// the studio's file descriptors and memory. Connections over a cap are
// closed as soon as they are accepted; refusals are logged at most once per
// interval, with a count.
package netlimit

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Limiter counts open connections. Connections come in through the
// listener Listen returns and leave through Release, which the server calls
// when it has closed one.
type Limiter struct {
	//
	// parameters
	//
	// Max is the most connections open at once. 0 means no limit.
	Max int
	// MaxPerHost is the most connections open at once from one remote IP
	// address. 0 means no limit.
	MaxPerHost int
	// Name says what is limited in log lines, e.g. "RTMP" or "HTTP".
	Name string
	// LogEvery is the shortest time between two log lines about refused
	// connections. It defaults to 10 s.
	LogEvery time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	//
	// private
	//
	mu      sync.Mutex
	open    map[net.Conn]string
	perHost map[string]int
	total   uint64 // refused, ever
	log     *RateLog
	once    sync.Once
}

func (l *Limiter) init() {
	l.once.Do(func() {
		if l.LogEvery == 0 {
			l.LogEvery = 10 * time.Second
		}
		if l.Logger == nil {
			l.Logger = slog.Default()
		}
		if l.Name == "" {
			l.Name = "server"
		}
		l.log = &RateLog{Every: l.LogEvery, Logger: l.Logger}
		l.open = map[net.Conn]string{}
		l.perHost = map[string]int{}
	})
}

// Listen returns ln with the limits applied to what it accepts.
func (l *Limiter) Listen(ln net.Listener) net.Listener {
	l.init()
	return &listener{Listener: ln, l: l}
}

// Release forgets c; calling it again, or for a connection the limiter
// never admitted, does nothing.
func (l *Limiter) Release(c net.Conn) {
	l.init()
	l.mu.Lock()
	defer l.mu.Unlock()
	host, ok := l.open[c]
	if !ok {
		return
	}
	delete(l.open, c)
	if l.perHost[host]--; l.perHost[host] <= 0 {
		delete(l.perHost, host)
	}
}

// Open returns how many admitted connections are open.
func (l *Limiter) Open() int {
	l.init()
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.open)
}

// Refused returns how many connections were refused since the start.
func (l *Limiter) Refused() uint64 {
	l.init()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// admit registers c unless a cap is reached.
func (l *Limiter) admit(c net.Conn) bool {
	host := hostOf(c.RemoteAddr())
	l.mu.Lock()
	defer l.mu.Unlock()
	reason := ""
	switch {
	case l.Max > 0 && len(l.open) >= l.Max:
		reason = "the studio's connection limit is reached"
	case l.MaxPerHost > 0 && l.perHost[host] >= l.MaxPerHost:
		reason = "this address has too many connections open"
	}
	if reason == "" {
		l.open[c] = host
		l.perHost[host]++
		return true
	}
	l.total++
	l.log.Add(l.Name+" connection refused", "remote", host, "reason", reason,
		"open", len(l.open), "max", l.Max, "max_per_host", l.MaxPerHost)
	return false
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

type listener struct {
	net.Listener
	l *Limiter
}

// Accept returns the next connection within the limits; others are closed
// at once.
func (ln *listener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return nil, err
		}
		if ln.l.admit(c) {
			return c, nil
		}
		c.Close()
	}
}
