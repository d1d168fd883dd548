package api

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/onair-studio/onair/engine/library"
	"github.com/onair-studio/onair/engine/picture"
	"github.com/onair-studio/onair/engine/still"
)

// Stills are JPEG pictures of live streams and recordings.
type Stills interface {
	// Thumbnail is a JPEG of an active stream's newest key frame, width
	// pixels wide (0: the stream's size); an error wrapping
	// livestream.ErrConflict when the stream is idle.
	Thumbnail(id string, width int) ([]byte, error)
	// Poster is a JPEG of a recording: its poster (at < 0) or its picture
	// at a time from its start.
	Poster(publicID string, at time.Duration, width int) ([]byte, error)
}

// maxPictureTime bounds ?time= (a day: longer than any recording).
const maxPictureTime = 24 * time.Hour

// widthParam reads ?width= (0 when absent).
func (s *Server) widthParam(w http.ResponseWriter, r *http.Request) (int, bool) {
	v := r.URL.Query().Get("width")
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < still.MinWidth || n > still.MaxWidth {
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("width must be a whole number of pixels from %d to %d, not %s", still.MinWidth, still.MaxWidth, strconv.Quote(v)))
		return 0, false
	}
	return n, true
}

// thumbnail answers GET /live_streams/{id}/thumbnail.jpg: the newest key
// frame of an active stream.
func (s *Server) thumbnail(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idParam(w, r, "id", "live stream")
	if !ok {
		return
	}
	width, ok := s.widthParam(w, r)
	if !ok {
		return
	}
	if s.Stills == nil {
		s.fail(w, r, http.StatusServiceUnavailable, "this studio makes no pictures")
		return
	}
	b, err := s.Stills.Thumbnail(id, width)
	s.sendPicture(w, r, b, err)
}

// poster answers GET /assets/{pid}/poster.jpg: a recording's poster, or
// its picture at ?time= seconds.
func (s *Server) poster(w http.ResponseWriter, r *http.Request) {
	id, ok := s.assetID(w, r)
	if !ok {
		return
	}
	width, ok := s.widthParam(w, r)
	if !ok {
		return
	}
	at := time.Duration(-1)
	if v := r.URL.Query().Get("time"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > maxPictureTime.Seconds() {
			s.fail(w, r, http.StatusBadRequest, "time must be seconds from the recording's start (0 or more, for example 12.5), not "+strconv.Quote(v))
			return
		}
		at = time.Duration(f * float64(time.Second))
	}
	if s.Stills == nil {
		s.fail(w, r, http.StatusServiceUnavailable, "this studio makes no pictures")
		return
	}
	b, err := s.Stills.Poster(id, at, width)
	s.sendPicture(w, r, b, err)
}

// sendPicture answers with a JPEG, or with the error's status: 409 for a
// picture that cannot be made of this stream or recording, 400 for a time
// it does not have, 503 without a decoder.
func (s *Server) sendPicture(w http.ResponseWriter, r *http.Request, b []byte, err error) {
	switch {
	case errors.Is(err, still.ErrTime):
		s.fail(w, r, http.StatusBadRequest, "time: "+err.Error())
	case errors.Is(err, still.ErrNoPicture), errors.Is(err, still.ErrCodec), errors.Is(err, library.ErrOnlyRemote):
		s.fail(w, r, http.StatusConflict, err.Error())
	case errors.Is(err, picture.ErrNoDecoder):
		s.fail(w, r, http.StatusServiceUnavailable, err.Error())
	case err != nil:
		s.failErr(w, r, err)
	default:
		// A client that polls (a dashboard, the list of another studio)
		// gets 304 until the picture changes: a live stream's with its
		// next key frame.
		sum := fnv.New64a()
		sum.Write(b)
		etag := `"` + strconv.FormatUint(sum.Sum64(), 36) + `"`
		h := w.Header()
		h.Set("ETag", etag)
		h.Set("Cache-Control", "no-cache")
		if match := r.Header.Get("If-None-Match"); match != "" && (match == "*" || slices.Contains(strings.Split(strings.ReplaceAll(match, " ", ""), ","), etag)) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", "image/jpeg")
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(b)
		}
	}
}
