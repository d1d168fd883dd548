package hub

import (
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/media"
)

func videoUnit(i int, key bool) *media.Unit {
	d := time.Duration(i) * 33 * time.Millisecond
	return &media.Unit{Kind: media.KindVideo, DTS: d, PTS: d, Key: key, NALUs: [][]byte{{5, byte(i)}}}
}

// A reader that blocks must not delay the publisher nor the other readers.
func TestSlowReaderDropsWithoutBlocking(t *testing.T) {
	s := &Stream{}
	s.StartPublisher(media.Tracks{Video: &media.VideoParams{SPS: []byte{7}, PPS: []byte{8}}})

	release := make(chan struct{})
	slow := &Reader{Name: "slow", QueueSize: 4, OnUnit: func(*media.Unit) { <-release }}
	var fastGot atomic.Int64
	fast := &Reader{Name: "fast", QueueSize: 2000, OnUnit: func(*media.Unit) { fastGot.Add(1) }}
	s.AddReader(slow)
	s.AddReader(fast)

	const n = 1000
	start := time.Now()
	for i := range n {
		s.Publish(videoUnit(i, i%60 == 0))
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("publishing %d units took %v: the slow reader blocked the publisher", n, el)
	}
	deadline := time.Now().Add(5 * time.Second)
	for fastGot.Load() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := fastGot.Load(); got != n {
		t.Fatalf("fast reader got %d units, want %d", got, n)
	}
	if slow.Dropped() == 0 {
		t.Fatal("slow reader dropped nothing")
	}
	if st := s.Stats(); st.Dropped != slow.Dropped() || st.Units != n || st.Readers != 2 {
		t.Fatalf("stats %+v, slow dropped %d", st, slow.Dropped())
	}
	close(release)
	s.Close()
}

// After a drop a reader resumes at a key frame, so its decoder never sees
// a picture whose references it lost.
func TestReaderResumesAtKeyFrameAfterDrop(t *testing.T) {
	s := &Stream{}
	s.StartPublisher(media.Tracks{Video: &media.VideoParams{SPS: []byte{7}, PPS: []byte{8}}})
	gate := make(chan struct{})
	var mu sync.Mutex
	var got []*media.Unit
	r := &Reader{QueueSize: 2, OnUnit: func(u *media.Unit) {
		<-gate
		mu.Lock()
		got = append(got, u)
		mu.Unlock()
	}}
	s.AddReader(r)
	units := []*media.Unit{videoUnit(0, true), videoUnit(1, false), videoUnit(2, false), videoUnit(3, false), videoUnit(4, false), videoUnit(5, true), videoUnit(6, false)}
	for _, u := range units[:5] {
		s.Publish(u)
	}
	close(gate) // reader drains what it holds
	time.Sleep(50 * time.Millisecond)
	for _, u := range units[5:] {
		s.Publish(u)
	}
	s.RemoveReader(r)
	mu.Lock()
	defer mu.Unlock()
	if r.Dropped() == 0 {
		t.Fatal("expected drops")
	}
	// After the drop, the next unit delivered must be the key frame 5.
	for i, u := range got {
		if u == units[5] {
			if i == 0 || got[i-1] == units[4] {
				t.Fatalf("unexpected order %v", got)
			}
			return
		}
		if u == units[3] || u == units[4] {
			t.Fatalf("delivered non-key unit %d after a drop before the next key frame", u.NALUs[0][1])
		}
	}
	t.Fatal("key frame after the drop never arrived")
}

// A new publisher's timestamps continue the session's timeline.
func TestTimelineContinuesAcrossPublishers(t *testing.T) {
	s := &Stream{}
	var mu sync.Mutex
	var dts []time.Duration
	r := &Reader{OnUnit: func(u *media.Unit) { mu.Lock(); dts = append(dts, u.DTS); mu.Unlock() }}
	s.AddReader(r)
	tr := media.Tracks{Video: &media.VideoParams{SPS: []byte{7}, PPS: []byte{8}}}
	s.StartPublisher(tr)
	for i := range 10 {
		u := videoUnit(i, i == 0)
		u.DTS += 5 * time.Second // encoders need not start at zero
		u.PTS += 5 * time.Second
		s.Publish(u)
	}
	s.StartPublisher(tr)
	for i := range 10 {
		s.Publish(videoUnit(i, i == 0))
	}
	s.RemoveReader(r)
	if len(dts) != 20 || dts[0] != 0 {
		t.Fatalf("got %v", dts)
	}
	for i := 1; i < len(dts); i++ {
		if dts[i] <= dts[i-1] {
			t.Fatalf("timeline goes back at %d: %v", i, dts)
		}
	}
}

func BenchmarkPublishFourReaders(b *testing.B) {
	s := &Stream{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s.StartPublisher(media.Tracks{Video: &media.VideoParams{SPS: []byte{7}, PPS: []byte{8}}})
	for range 4 {
		s.AddReader(&Reader{QueueSize: 1024, OnUnit: func(*media.Unit) {}})
	}
	nalus := [][]byte{{5}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u := &media.Unit{Kind: media.KindVideo, DTS: time.Duration(i), PTS: time.Duration(i), Key: true, NALUs: nalus}
		s.Publish(u)
	}
	b.StopTimer()
	s.Close()
}

// LastKey is the newest key frame published, also with no reader.
func TestLastKeyIsTheNewest(t *testing.T) {
	s := &Stream{}
	if s.LastKey() != nil {
		t.Fatal("a stream that published nothing has a key frame")
	}
	s.StartPublisher(media.Tracks{Video: &media.VideoParams{SPS: []byte{7}, PPS: []byte{8}}})
	var keys []*media.Unit
	for i := range 200 {
		u := videoUnit(i, i%60 == 0)
		if u.Key {
			keys = append(keys, u)
		}
		s.Publish(u)
		s.Publish(&media.Unit{Kind: media.KindAudio, DTS: u.DTS, PTS: u.PTS, Key: true, Frame: []byte{1}})
		if got := s.LastKey(); got != keys[len(keys)-1] {
			t.Fatalf("after unit %d the last key frame is %+v, want the one of unit %d", i, got, (len(keys)-1)*60)
		}
	}
}
