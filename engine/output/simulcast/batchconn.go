package simulcast

import (
	"net"
	"sync"
)

// maxBatch bounds the bytes a connection gathers before it writes.
const maxBatch = 256 << 10

// batchConn gathers what is written into one buffer once batching is on,
// and writes it with flush: one system call per batch of units. Below TLS
// it gathers the records.
type batchConn struct {
	net.Conn
	mu   sync.Mutex
	on   bool
	buf  []byte
	werr error
}

func (c *batchConn) batch(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = on
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return c.Conn.Write(p)
	}
	if c.werr != nil {
		return 0, c.werr
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

func (c *batchConn) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.buf)
}

// flush writes what was gathered.
func (c *batchConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.werr != nil {
		return c.werr
	}
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	c.buf = c.buf[:0]
	if err != nil {
		c.werr = err
	}
	return err
}
