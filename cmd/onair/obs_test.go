package main

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/obs/obstest"
)

type obsJSON struct {
	Connected     bool    `json:"connected"`
	Error         string  `json:"error"`
	Streaming     bool    `json:"streaming"`
	Server        string  `json:"server"`
	TotalFrames   int64   `json:"total_frames"`
	SkippedFrames int64   `json:"skipped_frames"`
	DurationSec   float64 `json:"duration_sec"`
	Version       string  `json:"version"`
	PasswordSet   bool    `json:"password_set"`
}

func (p *proc) obs() obsJSON {
	p.t.Helper()
	var o obsJSON
	if code, msg := p.call("GET", "/obs", nil, &o); code != 200 {
		p.t.Fatalf("GET /obs: %d %s", code, msg)
	}
	return o
}

func (p *proc) waitOBS(d time.Duration, what string, ok func(obsJSON) bool) obsJSON {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		o := p.obs()
		if ok(o) {
			return o
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: not within %v: %+v", what, d, o)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func obsPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// One click against the real OBS Studio: the studio points OBS at a stream
// and starts it; the stream turns active and its HLS decodes; OBS's figures
// come back through the API; stopping from the studio stops OBS, and the
// stream leaves active after its idle timeout. A wrong password and OBS
// not running are told in plain words and change nothing; OBS sends over
// SRT when asked; OBS closed in the middle of a stream is seen as not
// running.
func TestOBSOneClick(t *testing.T) {
	mediatest.RequireTools(t)
	port := obsPort(t)
	o := obstest.Start(t, port, "obs-secret")
	p := startServe(t, t.TempDir(), "", "")
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 2})

	// OBS not running (a port nobody listens on), then a wrong password.
	free := obsPort(t)
	if code, msg := p.call("PATCH", "/obs", map[string]any{"port": free, "password": "obs-secret"}, nil); code != 200 {
		t.Fatalf("PATCH /obs: %d %s", code, msg)
	}
	if code, msg := p.call("POST", "/live_streams/"+st.ID+"/obs/start", nil, nil); code != 503 || !strings.Contains(msg, "OBS is not running or obs-websocket is off") {
		t.Errorf("OBS not running: %d %q", code, msg)
	}
	p.call("PATCH", "/obs", map[string]any{"port": port, "password": "wrong"}, nil)
	p.waitOBS(90*time.Second, "OBS up (answering, with the wrong password)", func(o obsJSON) bool { return strings.Contains(o.Error, "wrong obs-websocket password") })
	if code, msg := p.call("POST", "/live_streams/"+st.ID+"/obs/start", nil, nil); code != 503 || !strings.Contains(msg, "wrong obs-websocket password") {
		t.Errorf("wrong password: %d %q", code, msg)
	}
	if got := p.get(st.ID); got.Status != "idle" {
		t.Fatalf("a refused OBS call changed the stream: %s", got.Status)
	}
	if strings.Contains(p.logs.String(), "obs-secret") {
		t.Error("the obs-websocket password is in the log")
	}

	// The right password: one click.
	var set obsJSON
	p.call("PATCH", "/obs", map[string]any{"password": "obs-secret"}, &set)
	if !set.PasswordSet {
		t.Errorf("settings: %+v", set)
	}
	before := p.waitOBS(10*time.Second, "connected", func(o obsJSON) bool { return o.Connected })
	if before.Streaming || before.Version == "" {
		t.Fatalf("OBS before: %+v", before)
	}
	if code, msg := p.call("POST", "/live_streams/"+st.ID+"/obs/start", nil, nil); code != 200 {
		t.Fatalf("start: %d %s\n%s", code, msg, o.Log())
	}
	p.waitStatus(st.ID, "active", 30*time.Second)
	hls := p.get(st.ID).hlsURI()
	mediaPlaylist(t, hls, 30*time.Second)
	out := mediatest.ProbeFile(t, hls)
	if got := strings.Join(out.Codecs(), ","); !strings.Contains(got, "h264") || !strings.Contains(got, "aac") {
		t.Errorf("HLS from OBS: %s", got)
	}
	live := p.waitOBS(10*time.Second, "OBS's figures", func(o obsJSON) bool { return o.Streaming && o.TotalFrames > 30 })
	if !strings.HasPrefix(live.Server, "rtmp://127.0.0.1:") {
		t.Errorf("OBS streams to %q", live.Server)
	}
	t.Logf("OBS %s: %d frames sent, %d skipped, %.1f s", live.Version, live.TotalFrames, live.SkippedFrames, live.DurationSec)

	if code, msg := p.call("POST", "/live_streams/"+st.ID+"/obs/stop", nil, nil); code != 200 {
		t.Fatalf("stop: %d %s", code, msg)
	}
	p.waitOBS(10*time.Second, "OBS stopped", func(o obsJSON) bool { return o.Connected && !o.Streaming })
	p.waitStatus(st.ID, "idle", 15*time.Second)

	// Over SRT when asked (and nothing else), then OBS closed in the
	// middle of that stream.
	if code, msg := p.call("POST", "/live_streams/"+st.ID+"/obs/start?protocol=pigeon", nil, nil); code != 400 || !strings.Contains(msg, "protocol") {
		t.Errorf("an unknown protocol: %d %s", code, msg)
	}
	if code, msg := p.call("POST", "/live_streams/"+st.ID+"/obs/start?protocol=srt", nil, nil); code != 200 {
		t.Fatalf("start over SRT: %d %s", code, msg)
	}
	p.waitStatus(st.ID, "active", 30*time.Second)
	if live := p.waitOBS(10*time.Second, "OBS's figures over SRT", func(o obsJSON) bool { return o.Streaming && o.TotalFrames > 30 }); live.Server != st.Input.SRTURI {
		t.Errorf("OBS streams to %q, want the stream's srt_uri %q", live.Server, st.Input.SRTURI)
	}
	o.Kill()
	gone := p.waitOBS(10*time.Second, "OBS gone", func(o obsJSON) bool { return !o.Connected })
	if !strings.Contains(gone.Error, "OBS is not running") {
		t.Errorf("after OBS quit: %+v", gone)
	}
	p.waitStatus(st.ID, "idle", 15*time.Second)
}
