package preview

import (
	"errors"
	"net"
	"runtime"
	"testing"
	"time"
)

// Datagrams written through the batching socket all arrive, whole and in
// order (the receiver is a plain UDP socket on loopback); after Close a
// write fails.
func TestBatchedWritesArriveInOrder(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("batches are sent on Linux only")
	}
	recv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	recv.SetReadBuffer(4 << 20)
	sock, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := batched(sock)
	bc, ok := c.(*batchConn)
	if !ok {
		t.Fatalf("batched returned %T", c)
	}
	to := recv.LocalAddr().(*net.UDPAddr).AddrPort()
	const n = 500
	for i := range n {
		p := make([]byte, 100+i%1100)
		p[0], p[1] = byte(i>>8), byte(i)
		if i%2 == 0 {
			_, err = bc.WriteToAddrPort(p, to)
		} else {
			_, err = bc.WriteTo(p, recv.LocalAddr())
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 2048)
	recv.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := range n {
		m, _, err := recv.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		if got := int(buf[0])<<8 | int(buf[1]); got != i || m != 100+i%1100 {
			t.Fatalf("datagram %d arrived as number %d of %d bytes", i, got, m)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := bc.WriteToAddrPort([]byte{1}, to); !errors.Is(err, net.ErrClosed) {
		t.Errorf("a write after Close: %v", err)
	}
}
