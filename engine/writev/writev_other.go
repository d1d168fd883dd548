//go:build !unix

package writev

import "os"

func write(f *os.File, bufs [][]byte) (int64, error) { return each(f, bufs) }
