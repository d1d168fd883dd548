//go:build !unix

package archive

import "os"

// writeBuffers writes bufs to f in order.
func writeBuffers(f *os.File, bufs [][]byte) (int64, error) { return writeEach(f, bufs) }
