package api

import (
	"errors"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// Time limits of the HTTP server, per kind of request. Each is a
// connection deadline set when the request starts, so a client that sends
// slowly or stops reading is dropped when it runs out, whatever it does
// meanwhile.
const (
	// DefaultBodyTimeout bounds reading an API request's body.
	DefaultBodyTimeout = 30 * time.Second
	// DefaultResponseTimeout bounds writing an API answer.
	DefaultResponseTimeout = 30 * time.Second
	// DefaultEventWriteTimeout bounds writing one Server-Sent Event (or
	// keep-alive) to a subscriber; the stream itself has no end.
	DefaultEventWriteTimeout = 30 * time.Second
)

// errTimeout is what a body read answers once its deadline passed.
var errBodyTimeout = errors.New("reading the body took too long")

// setDeadlines sets the connection's read and write deadlines for this
// request. Errors (an HTTP/2 stream, a test recorder) are ignored: the
// server's own limits still apply there.
func setDeadlines(w http.ResponseWriter, read, write time.Duration) {
	rc := http.NewResponseController(w)
	now := time.Now()
	if read > 0 {
		_ = rc.SetReadDeadline(now.Add(read))
	}
	if write > 0 {
		_ = rc.SetWriteDeadline(now.Add(write))
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}

// allowedHost reports whether a request's Host header may reach the API.
// DNS rebinding makes a browser send a hostile page's own name in Host
// while it connects to the studio's address, so names are refused unless
// they are loopback names or listed; IP literals cannot be rebound and are
// allowed.
func (s *Server) allowedHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return false
	}
	if net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	for _, h := range s.AllowedHosts {
		if strings.EqualFold(strings.TrimSuffix(h, "."), host) {
			return true
		}
	}
	return false
}

// guard runs before authentication on every API route: the Host allow-list
// and the refusal of cross-site state changes.
func (s *Server) guard(w http.ResponseWriter, r *http.Request) bool {
	if !s.allowedHost(r.Host) {
		s.fail(w, r, http.StatusForbidden, "host "+quote(r.Host)+" is not one of this studio's names; add it to the allowed hosts to reach the API by that name")
		return false
	}
	if err := s.crossOrigin.Check(r); err != nil {
		s.fail(w, r, http.StatusForbidden, "cross-site request refused: the studio's API cannot be driven from another web site's page")
		return false
	}
	return true
}

// noBody checks a call that takes no body (activate, idle, reset): a
// content type other than JSON is refused, so an HTML form cannot send it,
// and a body must be empty or {}.
func (s *Server) noBody(w http.ResponseWriter, r *http.Request) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			s.fail(w, r, http.StatusUnsupportedMediaType, "this call takes no body; send no Content-Type or application/json, got "+quote(ct))
			return false
		}
	}
	if r.ContentLength == 0 {
		return true
	}
	var v struct{}
	body, ok := s.readBody(w, r)
	if !ok {
		return false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return true
	}
	if err := decodeStrict(body, &v); err != nil {
		s.fail(w, r, http.StatusBadRequest, "this call takes no body (or {}): "+err.Error())
		return false
	}
	return true
}
