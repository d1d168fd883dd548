package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// rawClient is one HTTP/1.1 keep-alive connection that sends GET requests
// and reads answers with Content-Length — what the studio sends for every
// playlist and media answer. It is the throughput readers' client: they
// share two cores with the server, and net/http's client (a goroutine pair
// per connection, a header map and a body per answer) cost twice the
// server's CPU for the same requests, so the figure was the client's.
type rawClient struct {
	addr string
	host string
	conn net.Conn
	br   *bufio.Reader
	req  []byte
	body []byte // the last answer's body when kept, reused
}

func newRawClient(rawURL string) (*rawClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" {
		return nil, fmt.Errorf("reader URL %q: want http://host:port/…", rawURL)
	}
	return &rawClient{addr: u.Host, host: u.Host}, nil
}

func (c *rawClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// get requests path and returns the answer's length; with keep, the body
// too (valid until the next get). deadline bounds the whole exchange.
func (c *rawClient) get(path string, keep bool, deadline time.Time) (int, []byte, error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, time.Until(deadline))
		if err != nil {
			return 0, nil, err
		}
		c.conn = conn
		if c.br == nil {
			c.br = bufio.NewReaderSize(conn, 64<<10)
		} else {
			c.br.Reset(conn)
		}
	}
	c.conn.SetDeadline(deadline)
	c.req = append(append(append(append(c.req[:0], "GET "...), path...), " HTTP/1.1\r\nHost: "...), c.host...)
	c.req = append(c.req, "\r\n\r\n"...)
	if _, err := c.conn.Write(c.req); err != nil {
		c.close()
		return 0, nil, err
	}
	n, body, err := c.readAnswer(keep)
	if err != nil {
		c.close()
	}
	return n, body, err
}

var errNoLength = errors.New("answer without Content-Length")

func (c *rawClient) readAnswer(keep bool) (int, []byte, error) {
	status, err := c.br.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	code := 0
	if rest, ok := bytes.CutPrefix(status, []byte("HTTP/1.1 ")); ok && len(rest) >= 3 {
		code, _ = strconv.Atoi(string(rest[:3]))
	}
	if code == 0 {
		return 0, nil, fmt.Errorf("not an HTTP/1.1 status line: %q", status)
	}
	length, closing := -1, false
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, nil, fmt.Errorf("Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			closing = true
		}
	}
	if length < 0 {
		return 0, nil, errNoLength
	}
	var body []byte
	if keep {
		if cap(c.body) < length {
			c.body = make([]byte, length)
		}
		c.body = c.body[:length]
		if _, err := io.ReadFull(c.br, c.body); err != nil {
			return 0, nil, err
		}
		body = c.body
	} else if _, err := c.br.Discard(length); err != nil {
		return 0, nil, err
	}
	if closing {
		c.close()
	}
	if code != 200 {
		return 0, nil, fmt.Errorf("status %d", code)
	}
	return length, body, nil
}
