//go:build unix

package archive

import (
	"os"

	"golang.org/x/sys/unix"
)

// maxIovecs stays under every system's IOV_MAX (1024).
const maxIovecs = 1000

// writeBuffers writes bufs to f in order with as few system calls as
// possible (writev), finishing a short write piece by piece.
func writeBuffers(f *os.File, bufs [][]byte) (int64, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return writeEach(f, bufs)
	}
	var total int64
	for len(bufs) > 0 {
		chunk := bufs[:min(len(bufs), maxIovecs)]
		want := 0
		for _, b := range chunk {
			want += len(b)
		}
		var n int
		var werr error
		if err := rc.Write(func(fd uintptr) bool {
			n, werr = unix.Writev(int(fd), chunk)
			return werr != unix.EAGAIN
		}); err != nil {
			return total, err
		}
		if werr != nil {
			return total, werr
		}
		total += int64(n)
		if n < want { // a short write: the rest one by one
			rest := skip(chunk, n)
			m, err := writeEach(f, rest)
			total += m
			if err != nil {
				return total, err
			}
		}
		bufs = bufs[len(chunk):]
	}
	return total, nil
}

// skip drops the first n bytes of bufs.
func skip(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if len(bufs) > 0 {
		bufs = append([][]byte{bufs[0][n:]}, bufs[1:]...)
	}
	return bufs
}
