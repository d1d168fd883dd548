// Package assets holds the files the studio ships inside its binary: the
// application icon (and, as they come, the watch and preview web pages).
package assets

import _ "embed"

// Icon is the application icon, a 256×256 PNG.
//
//go:embed icon.png
var Icon []byte
