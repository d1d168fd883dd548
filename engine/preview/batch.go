package preview

import (
	"net"
	"net/netip"
	"runtime"
	"sync"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// batchConn is the preview's UDP socket with its writes gathered: every
// viewer of a stream sends the same frame at once, each frame many RTP
// packets, so one sendmmsg carries what took a sendto each — the largest
// cost of a viewer was that system call per packet. A write copies the
// datagram and queues it (in order; a full queue makes the writer wait);
// one goroutine sends what is queued in batches of up to maxBatch. Reads
// go straight to the socket. Linux only: elsewhere the socket is used as
// it is.
type batchConn struct {
	*net.UDPConn
	send  func([]ipv4.Message) (int, error)
	q     chan datagram
	done  chan struct{}
	stop  sync.Once
	wg    sync.WaitGroup
	bufs  sync.Pool
	msgs  []ipv4.Message // the sender's, reused
	batch []datagram
	addrs map[netip.AddrPort]*net.UDPAddr // the sender's: one per peer, not one per packet
}

// datagram is one queued write.
type datagram struct {
	b  *[]byte
	n  int
	to netip.AddrPort
}

const (
	maxBatch   = 64
	queuedMost = 1024
)

// batched wraps c when the system sends batches (Linux); otherwise it
// returns c.
func batched(c net.PacketConn) net.PacketConn {
	uc, ok := c.(*net.UDPConn)
	if !ok || runtime.GOOS != "linux" {
		return c
	}
	b := &batchConn{UDPConn: uc, q: make(chan datagram, queuedMost), done: make(chan struct{}),
		msgs: make([]ipv4.Message, maxBatch), batch: make([]datagram, 0, maxBatch), addrs: map[netip.AddrPort]*net.UDPAddr{}}
	b.bufs.New = func() any { s := make([]byte, 0, 1500); return &s }
	if la, ok := uc.LocalAddr().(*net.UDPAddr); ok && la.IP.To4() == nil && !la.IP.IsUnspecified() {
		p := ipv6.NewPacketConn(uc)
		b.send = func(m []ipv4.Message) (int, error) { return p.WriteBatch(m, 0) }
	} else {
		p := ipv4.NewPacketConn(uc)
		b.send = func(m []ipv4.Message) (int, error) { return p.WriteBatch(m, 0) }
	}
	for i := range b.msgs {
		b.msgs[i].Buffers = make([][]byte, 1)
	}
	b.wg.Go(b.run)
	return b
}

// WriteToAddrPort queues b for addr (pion's ICE mux writes through it).
func (b *batchConn) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	select {
	case <-b.done:
		return 0, net.ErrClosed
	default:
	}
	bp := b.bufs.Get().(*[]byte)
	*bp = append((*bp)[:0], p...)
	select {
	case b.q <- datagram{b: bp, n: len(p), to: addr}:
		return len(p), nil
	case <-b.done:
		return 0, net.ErrClosed
	}
}

// ReadFromAddrPort reads from the socket.
func (b *batchConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	return b.ReadFromUDPAddrPort(p)
}

// WriteTo queues p for addr.
func (b *batchConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return b.UDPConn.WriteTo(p, addr)
	}
	return b.WriteToAddrPort(p, ua.AddrPort())
}

// Close stops the sender (what is still queued is dropped, as a closing
// socket would) and closes the socket.
func (b *batchConn) Close() error {
	b.stop.Do(func() { close(b.done) })
	b.wg.Wait()
	return b.UDPConn.Close()
}

// run sends what is queued: it waits for one datagram, takes whatever else
// is waiting (up to maxBatch), and sends them with one system call.
func (b *batchConn) run() {
	for {
		select {
		case d := <-b.q:
			b.batch = append(b.batch[:0], d)
		case <-b.done:
			return
		}
	more:
		for len(b.batch) < maxBatch {
			select {
			case d := <-b.q:
				b.batch = append(b.batch, d)
			default:
				break more
			}
		}
		m := b.msgs[:len(b.batch)]
		for i, d := range b.batch {
			m[i].Buffers[0] = (*d.b)[:d.n]
			m[i].Addr = b.addr(d.to)
		}
		for sent := 0; sent < len(m); {
			n, err := b.send(m[sent:])
			if err != nil {
				// As a datagram lost on the way: the peer asks again (NACK)
				// or the session ends when its peer is gone. Skip the one
				// that failed, send the rest.
				n = max(n, 1)
			}
			sent += n
		}
		for _, d := range b.batch {
			b.bufs.Put(d.b)
		}
	}
}

// addr is to as the *net.UDPAddr the batch wants, made once per peer (the
// map is the sender's alone; it starts over past maxPeers addresses).
func (b *batchConn) addr(to netip.AddrPort) *net.UDPAddr {
	if a, ok := b.addrs[to]; ok {
		return a
	}
	if len(b.addrs) >= maxPeers {
		clear(b.addrs)
	}
	a := net.UDPAddrFromAddrPort(to)
	b.addrs[to] = a
	return a
}

// maxPeers bounds the sender's addresses (the studio holds at most 100
// preview sessions).
const maxPeers = 256
