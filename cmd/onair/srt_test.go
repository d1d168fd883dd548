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

// ffmpeg publishes H.265 (libx265) and AAC over SRT, without and with
// B-frames: HLS and the recording decode as hevc at the clip's size, the
// stats name the codec, and the preview answers with what to change.
func TestSRTPublishHEVC(t *testing.T) {
	t.Parallel()
	mediatest.RequireTools(t)
	p := startServe(t, t.TempDir(), "", "")
	for _, bframes := range []bool{false, true} {
		clip := mediatest.Clip{Width: 640, Height: 360, FPS: 30, Seconds: 10, VideoKbps: 600, AudioKbps: 96, HEVC: true, NoBFrames: !bframes}.Path(t)
		st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 0})
		pub := mediatest.PublishSRT(t, clip, st.Input.SRTURI)
		p.waitStatus(st.ID, "active", 15*time.Second)
		_, _ = mediaPlaylist(t, st.hlsURI(), 20*time.Second)
		pr := mediatest.ProbeFile(t, st.hlsURI())
		if got := strings.Join(pr.Codecs(), ","); got != "hevc,aac" {
			t.Errorf("b-frames %v: HLS codecs %s", bframes, got)
		}
		if w, h := pr.VideoSize(); w != 640 || h != 360 {
			t.Errorf("b-frames %v: HLS video is %dx%d", bframes, w, h)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		dec, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-i", st.hlsURI(), "-t", "3", "-f", "null", "-").CombinedOutput()
		cancel()
		if err != nil || strings.TrimSpace(string(dec)) != "" {
			t.Errorf("b-frames %v: decoding HLS: %v\n%s", bframes, err, dec)
		}
		if s := p.get(st.ID).Stats; s == nil || s.VideoCodec != "h265" || s.Width != 640 || s.Height != 360 {
			t.Errorf("b-frames %v: stats %+v", bframes, s)
		}
		code, msg := p.call("POST", "/live_streams/"+st.ID+"/whep", nil, nil)
		if code != 409 || !strings.Contains(msg, "needs H.264") {
			t.Errorf("b-frames %v: the preview of an H.265 stream: %d %s", bframes, code, msg)
		}
		if err, ok := pub.Wait(40 * time.Second); !ok || err != nil {
			t.Fatalf("ffmpeg over SRT: exited %v, %v\n%s", ok, err, pub.Output())
		}
		if code, msg := p.call("POST", "/live_streams/"+st.ID+"/idle", nil, nil); code != 200 {
			t.Fatalf("idle: %d %s", code, msg)
		}
		a := p.waitAsset(st.ID, "ready", 20*time.Second)
		rec := checkPlaysAs(t, p.download(a), "hevc,aac", 10, 1.5)
		if w, h := rec.VideoSize(); w != 640 || h != 360 {
			t.Errorf("b-frames %v: the recording is %dx%d", bframes, w, h)
		}
	}
}
