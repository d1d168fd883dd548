package main

import (
	"net"
	"strings"
	"testing"
)

// A taken port is reported as taken, naming the flag, on every system: the
// listen error is the system's own (WSAEADDRINUSE on Windows).
func TestTakenPortNamesTheFlag(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = listen(ln.Addr().String(), "--http")
	if err == nil {
		t.Fatal("listening twice on one port succeeded")
	}
	if !isAddrInUse(err) || !strings.Contains(err.Error(), "already taken") || !strings.Contains(err.Error(), "--http") {
		t.Fatalf("error %q", err)
	}
}
