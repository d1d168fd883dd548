package ingest

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	rtmp "github.com/yutopp/go-rtmp"
	rtmpmsg "github.com/yutopp/go-rtmp/message"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
)

// recorder is a Target that counts what it receives.
type recorder struct {
	mu     sync.Mutex
	tracks []media.Tracks
	units  int
	closed bool
}

func (r *recorder) StartTracks(t media.Tracks) {
	r.mu.Lock()
	r.tracks = append(r.tracks, t)
	r.mu.Unlock()
}
func (r *recorder) WriteUnits(u []*media.Unit) { r.mu.Lock(); r.units += len(u); r.mu.Unlock() }
func (r *recorder) Close()                     { r.mu.Lock(); r.closed = true; r.mu.Unlock() }
func (r *recorder) count() int                 { r.mu.Lock(); defer r.mu.Unlock(); return r.units }

// keys is an Authorizer with fixed keys.
type keys map[string]*recorder

func (k keys) Authorize(key, _ string, _ func()) (Target, error) {
	if r, ok := k[key]; ok {
		return r, nil
	}
	return nil, errors.New("unknown stream key")
}

func startServer(t *testing.T, a Authorizer, refused func(string, string)) *Server {
	t.Helper()
	s := &Server{Address: "127.0.0.1:0", Authorizer: a, OnRefused: refused, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type client struct {
	conn *rtmp.ClientConn
	st   *rtmp.Stream
}

func dial(t *testing.T, addr, app, key string) (*client, error) {
	t.Helper()
	conn, err := rtmp.Dial("rtmp", addr, &rtmp.ConnConfig{})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.Connect(&rtmpmsg.NetConnectionConnect{Command: rtmpmsg.NetConnectionConnectCommand{App: app}}); err != nil {
		return nil, err
	}
	st, err := conn.CreateStream(nil, 4096)
	if err != nil {
		return nil, err
	}
	if err := st.Publish(&rtmpmsg.NetStreamPublish{PublishingName: key, PublishingType: "live"}); err != nil {
		return nil, err
	}
	return &client{conn: conn, st: st}, nil
}

func (c *client) send(video bool, ts uint32, body []byte) error {
	if video {
		return c.st.Write(6, ts, &rtmpmsg.VideoMessage{Payload: bytes.NewReader(body)})
	}
	return c.st.Write(4, ts, &rtmpmsg.AudioMessage{Payload: bytes.NewReader(body)})
}

func TestUnknownAppIsRefused(t *testing.T) {
	var mu sync.Mutex
	var reasons []string
	s := startServer(t, keys{}, func(_, reason string) { mu.Lock(); reasons = append(reasons, reason); mu.Unlock() })
	if _, err := dial(t, s.Addr().String(), "other", "k"); err == nil {
		t.Fatal("unknown application accepted")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reasons) != 1 || !bytes.Contains([]byte(reasons[0]), []byte(`"other"`)) {
		t.Fatalf("refusal not reported: %q", reasons)
	}
}

// Garbage on the wire and malformed FLV payloads never take down the server
// nor disturb another publisher.
func TestMalformedInputDoesNotDisturbOthers(t *testing.T) {
	tags := readTags(t, mediatest.Small.Path(t))
	good, bad := &recorder{}, &recorder{}
	s := startServer(t, keys{"good": good, "bad": bad}, nil)
	addr := s.Addr().String()

	gc, err := dial(t, addr, "live", "good")
	if err != nil {
		t.Fatal(err)
	}
	bc, err := dial(t, addr, "live", "bad")
	if err != nil {
		t.Fatal(err)
	}
	// Raw garbage instead of a handshake, then a truncated handshake.
	for _, junk := range [][]byte{bytes.Repeat([]byte{0xff}, 5000), {3, 0, 0}} {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		nc.Write(junk)
		nc.Close()
	}

	// The bad publisher sends the same media, cut short, bit-flipped or
	// random, from its own goroutine: once the server drops it, go-rtmp's
	// client blocks in Write for good, so it is not waited for.
	go func() {
		rng := rand.New(rand.NewPCG(1, 2))
		for i, tg := range tags[:300] {
			b := mangle(rng, i, tg.Body)
			if bc.send(tg.Video, tg.Timestamp, b) != nil {
				return
			}
		}
	}()
	for _, tg := range tags[:300] {
		if err := gc.send(tg.Video, tg.Timestamp, tg.Body); err != nil {
			t.Fatalf("good publisher: %v", err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for good.count() < 290 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := good.count(); n < 290 {
		t.Fatalf("good publisher delivered %d of ~300 units", n)
	}
	// The server still accepts publishers.
	if _, err := dial(t, addr, "live", "good"); err != nil {
		t.Fatalf("server no longer accepts publishers: %v", err)
	}
}

// mangle cuts, flips or replaces a tag body.
func mangle(rng *rand.Rand, i int, body []byte) []byte {
	b := bytes.Clone(body)
	switch i % 4 {
	case 0:
		b = b[:rng.IntN(len(b)+1)]
	case 1:
		if len(b) > 0 {
			b[rng.IntN(len(b))] ^= 0xff
		}
	case 2:
		b = make([]byte, rng.IntN(64))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
	}
	return b
}
