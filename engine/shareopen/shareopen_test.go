package shareopen

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A file open for reading can be deleted, and reads to its end after.
func TestDeleteWhileOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "segment 1 é.m4s")
	if err := os.WriteFile(path, []byte("moof mdat"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Remove(path); err != nil {
		t.Fatalf("deleting a file open for reading: %v", err)
	}
	b, err := io.ReadAll(f)
	if err != nil || string(b) != "moof mdat" {
		t.Fatalf("reading after the delete: %q %v", b, err)
	}
	if _, err := Open(path); !os.IsNotExist(err) {
		t.Errorf("opening a deleted file: %v", err)
	}
}
