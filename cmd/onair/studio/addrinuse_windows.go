package studio

import (
	"errors"

	"golang.org/x/sys/windows"
)

// isAddrInUse reports whether err says the port is taken. Windows answers
// WSAEADDRINUSE, which syscall.EADDRINUSE does not match there.
func isAddrInUse(err error) bool {
	return errors.Is(err, windows.WSAEADDRINUSE)
}
