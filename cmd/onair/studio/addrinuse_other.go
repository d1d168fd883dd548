//go:build !windows

package studio

import (
	"errors"
	"syscall"
)

// isAddrInUse reports whether err says the port is taken.
func isAddrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE)
}
