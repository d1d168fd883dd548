package studio

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

// The API's extra host names come from the listen address's name and the
// allowed_hosts setting the window saves.
func TestAllowedHosts(t *testing.T) {
	setting := " studio.local, ,my-pc.lan "
	if got := allowedHosts(setting, "studio-box:8935"); strings.Join(got, "|") != "studio-box|studio.local|my-pc.lan" {
		t.Fatalf("%q", got)
	}
	if got := allowedHosts(setting, "0.0.0.0:8935"); strings.Join(got, "|") != "studio.local|my-pc.lan" {
		t.Fatalf("with an IP listen address: %q", got)
	}
}
