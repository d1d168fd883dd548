// Package writev writes a list of buffers to a file in order with as few
// system calls as the system allows (writev(2) on Unix, at most IOV_MAX
// buffers a call, a short write finished piece by piece; one write per
// buffer elsewhere). The buffers are not changed.
package writev

import "os"

// maxIovecs stays under every system's IOV_MAX (1024).
const maxIovecs = 1000

// Write writes bufs to f in order and returns the bytes written.
func Write(f *os.File, bufs [][]byte) (int64, error) { return write(f, bufs) }

// each writes the buffers one after the other.
func each(f *os.File, bufs [][]byte) (int64, error) {
	var n int64
	for _, b := range bufs {
		m, err := f.Write(b)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// skip returns bufs without their first n bytes, leaving bufs as it was.
func skip(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if len(bufs) > 0 && n > 0 {
		bufs = append([][]byte{bufs[0][n:]}, bufs[1:]...)
	}
	return bufs
}
