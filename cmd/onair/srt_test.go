package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

// ffmpeg publishes H.264 and AAC over SRT for 10 s with the srt_uri the
// API gives: the stream goes active, its HLS decodes, and its recording
// decodes. A wrong key is refused at the handshake (the stream stays
// idle) and RTMP on the stream SRT feeds is refused.
func TestSRTPublish(t *testing.T) {
	t.Parallel()
	mediatest.RequireTools(t)
	clip := mediatest.Clip{Width: 640, Height: 360, FPS: 30, Seconds: 10, VideoKbps: 800, AudioKbps: 96}.Path(t)
	p := startServe(t, t.TempDir(), "", "")
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 0})
	uri := st.Input.SRTURI
	if !strings.HasPrefix(uri, "srt://127.0.0.1:") || !strings.Contains(uri, "streamid=publish:"+st.Input.StreamKey) {
		t.Fatalf("srt_uri %q", uri)
	}

	wrong := mediatest.PublishSRT(t, clip, strings.Replace(uri, st.Input.StreamKey, "not-a-key", 1))
	if err, ok := wrong.Wait(20 * time.Second); !ok || err == nil {
		t.Fatalf("a wrong key was not refused: exited %v, %v", ok, err)
	}
	if got := p.get(st.ID); got.Status != "idle" {
		t.Fatalf("after a wrong key the stream is %s", got.Status)
	}
	if strings.Contains(p.logs.String(), "not-a-key") {
		t.Error("the refused key is in the log")
	}

	pub := mediatest.PublishSRT(t, clip, uri)
	p.waitStatus(st.ID, "active", 15*time.Second)
	_, _ = mediaPlaylist(t, st.hlsURI(), 20*time.Second)

	// RTMP on the stream SRT feeds is refused; SRT goes on.
	rtmp := mediatest.Publish(t, clip, st.Input.URI+"/"+st.Input.StreamKey, false)
	if err, ok := rtmp.Wait(15 * time.Second); !ok || err == nil {
		t.Errorf("RTMP on a stream SRT feeds was not refused: exited %v, %v", ok, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dec, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-i", st.hlsURI(), "-t", "3", "-f", "null", "-").CombinedOutput()
	if err != nil || strings.TrimSpace(string(dec)) != "" {
		t.Fatalf("decoding HLS fed over SRT: err=%v output:\n%s", err, dec)
	}
	pr := mediatest.ProbeFile(t, st.hlsURI())
	if got := strings.Join(pr.Codecs(), ","); got != "h264,aac" {
		t.Errorf("HLS codecs %s", got)
	}
	if s := p.get(st.ID).Stats; s == nil || s.VideoCodec != "h264" || s.Width != 640 || s.Height != 360 || s.AudioCodec != "aac" {
		t.Errorf("stats of the SRT stream: %+v", s)
	}
	if err, ok := pub.Wait(40 * time.Second); !ok || err != nil {
		t.Fatalf("ffmpeg over SRT: exited %v, %v\n%s", ok, err, pub.Output())
	}
	if code, msg := p.call("POST", "/live_streams/"+st.ID+"/idle", nil, nil); code != 200 {
		t.Fatalf("idle: %d %s", code, msg)
	}
	a := p.waitAsset(st.ID, "ready", 20*time.Second)
	checkPlays(t, p.download(a), 10, 1.5)
}
