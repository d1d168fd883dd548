package still

import (
	"testing"

	"go.uber.org/goleak"
)

// No goroutine of this package outlives the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
