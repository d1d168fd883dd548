//go:build !unix

package hls

import "os"

// writeFile writes bufs to a new file, one write each (writev is Unix only).
func writeFile(path string, bufs [][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	for _, b := range bufs {
		if _, err := f.Write(b); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
