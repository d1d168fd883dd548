package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The log is rotated by size: writing 3.5 times the cap leaves the
// current file and at most logBackups older ones, none over the cap.
func TestLogRotates(t *testing.T) {
	dir := t.TempDir()
	w, err := openLogFile(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(strings.Repeat("x", 1023) + "\n")
	for range 3584 {
		if _, err := w.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	files, err := os.ReadDir(filepath.Join(dir, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 || len(files) > logBackups+1 {
		t.Fatalf("%d log files after 3.5 MB with a 1 MB cap: want 2..%d", len(files), logBackups+1)
	}
	for _, f := range files {
		fi, _ := f.Info()
		if fi.Size() > 1<<20 {
			t.Errorf("%s is %d bytes, over the 1 MB cap", f.Name(), fi.Size())
		}
	}
}
