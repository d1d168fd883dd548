// Package shareopen opens files for reading that the studio may delete
// while they are read: an HLS segment leaving the playlist while a viewer
// still downloads it, a recording deleted while it plays. Unix allows that
// with any open file; Windows only when the reader opened it sharing
// deletion (FILE_SHARE_DELETE), which os.Open does not ask for.
package shareopen

import "os"

// Open opens path for reading; others may delete or rename it meanwhile.
func Open(path string) (*os.File, error) { return open(path) }
