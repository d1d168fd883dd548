package ingest

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// quietLowat is the receive low-water mark while a publisher's socket is
// not being waited on: far above what arrives between two batched reads, so
// the kernel does not wake the runtime's poller for every packet. (It also
// becomes the socket's receive window clamp: 2 MiB lets 300 Mbit/s through
// at the 50 ms read interval.)
const quietLowat = 2 << 20

// quietReader reads a TCP socket whose reads are batched on a timer. A
// publisher sends a packet or two per frame; by default each arrival wakes
// the runtime's poller even though nothing waits for it (the reader is
// asleep until the next batch). While the reader sleeps, SO_RCVLOWAT is
// raised so arrivals stay silent; when a read finds nothing queued it is
// lowered to one byte before waiting, so waits end as soon as data comes.
// Deadlines set on the connection still apply to the waits.
type quietReader struct {
	raw      syscall.RawConn
	high     bool // the low-water mark is raised
	disabled bool // the socket refused the option: plain reads
}

func newQuietReader(nc net.Conn) *quietReader {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return &quietReader{raw: raw}
}

func (q *quietReader) setLowat(fd uintptr, v int) {
	if q.disabled {
		return
	}
	if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, v); err != nil {
		q.disabled = true
		return
	}
	q.high = v > 1
}

// Read reads what is queued, or waits for the first byte.
func (q *quietReader) Read(p []byte) (int, error) {
	var n int
	var rerr error
	err := q.raw.Read(func(fd uintptr) bool {
		for {
			n, rerr = rawRead(fd, p)
			if !errors.Is(rerr, unix.EINTR) {
				break
			}
		}
		if errors.Is(rerr, unix.EAGAIN) {
			if q.high {
				q.setLowat(fd, 1) // wake on the next byte
			}
			return false
		}
		if rerr == nil && n > 0 && !q.high {
			q.setLowat(fd, quietLowat) // quiet until the next read
		}
		return true
	})
	switch {
	case err != nil:
		return 0, err
	case rerr != nil:
		return 0, os.NewSyscallError("read", rerr)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// rawRead reads a non-blocking socket without telling the runtime it
// enters a system call: the call cannot block, and entering one wakes the
// runtime's monitor thread (sysmon) after every idle spell.
func rawRead(fd uintptr, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
