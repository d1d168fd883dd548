package clip

import (
	"errors"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// Ranges a recording does not have are refused naming the field.
func TestCheckRange(t *testing.T) {
	const s = time.Second
	for _, c := range []struct {
		start, end time.Duration
		field      string
	}{
		{10 * s, 20 * s, ""}, {0, 30 * s, ""}, {29 * s, 30*s + time.Millisecond, ""},
		{-s, 5 * s, "start"}, {10 * s, 10 * s, "end"}, {10 * s, 5 * s, "end"},
		{10 * s, 31 * s, "end"}, {30 * s, 31 * s, "start"}, {0, 25 * time.Hour, "end"},
	} {
		err := checkRange(c.start, c.end, 30*s)
		var ve *livestream.ValidationError
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%v–%v: %v", c.start, c.end, err)
		case c.field != "" && (!errors.As(err, &ve) || ve.Field != c.field):
			t.Errorf("%v–%v: %v, want an error on %s", c.start, c.end, err, c.field)
		}
	}
}
