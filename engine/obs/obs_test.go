package obs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
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

	// Watch sees OBS's stream output change, and OBS going away.
	seen := make(chan livestream.OBSEvent, 16)
	watched := make(chan error, 1)
	go func() { watched <- good.Watch(context.Background(), func(e livestream.OBSEvent) { seen <- e }) }()
	time.Sleep(1500 * time.Millisecond) // connected, first status read
	sink := startSink(t)
	if err := good.Setup(context.Background(), "rtmp://"+sink+"/live", "k"); err != nil {
		t.Fatal(err)
	}
	if err := good.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-seen:
		t.Logf("event: %+v", e)
		if !e.Streaming || e.State != "OBS_WEBSOCKET_OUTPUT_STARTED" {
			t.Errorf("event %+v", e)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no stream state event")
	}
	o.Kill()
	select {
	case err := <-watched:
		if !errors.Is(err, obs.ErrNotRunning) {
			t.Errorf("Watch ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not see OBS go")
	}
	if _, err := good.Status(context.Background()); !errors.Is(err, obs.ErrNotRunning) {
		t.Errorf("OBS gone: %v", err)
	}
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
