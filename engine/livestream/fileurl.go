package livestream

import (
	"net/url"
	"path/filepath"
	"strings"
)

// FileURL is the file: URL of a local path as the system's opener takes it
// (Explorer, Finder, xdg-open): file:///home/… and, on Windows,
// file:///C:/Users/… — a path with a drive letter is not a host name.
func FileURL(path string) *url.URL {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return &url.URL{Scheme: "file", Path: p}
}
