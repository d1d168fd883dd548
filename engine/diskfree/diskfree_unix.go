//go:build unix

package diskfree

import "golang.org/x/sys/unix"

// Free returns the bytes an unprivileged user may still write on the
// disk holding dir.
func Free(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil //nolint:unconvert // Bsize is int64 on Linux, uint32 on macOS
}
