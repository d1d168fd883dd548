package ingest

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

func rcvLowat(t *testing.T, c net.Conn) int {
	t.Helper()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	raw.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT) })
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}

// primedQuietReader returns a loopback connection's ends and a quiet
// reader on the server end that has read one byte, so its low-water mark
// is raised.
func primedQuietReader(t *testing.T) (server, client net.Conn, q *quietReader) {
	t.Helper()
	server, client = tcpPair(t)
	if q = newQuietReader(server); q == nil {
		t.Fatal("no quiet reader for a TCP connection")
	}
	client.Write([]byte("a"))
	buf := make([]byte, 64)
	if n, err := q.Read(buf); err != nil || string(buf[:n]) != "a" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	return server, client, q
}

func TestQuietReaderRaisesLowatBetweenReads(t *testing.T) {
	server, _, _ := primedQuietReader(t)
	if got := rcvLowat(t, server); got < 1<<20 {
		t.Fatalf("SO_RCVLOWAT after a read = %d, want it raised", got)
	}
}

// A read that finds nothing queued must end with the next byte, not when
// the raised low-water mark is reached.
func TestQuietReaderWaitsForOneByte(t *testing.T) {
	server, client, q := primedQuietReader(t)
	buf := make([]byte, 64)
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	go func() {
		time.Sleep(50 * time.Millisecond)
		client.Write([]byte("b"))
	}()
	n, err := q.Read(buf)
	if err != nil || string(buf[:n]) != "b" {
		t.Fatalf("read %q, %v; want the single byte sent while waiting", buf[:n], err)
	}
	if got := rcvLowat(t, server); got < 1<<20 {
		t.Fatalf("SO_RCVLOWAT after the read = %d, want it raised again", got)
	}
}

func TestQuietReaderDeadlineAndEOF(t *testing.T) {
	server, client, q := primedQuietReader(t)
	buf := make([]byte, 64)
	server.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := q.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read with nothing sent until the deadline: %v, want a deadline error", err)
	}
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	client.Write([]byte("z"))
	client.Close()
	if n, err := q.Read(buf); err != nil || string(buf[:n]) != "z" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if _, err := q.Read(buf); !errors.Is(err, io.EOF) {
		t.Fatalf("read after the peer closed: %v, want EOF", err)
	}
}

func TestQuietReaderUnblocksOnClose(t *testing.T) {
	server, _, q := primedQuietReader(t)
	buf := make([]byte, 64)
	done := make(chan error, 1)
	go func() {
		_, err := q.Read(buf)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	server.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("read on a closed connection returned no error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("closing the connection did not end a waiting read")
	}
}

// A publisher that sends more than a read buffer per batch is read without
// waiting for the next batch, so its bitrate is not capped at one buffer per
// batch; one that sends less waits for the next batch.
func TestBatchedReadsFollowAFullBuffer(t *testing.T) {
	server, client := tcpPair(t)
	const bufSize = 64 * 1024
	var lastN, fullReads, waitsAfterFull, waits int
	c := &ingestConn{Conn: server, timeout: 5 * time.Second, batch: 50 * time.Millisecond,
		beforeRead: func() {}, quiet: newQuietReader(server),
		sleep: func(time.Duration) {
			waits++
			if lastN == bufSize {
				waitsAfterFull++
			}
		}}
	const total = 1 << 20
	go func() {
		client.Write(make([]byte, total))
		client.Write([]byte("end"))
	}()
	// Let a backlog build up: more than a buffer queued.
	for deadline := time.Now().Add(5 * time.Second); queued(t, server) < bufSize; {
		if time.Now().After(deadline) {
			t.Fatal("the writer queued less than a buffer in 5 s")
		}
		time.Sleep(time.Millisecond)
	}
	buf := make([]byte, bufSize)
	got := 0
	for got < total+3 {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got += n
		lastN = n
		if n == bufSize {
			fullReads++
		}
	}
	if fullReads == 0 {
		t.Fatal("no read filled the buffer: the test did not build a backlog")
	}
	if waitsAfterFull != 0 {
		t.Fatalf("%d batch waits right after a read that filled the buffer (%d full reads): a backlog was not read at once", waitsAfterFull, fullReads)
	}
	// Now nothing is queued: a read after a short one waits for the batch.
	for _, b := range []string{"x", "y"} {
		before, wasFull := waits, lastN == bufSize
		go client.Write([]byte(b))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		lastN = n
		if !wasFull && waits != before+1 {
			t.Fatalf("a read after a short one did not wait for the batch (%d waits)", waits-before)
		}
	}
}

// queued is how many bytes the socket has received and not yet been read.
func queued(t *testing.T, c net.Conn) int {
	t.Helper()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var qerr error
	raw.Control(func(fd uintptr) { n, qerr = unix.IoctlGetInt(int(fd), unix.SIOCINQ) })
	if qerr != nil {
		t.Fatal(qerr)
	}
	return n
}
