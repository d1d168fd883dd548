package history

import (
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

func sample(i int) livestream.Sample {
	return livestream.Sample{At: time.Unix(int64(i), 0), BitrateKbps: float64(i)}
}

// The ring keeps the newest samples in order, across the wrap, and hands
// out copies a later Add does not change.
func TestRingKeepsTheNewestInOrder(t *testing.T) {
	r := New(5)
	if got := r.Last(3); len(got) != 0 {
		t.Fatalf("empty ring gave %d samples", len(got))
	}
	for i := 1; i <= 3; i++ {
		r.Add(sample(i))
	}
	check := func(got []livestream.Sample, want ...int) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %d samples, want %v", len(got), want)
		}
		for i, w := range want {
			if got[i].BitrateKbps != float64(w) {
				t.Fatalf("sample %d is %v, want %d (all: %v)", i, got[i].BitrateKbps, w, got)
			}
		}
	}
	check(r.Last(0), 1, 2, 3)
	check(r.Last(2), 2, 3)
	for i := 4; i <= 12; i++ {
		r.Add(sample(i))
	}
	snap := r.Last(0)
	check(snap, 8, 9, 10, 11, 12)
	check(r.Last(3), 10, 11, 12)
	check(r.Last(99), 8, 9, 10, 11, 12)
	r.Add(sample(13))
	check(snap, 8, 9, 10, 11, 12)
	if n := len(r.Last(0)); n != 5 {
		t.Fatalf("the full ring holds %d, want 5", n)
	}
}

func BenchmarkAdd(b *testing.B) {
	r := New(300)
	b.ReportAllocs()
	for i := range b.N {
		r.Add(sample(i))
	}
}
