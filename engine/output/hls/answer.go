package hls

import (
	"context"
	"errors"
	"net/http"
	"strconv"
)

// Cache-Control by kind, so that a CDN or a caching proxy in front of the
// studio can serve viewers without configuration. Init sections, segments
// and parts have names unique to the session and never change.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheNever     = "no-store" // errors: "not yet" must not stick in an edge
)

// locked waits until ready (nil: at once) with the muxer's lock, then
// takes what an answer needs with take and releases the lock: the answer
// is written without it, so a slow client never holds the muxer.
func locked[T any](ctx context.Context, m *fmp4Muxer, ready func() bool, take func() (T, error)) (T, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ready != nil {
		if err := m.wait(ctx, ready); err != nil {
			var zero T
			return zero, err
		}
	}
	return take()
}

// fail answers an error that no edge should keep.
func fail(w http.ResponseWriter, err error) {
	w.Header().Set("Cache-Control", cacheNever)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		http.Error(w, "not available yet", http.StatusServiceUnavailable)
	case errors.Is(err, errGone):
		http.Error(w, "stream ended", http.StatusNotFound)
	case errors.Is(err, errBadRequest):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case errors.Is(err, errNotFound):
		http.Error(w, "not found", http.StatusNotFound)
	case ctxDone(err):
		// the client left: nothing to answer
	default:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

var (
	errBadRequest = errors.New("bad request")
	errNotFound   = errors.New("not found")
)

func ctxDone(err error) bool { return errors.Is(err, context.Canceled) }

// playlistAnswer is a playlist made under the lock, with how long an edge
// may keep it.
type playlistAnswer struct {
	body  []byte
	cache string
}

func writePlaylist(w http.ResponseWriter, a playlistAnswer) {
	h := w.Header()
	h.Set("Content-Type", "application/vnd.apple.mpegurl")
	h.Set("Cache-Control", a.cache)
	h.Set("Content-Length", strconv.Itoa(len(a.body))) // not chunked: playlists exceed net/http's 2 KiB buffer
	w.Write(a.body)
}
