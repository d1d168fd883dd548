package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/onair-studio/onair/engine/livestream"
)

// Paging limits.
const (
	defaultMaxResults = 10
	maxMaxResults     = 500
)

type page struct {
	Items      any    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
	Total      int    `json:"total_count"`
}

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
	s.reply(w, http.StatusCreated, viewStream(st))
}

func (s *Server) listStreams(w http.ResponseWriter, r *http.Request) {
	limit, after, ok := s.paging(w, r)
	if !ok {
		return
	}
	all, err := s.Engine.List()
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	start := 0
	if after != "" {
		start = len(all)
		for i, st := range all {
			if cursorOf(st) == after {
				start = i + 1
				break
			}
			// The cursor's stream may have been deleted: continue after
			// where it would stand (newest first, then id).
			if cursorAfter(after, st) {
				start = i
				break
			}
		}
	}
	end := min(start+limit, len(all))
	items := make([]streamView, 0, end-start)
	for _, st := range all[start:end] {
		items = append(items, viewStream(st))
	}
	pg := page{Items: items, Total: len(all)}
	if end < len(all) {
		pg.NextCursor = encodeCursor(cursorOf(all[end-1]))
	}
	s.reply(w, http.StatusOK, pg)
}

// paging reads max_results and next_cursor.
func (s *Server) paging(w http.ResponseWriter, r *http.Request) (limit int, after string, ok bool) {
	q := r.URL.Query()
	limit = defaultMaxResults
	if v := q.Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxMaxResults {
			s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("max_results: must be a whole number from 1 to %d, got %s", maxMaxResults, quote(v)))
			return 0, "", false
		}
		limit = n
	}
	if v := q.Get("next_cursor"); v != "" {
		c, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || !validCursor(string(c)) {
			s.fail(w, r, http.StatusBadRequest, "next_cursor: not a cursor this API returned")
			return 0, "", false
		}
		after = string(c)
	}
	return limit, after, true
}

// A cursor is "<created_at millis, 15 digits>:<id>": it sorts like the list.
func cursorOf(st livestream.StreamState) string {
	return fmt.Sprintf("%015d:%s", st.CreatedAt.UnixMilli(), st.ID)
}

func validCursor(c string) bool {
	ms, id, ok := strings.Cut(c, ":")
	if !ok || len(ms) != 15 || !livestream.IsID(id) {
		return false
	}
	_, err := strconv.ParseUint(ms, 10, 64)
	return err == nil
}

// cursorAfter reports whether st comes after the cursor in list order
// (newest first, then by id).
func cursorAfter(cursor string, st livestream.StreamState) bool {
	c := cursorOf(st)
	cms, cid, _ := strings.Cut(cursor, ":")
	sms, sid, _ := strings.Cut(c, ":")
	if sms != cms {
		return sms < cms
	}
	return sid > cid
}

func encodeCursor(c string) string { return base64.RawURLEncoding.EncodeToString([]byte(c)) }

// streamCall answers with the live stream f returns for the path's id.
func (s *Server) streamCall(w http.ResponseWriter, r *http.Request, f func(id string) (livestream.StreamState, error)) {
	id, ok := s.idParam(w, r, "id", "live stream")
	if !ok {
		return
	}
	st, err := f(id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.reply(w, http.StatusOK, viewStream(st))
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
	st, err := s.Engine.Get(id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	items := make([]outputView, 0, len(st.Outputs))
	for _, o := range st.Outputs {
		items = append(items, viewOutput(o))
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
	s.reply(w, http.StatusCreated, viewOutput(o))
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
	o, err := f()
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.reply(w, http.StatusOK, viewOutput(o))
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
