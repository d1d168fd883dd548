package api

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

type envelope struct {
	RequestID string    `json:"request_id"`
	Data      any       `json:"data,omitempty"`
	Error     *apiError `json:"error,omitempty"`
}

type apiError struct {
	Message string `json:"message"`
}

type message struct {
	Message string `json:"message"`
}

func requestID(w http.ResponseWriter) string {
	if id := w.Header().Get("X-Request-Id"); id != "" {
		return id
	}
	id := livestream.RandomHex(16)
	w.Header().Set("X-Request-Id", id)
	return id
}

func (s *Server) reply(w http.ResponseWriter, code int, data any) {
	s.write(w, code, envelope{RequestID: requestID(w), Data: data})
}

// replyRaw answers with data already encoded as JSON (cached views): the
// envelope is written around it, since encoding/json would scan and
// compact it again.
func (s *Server) replyRaw(w http.ResponseWriter, code int, data []byte) {
	id := requestID(w) // hex: needs no escaping
	b := make([]byte, 0, len(data)+len(id)+32)
	b = append(b, `{"request_id":"`...)
	b = append(b, id...)
	b = append(b, `","data":`...)
	b = append(b, data...)
	b = append(b, "}\n"...)
	send(w, code, b)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.write(w, code, envelope{RequestID: requestID(w), Error: &apiError{Message: msg}})
}

// write encodes the envelope and sends it.
func (s *Server) write(w http.ResponseWriter, code int, env envelope) {
	b, err := json.Marshal(env)
	if err != nil {
		s.Logger.Error("encoding an API answer", "error", err)
		code = http.StatusInternalServerError
		b = []byte(`{"request_id":"` + env.RequestID + `","error":{"message":"the studio could not encode its answer"}}`)
	}
	send(w, code, append(b, '\n'))
}

// send writes an encoded answer in one write with its length (not chunked).
func send(w http.ResponseWriter, code int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	w.Write(b)
}

// failErr maps an engine error to its status code.
func (s *Server) failErr(w http.ResponseWriter, r *http.Request, err error) {
	var ve *livestream.ValidationError
	switch {
	case errors.As(err, &ve):
		s.fail(w, r, http.StatusBadRequest, ve.Error())
	case errors.Is(err, livestream.ErrNotFound):
		s.fail(w, r, http.StatusNotFound, err.Error())
	case errors.Is(err, livestream.ErrConflict):
		s.fail(w, r, http.StatusConflict, err.Error())
	default:
		s.Logger.Error("API request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		s.fail(w, r, http.StatusServiceUnavailable, "the studio could not do this now: "+err.Error())
	}
}

// authorized checks HTTP Basic credentials in constant time.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	return s.authorize(w, r, nil)
}

// authorize checks the API credentials (HTTP Basic) or, when token is set
// and the request carries "Authorization: Bearer …", the token. Failures
// count against the address, each kind on its own: wrong or expired
// tokens (a stale preview tab) never slow down the right credentials, and
// a right token does not clear the count of wrong credentials.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, token func(string) bool) bool {
	addr := clientAddr(r)
	now := time.Now()
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	bearer := token != nil && strings.EqualFold(scheme, "Bearer")
	key, secret, basic := r.BasicAuth()
	challenge := `Basic realm="OnAir Studio", charset="UTF-8"`
	missing := "authentication required: HTTP Basic with the studio's API key and secret"
	if token != nil {
		challenge = `Bearer realm="OnAir Studio preview"`
		missing = "authentication required: the API key and secret (HTTP Basic) or a preview token (Bearer)"
	}
	var limit *loginLimiter
	var ok bool
	wrong := "wrong API key or secret"
	switch {
	case basic:
		limit = &s.logins
	case bearer:
		limit = &s.tokens
		wrong = "the preview token is wrong, for another stream, or expired (tokens last " + PreviewTokenTTL.String() + "); get a new one"
	default:
		w.Header().Set("WWW-Authenticate", challenge)
		s.fail(w, r, http.StatusUnauthorized, missing)
		return false
	}
	if wait := limit.blocked(addr, now); wait > 0 {
		s.tooMany(w, r, wait)
		return false
	}
	if basic {
		wantKey, wantSecret := s.Credentials()
		ok = equal(key, wantKey) && equal(secret, wantSecret)
	} else {
		ok = token(strings.TrimSpace(tok))
	}
	if ok {
		limit.succeeded(addr)
		return true
	}
	if limit.failed(addr, now) {
		s.logBlocked(r, addr)
	}
	w.Header().Set("WWW-Authenticate", challenge)
	s.fail(w, r, http.StatusUnauthorized, wrong)
	return false
}

func equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// decode reads a JSON body into v, answering the client itself on failure.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			s.fail(w, r, http.StatusUnsupportedMediaType, "Content-Type must be application/json, got "+quote(ct))
			return false
		}
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		s.fail(w, r, http.StatusBadRequest, "body: a JSON object is required")
		return false
	}
	if r.Header.Get("Content-Type") == "" {
		s.fail(w, r, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return false
	}
	if err := decodeStrict(body, v); err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return false
	}
	return true
}

// readBody reads the request body within MaxBodyBytes and the body's time
// limit, answering the client itself on failure. A body announced larger
// than the limit is refused before anything is read, so a client that
// sent "Expect: 100-continue" gets 413 instead of "100 Continue".
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > s.MaxBodyBytes {
		s.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", s.MaxBodyBytes))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			s.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", s.MaxBodyBytes))
		case isTimeout(err):
			// The answer's own deadline may have passed with the body's (both
			// start with the request): give the 408 a moment of its own.
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(5 * time.Second))
			w.Header().Set("Connection", "close")
			s.fail(w, r, http.StatusRequestTimeout, errBodyTimeout.Error()+fmt.Sprintf(" (limit %v)", s.BodyTimeout))
		default:
			s.fail(w, r, http.StatusBadRequest, "reading body: "+err.Error())
		}
		return nil, false
	}
	return body, true
}

func quote(s string) string { return strconv.Quote(s) }
