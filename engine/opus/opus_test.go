package opus

import (
	"log/slog"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/pion/rtp"

	"github.com/onair-studio/onair/engine/ffmpeg"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
)

// The lengths of Opus packets of each kind, from their first bytes.
func TestSamples(t *testing.T) {
	cases := []struct {
		p    []byte
		want uint32
		bad  bool
	}{
		{p: []byte{31 << 3}, want: 960},          // CELT 20 ms, one frame
		{p: []byte{16 << 3}, want: 120},          // CELT 2.5 ms
		{p: []byte{1<<3 | 1}, want: 2 * 960},     // SILK 20 ms, two frames
		{p: []byte{13<<3 | 2}, want: 2 * 960},    // hybrid 20 ms, two frames of two sizes
		{p: []byte{3<<3 | 3, 2}, want: 2 * 2880}, // SILK 60 ms, code 3 with two frames
		{p: []byte{3<<3 | 3, 3}, bad: true},      // 180 ms: more than a packet holds
		{p: []byte{31<<3 | 3, 0}, bad: true},     // no frames
		{p: []byte{31<<3 | 3}, bad: true},        // the count missing
		{p: nil, bad: true},
	}
	for _, c := range cases {
		n, err := Samples(c.p)
		if c.bad != (err != nil) || (!c.bad && n != c.want) {
			t.Errorf("Samples(%x) = %d, %v; want %d (bad %v)", c.p, n, err, c.want, c.bad)
		}
	}
}

// FFmpeg encodes the test tone (440 Hz AAC) to 20 ms Opus packets that
// decode to 440 Hz within 5 Hz; nothing runs before the first audio unit.
func TestEncoderMakesOpusOfTheTone(t *testing.T) {
	bin, err := ffmpeg.Locate("")
	if err != nil {
		t.Fatal(err)
	}
	tone := mediatest.AACFrames(t, "sine=frequency=440:sample_rate=48000:duration=3")
	var mu sync.Mutex
	var pkts []*rtp.Packet
	ts := uint32(0)
	e := New(bin, slog.New(slog.DiscardHandler), func(p []byte, n uint32) {
		mu.Lock()
		defer mu.Unlock()
		if n != 960 {
			t.Errorf("a packet of %d samples; want 20 ms (960)", n)
		}
		pkts = append(pkts, &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(len(pkts)), Timestamp: ts}, Payload: append([]byte(nil), p...)})
		ts += n
	})
	defer e.Close()
	if e.Running() {
		t.Fatal("FFmpeg runs before any sound came")
	}
	e.Unit(&media.Unit{Kind: media.KindVideo})
	if e.Running() {
		t.Fatal("FFmpeg started for a picture")
	}
	tracks := &media.Tracks{Audio: &media.AACParams{Config: mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 48000, ChannelConfig: 1}}}
	for i, fr := range tone {
		e.Unit(&media.Unit{Kind: media.KindAudio, Tracks: tracks, PTS: time.Duration(i) * 1024 * time.Second / 48000, Frame: fr})
	}
	want := len(tone) * 1024 / 960 * 8 / 10
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(pkts)
		mu.Unlock()
		if n >= want {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("%d Opus packets of ~%d in 10 s (error: %q)", n, want*10/8, e.Err())
		}
	}
	mu.Lock()
	got := pkts
	mu.Unlock()
	hz := mediatest.ToneHz(mediatest.DecodeOpusRTP(t, got), 48000)
	t.Logf("%d packets, the tone at %.1f Hz", len(got), hz)
	if math.Abs(hz-440) > 5 {
		t.Errorf("the Opus decodes to %.1f Hz; want 440 ± 5", hz)
	}
}
