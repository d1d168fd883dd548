package main

import (
	"context"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

// sink is a real RTMP server to send to: another studio, whose stream
// records what it receives (its recording is the received file).
type sink struct {
	t    *testing.T
	p    *proc
	data string
	id   string
	addr string // RTMP
	key  string
}

func startSink(t *testing.T) *sink {
	t.Helper()
	s := &sink{t: t, data: t.TempDir()}
	s.p = startServe(t, s.data, "", "")
	st := s.p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 0})
	s.id, s.addr, s.key = st.ID, s.p.rtmpAddr, st.Input.StreamKey
	return s
}

// kill stops the sink at once; restart brings it back on the same ports.
func (s *sink) kill() { s.p.kill9() }

func (s *sink) restart() { s.p = startServe(s.t, s.data, s.p.httpAddr, s.p.rtmpAddr) }

// received waits for the sink's stream to be idle again and returns its
// recordings, oldest first, as downloaded files.
func (s *sink) received(d time.Duration) []string {
	s.t.Helper()
	s.p.waitStatus(s.id, "idle", d)
	deadline := time.Now().Add(d)
	for {
		as := s.p.assets(s.id)
		ready := len(as) > 0
		for _, a := range as {
			ready = ready && a.Status == "ready"
		}
		if ready {
			var files []string
			for _, a := range slices.Backward(as) {
				files = append(files, s.p.download(a))
			}
			return files
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the sink's recordings: %+v", as)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *proc) addDestination(streamID, addr, key string) outputJSON {
	p.t.Helper()
	var o outputJSON
	if code, msg := p.call("POST", "/live_streams/"+streamID+"/outputs", map[string]any{
		"type": "simulcast", "uri": "rtmp://" + addr + "/live", "stream_key": key, "vendor": "custom"}, &o); code != 201 {
		p.t.Fatalf("add destination: %d %s", code, msg)
	}
	return o
}

type outputStatusJSON struct {
	Status    string `json:"status"`
	LastError string `json:"last_error"`
	StreamKey string `json:"stream_key"`
}

func (p *proc) output(streamID, outputID string) outputStatusJSON {
	p.t.Helper()
	var o outputStatusJSON
	if code, msg := p.call("GET", "/live_streams/"+streamID+"/outputs/"+outputID, nil, &o); code != 200 {
		p.t.Fatalf("output: %d %s", code, msg)
	}
	return o
}

// waitOutput polls an output until ok or the time is up, and says how long it took.
func (p *proc) waitOutput(streamID, outputID string, d time.Duration, what string, ok func(outputStatusJSON) bool) time.Duration {
	p.t.Helper()
	start := time.Now()
	for {
		o := p.output(streamID, outputID)
		if ok(o) {
			return time.Since(start)
		}
		if time.Since(start) > d {
			p.t.Fatalf("%s: not within %v: %+v\n%s", what, d, o, p.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func broadcasting(o outputStatusJSON) bool { return o.Status == "broadcasting" }

// A stream published by ffmpeg reaches two real RTMP servers; both
// outputs broadcast, and what each received holds H.264 and AAC for the
// time published. The keys are masked in listings unless revealed.
func TestSimulcastReachesTwoDestinations(t *testing.T) {
	t.Parallel()
	mediatest.RequireTools(t)
	clip := mediatest.Clip{Width: 640, Height: 360, FPS: 30, Seconds: 10, VideoKbps: 800, AudioKbps: 96}.Path(t)
	p := startServe(t, t.TempDir(), "", "")
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 0})
	sinks := []*sink{startSink(t), startSink(t)}
	var outs []outputJSON
	for _, s := range sinks {
		outs = append(outs, p.addDestination(st.ID, s.addr, s.key))
	}
	pub := mediatest.Publish(t, clip, st.Input.URI+"/"+st.Input.StreamKey, false)
	for _, o := range outs {
		p.waitOutput(st.ID, o.ID, 8*time.Second, "broadcasting", broadcasting)
	}
	// Listings mask the keys; ?reveal=true shows them.
	key := sinks[0].key
	if o := p.output(st.ID, outs[0].ID); o.StreamKey != "****"+key[len(key)-4:] {
		t.Errorf("masked key %q", o.StreamKey)
	}
	var revealed outputStatusJSON
	p.call("GET", "/live_streams/"+st.ID+"/outputs/"+outs[0].ID+"?reveal=true", nil, &revealed)
	if revealed.StreamKey != key {
		t.Errorf("revealed key %q", revealed.StreamKey)
	}
	if err, ok := pub.Wait(30 * time.Second); !ok || err != nil {
		t.Fatalf("ffmpeg: %v %v", ok, err)
	}
	if strings.Contains(p.logs.String(), key) {
		t.Error("a destination's key is in the log")
	}
	for i, s := range sinks {
		files := s.received(15 * time.Second)
		if len(files) != 1 {
			t.Fatalf("sink %d: %d recordings", i, len(files))
		}
		pr := mediatest.ProbeFile(t, files[0])
		if got := strings.Join(pr.Codecs(), ","); got != "h264,aac" {
			t.Errorf("sink %d: codecs %s", i, got)
		}
		if math.Abs(pr.Duration-10) > 1 {
			t.Errorf("sink %d: %.3f s of a 10 s publish", i, pr.Duration)
		}
		if errs := mediatest.DecodeErrors(t, files[0]); errs != "" {
			t.Errorf("sink %d decoding: %s", i, errs)
		}
	}
}

// One destination dies mid-stream: it turns errored with a useful error
// within 5 s while the other and HLS go on; restarted, it broadcasts again
// by itself. A destination added while live starts within 2 s, and
// removing it stops only that one.
func TestSimulcastSurvivesADeadDestination(t *testing.T) {
	// Not parallel: the destination comes back on the ports it had, which
	// another test's server must not take meanwhile.
	mediatest.RequireTools(t)
	clip := mediatest.Small.Path(t)
	p := startServe(t, t.TempDir(), "", "")
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}})
	a, b := startSink(t), startSink(t)
	oa := p.addDestination(st.ID, a.addr, a.key)
	ob := p.addDestination(st.ID, b.addr, b.key)
	mediatest.Publish(t, clip, st.Input.URI+"/"+st.Input.StreamKey, true)
	for _, o := range []outputJSON{oa, ob} {
		p.waitOutput(st.ID, o.ID, 8*time.Second, "broadcasting", broadcasting)
	}
	hls := p.get(st.ID).hlsURI()
	_, pl := mediaPlaylist(t, hls, 10*time.Second)
	seqBefore, since := mediaSequence(pl)+segmentCount(pl), time.Now()

	a.kill()
	took := p.waitOutput(st.ID, oa.ID, 5*time.Second, "errored after the kill", func(o outputStatusJSON) bool {
		return o.Status == "errored" && o.LastError != ""
	})
	t.Logf("errored %v after the kill: %q", took.Round(time.Millisecond), p.output(st.ID, oa.ID).LastError)
	if o := p.output(st.ID, ob.ID); o.Status != "broadcasting" {
		t.Errorf("the other destination: %+v", o)
	}

	// A destination added while live starts within 2 s.
	c := startSink(t)
	added := time.Now()
	oc := p.addDestination(st.ID, c.addr, c.key)
	p.waitOutput(st.ID, oc.ID, 2*time.Second, "starting or broadcasting within 2 s", func(o outputStatusJSON) bool {
		return o.Status == "starting" || o.Status == "broadcasting"
	})
	c.p.waitStatus(c.id, "active", 2*time.Second)
	p.waitOutput(st.ID, oc.ID, 5*time.Second, "broadcasting", broadcasting)
	t.Logf("the added destination broadcasts %v after it was added", time.Since(added).Round(time.Millisecond))

	// The dead destination comes back by itself, within the backoff cap.
	a.restart()
	back := p.waitOutput(st.ID, oa.ID, 35*time.Second, "broadcasting again", broadcasting)
	t.Logf("broadcasting again %v after the destination came back", back.Round(time.Millisecond))

	// Removing one stops only that one.
	if code, msg := p.call("DELETE", "/live_streams/"+st.ID+"/outputs/"+oc.ID, nil, nil); code != 200 {
		t.Fatalf("delete: %d %s", code, msg)
	}
	c.p.waitStatus(c.id, "idle", 5*time.Second)
	for _, o := range []outputJSON{oa, ob} {
		if got := p.output(st.ID, o.ID); got.Status != "broadcasting" {
			t.Errorf("after the removal: %+v", got)
		}
	}
	// HLS went on all along.
	// HLS kept its cadence all along: a segment every 2 s (the clip's GOP).
	_, pl = mediaPlaylist(t, hls, 10*time.Second)
	grown, want := mediaSequence(pl)+segmentCount(pl)-seqBefore, int(time.Since(since)/(2*time.Second))-1
	if grown < want {
		t.Errorf("HLS: %d segments in %v, want at least %d", grown, time.Since(since).Round(time.Millisecond), want)
	}
	t.Logf("HLS: %d segments in %v", grown, time.Since(since).Round(time.Millisecond))
	// What the other destination received has no gap.
	p.call("POST", "/live_streams/"+st.ID+"/idle", nil, nil)
	files := b.received(15 * time.Second)
	if len(files) != 1 {
		t.Fatalf("the other destination has %d recordings", len(files))
	}
	ts := mediatest.PacketTimes(t, files[0], "v")
	if len(ts) < 150 { // at least 5 s of 30 fps
		t.Fatalf("%d video packets", len(ts))
	}
	for i := 1; i < len(ts); i++ {
		if d := ts[i] - ts[i-1]; d <= 0 || d > 0.2 {
			t.Errorf("a gap of %.3f s at %.3f s", d, ts[i-1])
			break
		}
	}
}

// FFmpeg's own RTMP server (`ffmpeg -listen 1`) as a destination: the
// studio's push gets through its answers (it replies to FCPublish with a
// bare onFCPublish), broadcasts, and what FFmpeg wrote holds the publish,
// H.264 and AAC, decoding without an error.
func TestSimulcastToFFmpegListen(t *testing.T) {
	t.Parallel()
	mediatest.RequireTools(t)
	clip := mediatest.Clip{Width: 640, Height: 360, FPS: 30, Seconds: 12, VideoKbps: 800, AudioKbps: 96}.Path(t)
	p := startServe(t, t.TempDir(), "", "")
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 0})
	addr := freePort(t)
	out := filepath.Join(t.TempDir(), "out.flv")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var ffErr syncBuffer
	ff := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "warning", "-listen", "1", "-f", "flv",
		"-i", "rtmp://"+addr+"/app/key", "-c", "copy", "-y", out)
	ff.Stderr = &ffErr
	if err := ff.Start(); err != nil {
		t.Fatal(err)
	}
	ffDone := make(chan error, 1)
	go func() { ffDone <- ff.Wait() }()
	time.Sleep(500 * time.Millisecond) // FFmpeg listening
	var o outputJSON
	if code, msg := p.call("POST", "/live_streams/"+st.ID+"/outputs", map[string]any{
		"type": "simulcast", "uri": "rtmp://" + addr + "/app", "stream_key": "key", "vendor": "custom"}, &o); code != 201 {
		t.Fatalf("add destination: %d %s", code, msg)
	}
	pub := mediatest.Publish(t, clip, st.Input.URI+"/"+st.Input.StreamKey, false)
	p.waitOutput(st.ID, o.ID, 10*time.Second, "broadcasting to ffmpeg -listen", broadcasting)
	if err, ok := pub.Wait(40 * time.Second); !ok || err != nil {
		t.Fatalf("publishing ffmpeg: %v %v", ok, err)
	}
	// The session ends; the push closes and FFmpeg finishes its file.
	if code, msg := p.call("POST", "/live_streams/"+st.ID+"/idle", nil, nil); code != 200 {
		t.Fatalf("idle: %d %s", code, msg)
	}
	select {
	case <-ffDone:
	case <-time.After(20 * time.Second):
		t.Fatalf("ffmpeg -listen did not finish: %s", ffErr.String())
	}
	pr := mediatest.ProbeFile(t, out)
	if got := strings.Join(pr.Codecs(), ","); got != "h264,aac" {
		t.Errorf("codecs %s", got)
	}
	if pr.Duration < 9 {
		t.Errorf("%.3f s of a 12 s publish reached ffmpeg", pr.Duration)
	}
	if errs := mediatest.DecodeErrors(t, out); errs != "" {
		t.Errorf("decoding what ffmpeg wrote: %s", errs)
	}
}
