//go:build !linux

package ingest

import "net"

// quietReader is Linux only: elsewhere batched reads go through the
// connection (every arrival may wake the poller).
type quietReader struct{}

func newQuietReader(net.Conn) *quietReader { return nil }

func (*quietReader) Read([]byte) (int, error) { panic("unreachable") }
