//go:build unix

package writev

import (
	"os"

	"golang.org/x/sys/unix"
)

func write(f *os.File, bufs [][]byte) (int64, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return each(f, bufs)
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
		if werr == unix.EINTR {
			continue
		}
		if werr != nil {
			return total, werr
		}
		total += int64(n)
		if n < want { // a short write: the rest one by one
			m, err := each(f, skip(chunk, n))
			total += m
			if err != nil {
				return total, err
			}
		}
		bufs = bufs[len(chunk):]
	}
	return total, nil
}
