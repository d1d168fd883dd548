//go:build !windows

package shareopen

import "os"

func open(path string) (*os.File, error) { return os.Open(path) }
