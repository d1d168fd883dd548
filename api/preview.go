package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// Preview is the WebRTC preview (WHEP).
type Preview interface {
	// Offer answers an SDP offer for the stream: the session's id and the answer.
	// owner is true for the API credentials; a guest (a preview token)
	// is told apart by guest, its token and address.
	Offer(ctx context.Context, streamID, offer string, owner bool, guest string) (sessionID, answer string, err error)
	// End closes a session of the stream.
	End(streamID, sessionID string) error
	// StreamStats returns the stream's preview viewers and the median and
	// 95th percentile of the time from ingest to RTP sent.
	StreamStats(streamID string) (viewers int, median, p95 time.Duration)
}

// preview is the running preview, nil when there is none.
func (s *Server) preview() Preview {
	if s.Preview == nil {
		return nil
	}
	return s.Preview()
}

// PreviewTokenTTL is how long a preview token lets its holder open a
// preview of one stream.
const PreviewTokenTTL = 10 * time.Minute

// NewPreviewToken mints a preview token of stream id with the API secret,
// valid for PreviewTokenTTL from now; the window uses it to open the
// browser preview.
func NewPreviewToken(secret, id string, now time.Time) (token string, expires time.Time) {
	exp := now.Add(PreviewTokenTTL).Truncate(time.Second)
	return previewToken(secret, id, exp), exp
}

// previewToken signs "stream id, expiry" with the API secret: a page can
// open the preview of that stream for a while without holding the
// secret, and rotating the secret voids every token.
func previewToken(secret, id string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("onair-preview\n" + id + "\n" + e))
	return e + "." + hex.EncodeToString(m.Sum(nil))
}

func (s *Server) validToken(tok, id string, now time.Time) bool {
	e, _, ok := strings.Cut(tok, ".")
	if !ok {
		return false
	}
	sec, err := strconv.ParseInt(e, 10, 64)
	if err != nil || now.Unix() > sec {
		return false
	}
	_, secret := s.Credentials()
	return hmac.Equal([]byte(tok), []byte(previewToken(secret, id, time.Unix(sec, 0))))
}

// previewAuthorized accepts the API credentials or a preview token of the
// stream (Authorization: Bearer TOKEN).
func (s *Server) previewAuthorized(w http.ResponseWriter, r *http.Request, id string) bool {
	return s.authorize(w, r, func(tok string) bool { return s.validToken(tok, id, time.Now()) })
}

type tokenView struct {
	Token      string `json:"token"`
	ExpiresAt  int64  `json:"expires_at"`
	PreviewURL string `json:"preview_url"`
}

// previewTokenCall mints a preview token of the stream.
func (s *Server) previewTokenCall(w http.ResponseWriter, r *http.Request) {
	if !s.noBody(w, r) {
		return
	}
	id := r.PathValue("id")
	if _, err := s.Engine.Get(id); err != nil {
		s.failErr(w, r, err)
		return
	}
	_, secret := s.Credentials()
	tok, exp := NewPreviewToken(secret, id, time.Now())
	s.reply(w, http.StatusCreated, tokenView{Token: tok, ExpiresAt: millis(exp), PreviewURL: "/preview/" + id + "#token=" + tok})
}

// previewCall runs the checks both WHEP routes share: host and origin,
// cloud name, method, credentials or token, and a running preview.
func (s *Server) previewCall(w http.ResponseWriter, r *http.Request, method, hint string) bool {
	if !s.guard(w, r) || !s.cloudOK(w, r) {
		return false
	}
	if r.Method != method {
		w.Header().Set("Allow", method)
		s.fail(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed here; "+hint)
		return false
	}
	if !s.previewAuthorized(w, r, r.PathValue("id")) {
		return false
	}
	if s.preview() == nil {
		msg := "the preview is not running in this studio"
		if why := s.down("preview"); why != "" {
			msg += ": " + why
		}
		s.fail(w, r, http.StatusServiceUnavailable, msg)
		return false
	}
	return true
}

// whep is the WHEP endpoint of a stream: POST an offer, get an answer.
func (s *Server) whep(w http.ResponseWriter, r *http.Request) {
	if !s.previewCall(w, r, http.MethodPost, "POST an SDP offer") {
		return
	}
	id := r.PathValue("id")
	if st, live, err := s.Engine.Stats(id); err == nil && live && st.VideoCodec != "" && st.VideoCodec != "h264" {
		s.fail(w, r, http.StatusConflict, livestream.NeedsH264(st.VideoCodec))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/sdp" {
		s.fail(w, r, http.StatusUnsupportedMediaType, "Content-Type must be application/sdp (a WHEP offer), got "+quote(r.Header.Get("Content-Type")))
		return
	}
	if _, err := s.Engine.Get(id); err != nil {
		s.failErr(w, r, err)
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	_, _, owner := r.BasicAuth() // authorized: Basic means the API credentials
	guest := ""
	if !owner {
		_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		guest = strings.TrimSpace(tok) + " " + clientAddr(r)
	}
	sid, answer, err := s.preview().Offer(ctx, id, string(body), owner, guest)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if st, live, err := s.Engine.Stats(id); err == nil && live && st.BFrames {
		w.Header().Set("X-OnAir-Warning", "the encoder sends B-frames, which the preview cannot show smoothly: in OBS set Output > Advanced > x264 options to bframes=0")
	}
	h := w.Header()
	h.Set("Location", "/v2/video/"+s.CloudName+"/live_streams/"+id+"/whep/"+sid)
	h.Set("Content-Type", "application/sdp")
	h.Set("Content-Length", strconv.Itoa(len(answer)))
	h.Set("Access-Control-Expose-Headers", "Location, X-OnAir-Warning")
	w.WriteHeader(http.StatusCreated)
	w.Write([]byte(answer))
}

// whepSession is a WHEP session's address: DELETE ends it. Trickle ICE
// (PATCH) is not offered: the answer carries every candidate.
func (s *Server) whepSession(w http.ResponseWriter, r *http.Request) {
	if !s.previewCall(w, r, http.MethodDelete, "DELETE ends the session (trickle ICE is not needed: the answer has every candidate)") {
		return
	}
	if err := s.preview().End(r.PathValue("id"), r.PathValue("sid")); err != nil {
		s.failErr(w, r, err)
		return
	}
	s.reply(w, http.StatusOK, message{Message: "preview session ended"})
}

// cloudOK checks the {cloud} path element.
func (s *Server) cloudOK(w http.ResponseWriter, r *http.Request) bool {
	if c := r.PathValue("cloud"); c != "" && c != s.CloudName {
		s.fail(w, r, http.StatusNotFound, "unknown cloud name "+quote(c)+"; this studio's is "+quote(s.CloudName))
		return false
	}
	return true
}
