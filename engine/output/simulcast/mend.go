package simulcast

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"

	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/bytecounter"
	"github.com/bluenviron/gortmplib/pkg/rawmessage"
)

// RTMP message types the mender follows.
const (
	msgSetChunkSize = 1
	msgAbort        = 2
	msgCommandAMF0  = 20
)

// serverHandshake is what a server sends before its first chunk: S0, S1
// and S2.
const serverHandshake = 1 + 1536 + 1536

// mendReader sits under gortmplib's client while it connects and
// publishes. It reads the server's messages whole and hands them on
// re-chunked, mending the commands lenient clients accept and gortmplib
// refuses: FFmpeg's RTMP server (`ffmpeg -listen 1`) answers FCPublish
// with a bare "onFCPublish", without the transaction id and the null that
// every command carries. Once the stream is published (pass), reads go
// straight to the connection.
type mendReader struct {
	conn      net.Conn
	handshake int // server handshake bytes still to pass on as they are
	rd        *rawmessage.Reader
	wr        *rawmessage.Writer
	out       bytes.Buffer
	pass      bool
	// Mended counts the commands mended (for the log and tests).
	Mended int
}

func newMendReader(conn net.Conn) *mendReader {
	return &mendReader{conn: conn, handshake: serverHandshake}
}

// Read hands on the handshake, then mended messages, then (after passOn)
// the connection's bytes.
func (m *mendReader) Read(p []byte) (int, error) {
	switch {
	case m.out.Len() > 0:
		return m.out.Read(p)
	case m.pass:
		return m.conn.Read(p)
	case m.handshake > 0:
		n, err := m.conn.Read(p[:min(len(p), m.handshake)])
		m.handshake -= n
		return n, err
	}
	if m.rd == nil {
		m.rd = rawmessage.NewReader(m.conn, bytecounter.NewReader(m.conn), func(uint32) error { return nil })
		m.wr = rawmessage.NewWriter(&m.out, bytecounter.NewWriter(&m.out), false)
	}
	for m.out.Len() == 0 {
		msg, err := m.rd.Read()
		if err != nil {
			return 0, err
		}
		if err := m.forward(msg); err != nil {
			return 0, err
		}
	}
	return m.out.Read(p)
}

// passOn ends the mending: the client publishes, and what the server
// sends now is read and dropped below the client. Bytes the mender read
// ahead are dropped too.
func (m *mendReader) passOn() { m.pass = true }

// forward follows the chunk size, mends a command if it must, and writes
// the message for the client.
func (m *mendReader) forward(msg *rawmessage.Message) error {
	switch msg.Type {
	case msgSetChunkSize:
		if len(msg.Body) < 4 {
			return fmt.Errorf("reading the server's chunk size: %d bytes", len(msg.Body))
		}
		size := binary.BigEndian.Uint32(msg.Body) & 0x7fffffff
		if err := m.rd.SetChunkSize(size); err != nil {
			return err
		}
		if err := m.wr.Write(msg); err != nil {
			return err
		}
		m.wr.SetChunkSize(size) // the client reads with it after this message
		return nil
	case msgAbort:
		if len(msg.Body) >= 4 {
			m.rd.AbortChunkStream(binary.BigEndian.Uint32(msg.Body))
		}
	case msgCommandAMF0:
		if body, ok := mendCommand(msg.Body); ok {
			msg.Body = body
			m.Mended++
		}
	}
	return m.wr.Write(msg)
}

// mendCommand completes an AMF0 command that lacks its transaction id or
// its command object (null); ok is false when nothing needs mending or the
// body is not AMF0 the mender can read (the client then says what is
// wrong).
func mendCommand(body []byte) ([]byte, bool) {
	data, err := amf0.Unmarshal(body)
	if err != nil || len(data) == 0 || len(data) >= 3 {
		return nil, false
	}
	if _, ok := data[0].(string); !ok {
		return nil, false
	}
	switch len(data) {
	case 1:
		data = append(data, float64(0))
	case 2:
		if _, ok := data[1].(float64); !ok {
			return nil, false // not a command with a missing part: leave it to the client
		}
	}
	data = append(data, nil)
	out, err := data.Marshal()
	if err != nil {
		return nil, false
	}
	return out, true
}

// mendConn is the connection gortmplib's client is given: its reads go
// through the mender.
type mendConn struct {
	net.Conn
	r io.Reader
}

func (c *mendConn) Read(p []byte) (int, error) { return c.r.Read(p) }
