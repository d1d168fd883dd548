package obs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/ingest"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/obs"
	"github.com/onair-studio/onair/engine/obs/obstest"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitUp polls OBS until obs-websocket answers.
func waitUp(t *testing.T, c *obs.Client, o *obstest.OBS) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		_, err := c.Status(context.Background())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("OBS's websocket did not answer: %v\n%s", err, o.Log())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// Against a real OBS: the right password reads its status; a wrong one and
// a closed port give the plain-word errors.
func TestRealOBSErrors(t *testing.T) {
	port := freePort(t)
	o := obstest.Start(t, port, "right-password")
	good := &obs.Client{Port: port, Password: "right-password"}
	waitUp(t, good, o)
	st, err := good.Status(context.Background())
	if err != nil || st.Version == "" || st.Streaming {
		t.Fatalf("status %+v %v", st, err)
	}
	t.Logf("OBS %s, obs-websocket %s", st.Version, st.WebSocketVersion)
	if _, err := (&obs.Client{Port: port, Password: "wrong"}).Status(context.Background()); !errors.Is(err, obs.ErrPassword) {
		t.Errorf("wrong password: %v", err)
	}

	// The monitor sees OBS's stream output change, and OBS going away,
	// over one connection however many read it.
	proxy := startCountingProxy(t, port)
	m := obs.NewMonitor(func() livestream.OBSSettings {
		return livestream.OBSSettings{Host: "127.0.0.1", Port: proxy.port, Password: "right-password"}
	})
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ran := make(chan struct{})
	go func() { defer close(ran); m.Run(ctx) }()
	seen := make(chan livestream.OBSSnapshot, 64)
	go m.Watch(ctx, func(s livestream.OBSSnapshot) {
		select {
		case seen <- s:
		default:
		}
	})
	sink := startSink(t)
	if err := good.Setup(context.Background(), "rtmp://"+sink+"/live", "k"); err != nil {
		t.Fatal(err)
	}
	if err := good.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.Poke()
	waitSnapshot(t, seen, "OBS streaming", func(s livestream.OBSSnapshot) bool { return s.Err == nil && s.Status.Streaming })
	for range 10 { // ten API reads beside the watcher
		if st, err := m.Status(context.Background()); err != nil || !st.Streaming {
			t.Fatalf("monitor status %+v %v", st, err)
		}
	}
	if n := proxy.accepted.Load(); n != 1 {
		t.Errorf("%d connections to OBS for one watcher and ten reads, want 1", n)
	}
	o.Kill()
	waitSnapshot(t, seen, "OBS lost", func(s livestream.OBSSnapshot) bool { return s.Lost && errors.Is(s.Err, obs.ErrNotRunning) })
	if _, err := good.Status(context.Background()); !errors.Is(err, obs.ErrNotRunning) {
		t.Errorf("OBS gone: %v", err)
	}
	stop()
	<-ran
}

// waitSnapshot reads the monitor's snapshots until ok says yes (15 s).
func waitSnapshot(t *testing.T, seen <-chan livestream.OBSSnapshot, what string, ok func(livestream.OBSSnapshot) bool) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case s := <-seen:
			if ok(s) {
				return
			}
		case <-deadline:
			t.Fatalf("no snapshot with %s", what)
		}
	}
}

// countingProxy passes TCP connections to OBS and counts them.
type countingProxy struct {
	port     int
	accepted atomic.Int64
}

func startCountingProxy(t *testing.T, to int) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &countingProxy{port: ln.Addr().(*net.TCPAddr).Port}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.accepted.Add(1)
			up, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(to)))
			if err != nil {
				c.Close()
				continue
			}
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

// startSink runs the studio's RTMP server, taking any key, for OBS to
// stream to.
func startSink(t *testing.T) string {
	t.Helper()
	srv := &ingest.Server{Address: "127.0.0.1:0", Authorizer: anyKey{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.Addr().String()
}

type anyKey struct{}

func (anyKey) Authorize(string, string, func()) (ingest.Target, error) { return discard{}, nil }

type discard struct{}

func (discard) StartTracks(media.Tracks) {}
func (discard) WriteUnits([]*media.Unit) {}
func (discard) Close()                   {}
