package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// Paging limits.
const (
	defaultMaxResults = 10
	maxMaxResults     = 500
)

// idParam returns the path id, answering 404 itself when it cannot be one.
func (s *Server) idParam(w http.ResponseWriter, r *http.Request, name, what string) (string, bool) {
	id := r.PathValue(name)
	if !livestream.IsID(id) {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("%s %s: not found (ids are 32 lowercase hex characters)", what, quote(id)))
		return "", false
	}
	return id, true
}

func (s *Server) createStream(w http.ResponseWriter, r *http.Request) {
	var p livestream.CreateParams
	if !s.decode(w, r, &p) {
		return
	}
	st, err := s.Engine.Create(p)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	w.Header().Set("Location", r.URL.Path+"/"+st.ID)
	s.reply(w, http.StatusCreated, viewStream(st, false))
}

func (s *Server) listStreams(w http.ResponseWriter, r *http.Request) {
	limit, after, ok := s.paging(w, r)
	if !ok {
		return
	}
	reveal, ok := s.reveal(w, r)
	if !ok {
		return
	}
	got, total, more, err := s.Engine.ListPage(after, limit)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	// The page is written around the cached views of its streams; it has
	// the shape of page.
	b := append(make([]byte, 0, 1200*len(got)+100), `{"items":[`...)
	for i, st := range got {
		v, err := s.encodeStream(st, reveal)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, v...)
	}
	b = append(b, ']')
	if more && len(got) > 0 {
		last := got[len(got)-1]
		b = append(b, `,"next_cursor":"`...) // base64url: needs no escaping
		b = append(b, encodeCursor(livestream.ListPosition{CreatedAt: last.CreatedAt, ID: last.ID})...)
		b = append(b, '"')
	}
	b = append(b, `,"total_count":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, '}')
	s.replyRaw(w, http.StatusOK, b)
}

// paging reads max_results and next_cursor.
func (s *Server) paging(w http.ResponseWriter, r *http.Request) (limit int, after *livestream.ListPosition, ok bool) {
	return pageOf(s, w, r, decodeCursor)
}

// pageOf reads max_results and a next_cursor that decode reads.
func pageOf[P any](s *Server, w http.ResponseWriter, r *http.Request, decode func(string) (P, error)) (limit int, after *P, ok bool) {
	q := r.URL.Query()
	limit = defaultMaxResults
	if v := q.Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxMaxResults {
			s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("max_results: must be a whole number from 1 to %d, got %s", maxMaxResults, quote(v)))
			return 0, nil, false
		}
		limit = n
	}
	if v := q.Get("next_cursor"); v != "" {
		p, err := decode(v)
		if err != nil {
			s.fail(w, r, http.StatusBadRequest, "next_cursor: not a cursor this API returned")
			return 0, nil, false
		}
		after = &p
	}
	return limit, after, true
}

// A cursor is base64url of "<created_at millis, 15 digits>:<id>", the last
// stream of the page.
func encodeCursor(p livestream.ListPosition) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%015d:%s", p.CreatedAt.UnixMilli(), p.ID))
}

func decodeCursor(v string) (livestream.ListPosition, error) {
	at, id, err := splitCursor(v, livestream.IsID)
	return livestream.ListPosition{CreatedAt: at, ID: id}, err
}

// splitCursor reads base64url of "<millis, 15 digits>:<id>".
func splitCursor(v string, validID func(string) bool) (time.Time, string, error) {
	errBad := errors.New("not a cursor")
	c, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return time.Time{}, "", errBad
	}
	ms, id, ok := strings.Cut(string(c), ":")
	if !ok || len(ms) != 15 || !validID(id) {
		return time.Time{}, "", errBad
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, "", errBad
	}
	return time.UnixMilli(n).UTC(), id, nil
}

// encodeStream is a stream's JSON view: the cached one (destination keys
// masked), with the stats object while the stream is active.
func (s *Server) encodeStream(st livestream.StreamState, reveal bool) ([]byte, error) {
	var b []byte
	var err error
	if reveal {
		b, err = json.Marshal(viewStream(st, true))
	} else {
		b, err = s.views.encoded(st)
	}
	if err != nil || st.Status != livestream.StatusActive {
		return b, err
	}
	// Without stats (it went idle meanwhile) the view is still right.
	if stats, ok, serr := s.Engine.Stats(st.ID); serr == nil && ok {
		if p := s.preview(); p != nil {
			stats.PreviewViewers, stats.PreviewDelayMedian, stats.PreviewDelayP95 = p.StreamStats(st.ID)
		}
		return withStats(b, stats)
	}
	return b, nil
}

// streamCall answers with the live stream f returns for the path's id.
func (s *Server) streamCall(w http.ResponseWriter, r *http.Request, f func(id string) (livestream.StreamState, error)) {
	id, ok := s.idParam(w, r, "id", "live stream")
	if !ok {
		return
	}
	reveal, ok := s.reveal(w, r)
	if !ok {
		return
	}
	st, err := f(id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	b, err := s.encodeStream(st, reveal)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.replyRaw(w, http.StatusOK, b)
}

func (s *Server) getStream(w http.ResponseWriter, r *http.Request) {
	s.streamCall(w, r, s.Engine.Get)
}

func (s *Server) updateStream(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.idParam(w, r, "id", "live stream"); !ok {
		return
	}
	var p livestream.UpdateParams
	if !s.decode(w, r, &p) {
		return
	}
	s.streamCall(w, r, func(id string) (livestream.StreamState, error) { return s.Engine.Update(id, p) })
}

func (s *Server) deleteStream(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idParam(w, r, "id", "live stream")
	if !ok {
		return
	}
	if err := s.Engine.Delete(id); err != nil {
		s.failErr(w, r, err)
		return
	}
	s.reply(w, http.StatusOK, message{Message: "live stream " + id + " deleted; its recorded assets are kept"})
}

func (s *Server) activate(w http.ResponseWriter, r *http.Request) {
	s.lifecycle(w, r, s.Engine.Activate, "active: waiting for the encoder")
}

func (s *Server) idle(w http.ResponseWriter, r *http.Request) {
	s.lifecycle(w, r, s.Engine.Idle, "idle")
}

func (s *Server) lifecycle(w http.ResponseWriter, r *http.Request, f func(string) (livestream.StreamState, error), what string) {
	id, ok := s.idParam(w, r, "id", "live stream")
	if !ok || !s.noBody(w, r) {
		return
	}
	st, err := f(id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	msg := "live stream " + id + " is " + string(st.Status)
	if st.Status == livestream.StatusActive && !st.Publishing {
		msg = "live stream " + id + " is " + what
	}
	s.reply(w, http.StatusOK, message{Message: msg})
}

func (s *Server) resetKey(w http.ResponseWriter, r *http.Request) {
	if !s.noBody(w, r) {
		return
	}
	s.streamCall(w, r, s.Engine.ResetStreamKey)
}

func (s *Server) listOutputs(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idParam(w, r, "id", "live stream")
	if !ok {
		return
	}
	reveal, ok := s.reveal(w, r)
	if !ok {
		return
	}
	st, err := s.Engine.Get(id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	items := make([]outputView, 0, len(st.Outputs))
	for _, o := range st.Outputs {
		items = append(items, viewOutput(o, reveal))
	}
	s.reply(w, http.StatusOK, items)
}

func (s *Server) createOutput(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idParam(w, r, "id", "live stream")
	if !ok {
		return
	}
	var p livestream.OutputParams
	if !s.decode(w, r, &p) {
		return
	}
	o, err := s.Engine.CreateOutput(id, p)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	w.Header().Set("Location", r.URL.Path+"/"+o.ID)
	s.reply(w, http.StatusCreated, viewOutput(o, false))
}

// outputIDs reads the stream and output ids of the path, answering 404 itself.
func (s *Server) outputIDs(w http.ResponseWriter, r *http.Request) (id, oid string, ok bool) {
	if id, ok = s.idParam(w, r, "id", "live stream"); !ok {
		return "", "", false
	}
	if oid, ok = s.idParam(w, r, "oid", "output"); !ok {
		return "", "", false
	}
	return id, oid, true
}

// outputCall answers with the output f returns.
func (s *Server) outputCall(w http.ResponseWriter, r *http.Request, f func() (livestream.OutputState, error)) {
	reveal, ok := s.reveal(w, r)
	if !ok {
		return
	}
	o, err := f()
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.reply(w, http.StatusOK, viewOutput(o, reveal))
}

// reveal reads ?reveal=true, which shows destinations' stream keys.
func (s *Server) reveal(w http.ResponseWriter, r *http.Request) (bool, bool) {
	switch v := r.URL.Query().Get("reveal"); v {
	case "", "false":
		return false, true
	case "true":
		return true, true
	default:
		s.fail(w, r, http.StatusBadRequest, "reveal: must be true or false, got "+quote(v))
		return false, false
	}
}

func (s *Server) getOutput(w http.ResponseWriter, r *http.Request) {
	id, oid, ok := s.outputIDs(w, r)
	if !ok {
		return
	}
	s.outputCall(w, r, func() (livestream.OutputState, error) { return s.Engine.GetOutput(id, oid) })
}

func (s *Server) updateOutput(w http.ResponseWriter, r *http.Request) {
	id, oid, ok := s.outputIDs(w, r)
	if !ok {
		return
	}
	var p livestream.OutputParams
	if !s.decode(w, r, &p) {
		return
	}
	s.outputCall(w, r, func() (livestream.OutputState, error) { return s.Engine.UpdateOutput(id, oid, p) })
}

func (s *Server) deleteOutput(w http.ResponseWriter, r *http.Request) {
	id, oid, ok := s.outputIDs(w, r)
	if !ok {
		return
	}
	if err := s.Engine.DeleteOutput(id, oid); err != nil {
		s.failErr(w, r, err)
		return
	}
	s.reply(w, http.StatusOK, message{Message: "output " + oid + " deleted"})
}
