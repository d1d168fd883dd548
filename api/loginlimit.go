package api

import (
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Failed logins from one address are slowed: after loginFailures within
// loginWindow, that address gets 429 for loginBlock, whatever it sends.
const (
	loginFailures = 10
	loginWindow   = time.Minute
	loginBlock    = 30 * time.Second
)

// loginLimiter counts failed logins per address.
type loginLimiter struct {
	mu    sync.Mutex
	addrs map[string]*loginRecord
}

type loginRecord struct {
	fails   int
	first   time.Time
	blocked time.Time // until
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// blocked tells how long the address must wait, or 0.
func (l *loginLimiter) blocked(addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rec := l.addrs[addr]; rec != nil && now.Before(rec.blocked) {
		return rec.blocked.Sub(now)
	}
	return 0
}

// failed counts a failed login; it returns true when the address is now
// blocked (and was not before).
func (l *loginLimiter) failed(addr string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.addrs == nil {
		l.addrs = map[string]*loginRecord{}
	}
	if len(l.addrs) > 10000 { // forget the old ones rather than grow
		for k, rec := range l.addrs {
			if now.Sub(rec.first) > loginWindow && now.After(rec.blocked) {
				delete(l.addrs, k)
			}
		}
	}
	rec := l.addrs[addr]
	if rec == nil || now.Sub(rec.first) > loginWindow {
		rec = &loginRecord{first: now}
		l.addrs[addr] = rec
	}
	rec.fails++
	if rec.fails >= loginFailures && now.After(rec.blocked) {
		rec.blocked = now.Add(loginBlock)
		rec.fails, rec.first = 0, now
		return true
	}
	return false
}

// succeeded forgets the address's failures.
func (l *loginLimiter) succeeded(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.addrs, addr)
}

// tooMany answers 429 with Retry-After.
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := int(wait/time.Second) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.fail(w, r, http.StatusTooManyRequests, "too many failed logins from this address; try again in "+strconv.Itoa(secs)+" s")
}

// logBlocked logs an address that is now slowed, without what it sent.
func (s *Server) logBlocked(r *http.Request, addr string) {
	s.Logger.Warn("failed API logins: address slowed", slog.String("remote", addr), slog.Int("failures", loginFailures),
		slog.Duration("within", loginWindow), slog.Duration("blocked_for", loginBlock), slog.String("path", r.URL.Path))
}
