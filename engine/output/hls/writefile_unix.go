//go:build unix

package hls

import (
	"os"

	"golang.org/x/sys/unix"
)

// writeFile writes bufs to a new file with as few system calls as possible.
func writeFile(path string, bufs [][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	fd := int(f.Fd())
	for len(bufs) > 0 {
		n, err := unix.Writev(fd, bufs)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			f.Close()
			return err
		}
		for n > 0 && len(bufs) > 0 {
			if n >= len(bufs[0]) {
				n -= len(bufs[0])
				bufs = bufs[1:]
			} else {
				bufs[0] = bufs[0][n:]
				n = 0
			}
		}
		for len(bufs) > 0 && len(bufs[0]) == 0 {
			bufs = bufs[1:]
		}
	}
	return f.Close()
}
