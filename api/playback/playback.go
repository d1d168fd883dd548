// Package playback is the studio's HTTP surface for viewers: the public
// HLS files (with CORS for web players), the watch page (HLS with hls.js),
// the preview page (WHEP; it asks for the API credentials or uses a minted
// token) and their scripts. Nothing here passes through the API's
// authentication or middleware; each request has its own time limits.
package playback

import (
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"
)

// DefaultHLSTimeout bounds an HLS request: a blocking playlist reload
// waits at most about three target durations, and a segment must reach
// the viewer within the rest.
const DefaultHLSTimeout = 60 * time.Second

// pageTimeout bounds serving a page or script.
const pageTimeout = 30 * time.Second

// Server serves what viewers fetch.
type Server struct {
	// Files are the pages and scripts (assets.Web()). Required.
	Files fs.FS
	// ValidID tells whether a path element may be a stream id. Required.
	ValidID func(string) bool
	// HLS returns the HLS output of an active stream, nil when there is
	// none (the engine's OutputHandler). Required.
	HLS func(id string) http.Handler
	// HLSTimeout bounds one HLS request, waiting included. It defaults to
	// DefaultHLSTimeout.
	HLSTimeout time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Register adds the routes to mux.
func (p *Server) Register(mux *http.ServeMux) {
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	if p.HLSTimeout <= 0 {
		p.HLSTimeout = DefaultHLSTimeout
	}
	mux.HandleFunc("/hls/{id}/{file}", p.hls)
	mux.HandleFunc("GET /watch/{id}", p.page("watch.html"))
	mux.HandleFunc("GET /preview/{id}", p.page("preview.html"))
	mux.HandleFunc("GET /web/{file...}", p.file)
}

// hls serves the public HLS files, with CORS for web players.
func (p *Server) hls(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Range, Origin, Accept")
	h.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range")
	switch r.Method {
	case http.MethodOptions:
		h.Set("Access-Control-Max-Age", "86400") // one preflight a day per player
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet, http.MethodHead:
	default:
		h.Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id := r.PathValue("id")
	if !p.ValidID(id) {
		h.Set("Cache-Control", "no-store") // an edge must not remember it: the stream may go live
		http.Error(w, "unknown live stream", http.StatusNotFound)
		return
	}
	// A viewer that stops reading is dropped when this runs out; the
	// request's context then ends any wait.
	deadlines(w, p.HLSTimeout)
	out := p.HLS(id)
	if out == nil {
		h.Set("Cache-Control", "no-store")
		http.Error(w, "live stream is idle or unknown", http.StatusNotFound)
		return
	}
	out.ServeHTTP(w, r)
}

// deadlines sets the connection's read and write deadlines for this
// request (net/http clears them after it).
func deadlines(w http.ResponseWriter, d time.Duration) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(d))
	_ = rc.SetWriteDeadline(time.Now().Add(d))
}

// policy lets a page load only the studio's own scripts and media; hls.js
// plays through blob: URLs and runs its worker from one.
const policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

func (p *Server) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		deadlines(w, pageTimeout)
		if !p.ValidID(r.PathValue("id")) {
			http.Error(w, "no such live stream", http.StatusNotFound)
			return
		}
		b, err := fs.ReadFile(p.Files, name)
		if err != nil {
			p.Logger.Error("reading an embedded page", "page", name, "error", err)
			http.Error(w, "page missing from this build", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", policy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		w.Write(b)
	}
}

// file serves a script or style sheet.
func (p *Server) file(w http.ResponseWriter, r *http.Request) {
	deadlines(w, pageTimeout)
	name := path.Clean(r.PathValue("file"))
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".html") || strings.HasSuffix(name, ".md") {
		http.NotFound(w, r)
		return
	}
	f, err := p.Files.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		if name == "dist/hls.min.js" {
			http.Error(w, "the watch page's player was not built into this studio: run make web, then build again", http.StatusNotFound)
			return
		}
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "cannot read "+name, http.StatusInternalServerError)
		return
	}
	defer func() { _ = f.Close() }()
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		http.Error(w, "cannot serve "+name, http.StatusInternalServerError)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, rs)
}
