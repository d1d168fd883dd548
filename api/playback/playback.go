// Package playback is the studio's HTTP surface for viewers' browsers:
// the public watch page (HLS with hls.js), the preview page (WHEP; it asks
// for the API credentials or uses a minted token) and their scripts. It
// never passes through the API's authentication.
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

// Pages serves the web pages.
type Pages struct {
	// Files are the pages and scripts (assets.Web()). Required.
	Files fs.FS
	// ValidID tells whether a path element may be a stream id. Required.
	ValidID func(string) bool
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Register adds the pages' routes to mux.
func (p *Pages) Register(mux *http.ServeMux) {
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	mux.HandleFunc("GET /watch/{id}", p.page("watch.html"))
	mux.HandleFunc("GET /preview/{id}", p.page("preview.html"))
	mux.HandleFunc("GET /web/{file...}", p.file)
}

// policy lets a page load only the studio's own scripts and media; hls.js
// plays through blob: URLs and runs its worker from one.
const policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

func (p *Pages) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
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
func (p *Pages) file(w http.ResponseWriter, r *http.Request) {
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
