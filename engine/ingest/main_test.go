package ingest

import (
	"testing"

	"go.uber.org/goleak"
)

// No goroutine of this package outlives the tests. gosrt's caller, which
// the SRT tests use as the encoder, leaves its packet reader blocked on an
// unread channel after a refused or closed handshake (gosrt v0.11.0,
// dial.go): that one belongs to the test's client, not to the server.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/datarhei/gosrt.Dial.func1"))
}
