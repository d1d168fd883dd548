// Package assets holds the files the studio ships inside its binary: the
// application icon and the web pages viewers and operators open (the watch
// page with its HLS player, the preview page).
package assets

import (
	"embed"
	"io/fs"
)

// Icon is the application icon, a 256×256 PNG.
//
//go:embed icon.png
var Icon []byte

//go:embed web/*.html web/*.js web/*.css web/dist
var web embed.FS

// Web returns the web pages and scripts: watch.html, preview.html, their
// scripts and style, and dist/hls.min.js once `make web` has built it.
func Web() fs.FS {
	sub, err := fs.Sub(web, "web")
	if err != nil {
		panic(err) // the folder is embedded above
	}
	return sub
}
