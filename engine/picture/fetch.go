package picture

import (
	"compress/bzip2"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
)

// Download is Cisco's OpenH264 build for one system: where Cisco serves it
// (bzip2-compressed) and the SHA-256 of the library it decompresses to.
// Cisco's own binary is what its patent licence covers, which is why the
// studio fetches it rather than shipping one.
type Download struct {
	URL    string
	File   string // the library's file name once decompressed
	SHA256 string // hex
}

// maxLibrary bounds what a download may decompress to (Cisco's builds are
// 1 to 2 MB).
const maxLibrary = 32 << 20

// CiscoBuild is Cisco's OpenH264 2.4.1 for this computer; ok is false
// where the system's own package is the way (Linux: libopenh264-7) or
// Cisco has no build. The SHA-256 sums are those of Cisco's v2.4.1 release
// as other projects pin them (Ruffle; for Windows also Breeze).
func CiscoBuild() (d Download, ok bool) {
	const base = "http://ciscobinary.openh264.org/"
	switch runtime.GOOS + "/" + runtime.GOARCH {
	case "windows/amd64":
		d = Download{File: "openh264-2.4.1-win64.dll", SHA256: "081b0c081480d177cbfddfbc90b1613640e702f875897b30d8de195cde73dd34"}
	case "darwin/arm64":
		d = Download{File: "libopenh264-2.4.1-mac-arm64.dylib", SHA256: "213ff93831cfa3dd6d7ad0c3a3403a6ceedf4ac1341e1278b5b869d42fefb496"}
	case "darwin/amd64":
		d = Download{File: "libopenh264-2.4.1-mac-x64.dylib", SHA256: "cc0ba518a63791c37571f3c851f0aa03a4fbda5410acc214ecd4f24f8d1c478e"}
	default:
		return Download{}, false
	}
	d.URL = base + d.File + ".bz2"
	return d, true
}

// ErrChecksum tells that a library is not the one pinned.
var ErrChecksum = errors.New("the OpenH264 library's SHA-256 is not the pinned one")

// Fetch downloads d into dir and returns the library's path. The library
// is written to a temporary file and kept only when its SHA-256 is d's:
// otherwise nothing is kept (and nothing is loaded: Fetch never loads).
// A library already in dir with the right sum is not fetched again.
func Fetch(ctx context.Context, client *http.Client, d Download, dir string) (string, error) {
	path := filepath.Join(dir, d.File)
	if sum, err := fileSHA256(path); err == nil && sum == d.SHA256 {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("making the folder for OpenH264: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	if err != nil {
		return "", fmt.Errorf("downloading OpenH264: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("downloading OpenH264 from %s: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("downloading OpenH264 from %s: %s", req.URL.Host, resp.Status)
	}
	tmp, err := os.CreateTemp(dir, d.File+".*.part")
	if err != nil {
		return "", fmt.Errorf("saving OpenH264: %w", err)
	}
	defer os.Remove(tmp.Name()) // gone unless renamed
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(bzip2.NewReader(resp.Body), maxLibrary+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return "", fmt.Errorf("downloading OpenH264 from %s: %w", req.URL.Host, err)
	case n > maxLibrary:
		return "", fmt.Errorf("downloading OpenH264 from %s: more than %d MB: not a library", req.URL.Host, maxLibrary>>20)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != d.SHA256 {
		return "", fmt.Errorf("%w (%s from %s is %s, want %s): nothing was kept or loaded", ErrChecksum, d.File, req.URL.Host, sum, d.SHA256)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("saving OpenH264: %w", err)
	}
	return path, nil
}

// LoadFetched loads a library Fetch kept in dir, after checking its
// SHA-256 again (it is a file anyone with the user's rights could change).
func LoadFetched(d Download, dir string) error {
	path := filepath.Join(dir, d.File)
	sum, err := fileSHA256(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoDecoder, err)
	}
	if sum != d.SHA256 {
		return fmt.Errorf("%w (%s is %s, want %s): not loaded", ErrChecksum, path, sum, d.SHA256)
	}
	return loadFrom([]string{path})
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
