package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

// An enhanced-RTMP publisher (gortmplib's client, as OBS 29.1+ sends)
// publishes HEVC and AV1 with AAC: HLS and the recording decode as hevc /
// av1 at the clip's size, the stats and the preview name the codec, and
// simulcast relays the stream as enhanced RTMP to a second studio, whose
// recording decodes in the same codec.
func TestEnhancedRTMPPublish(t *testing.T) {
	t.Parallel()
	mediatest.RequireTools(t)
	for _, c := range []struct {
		clip         mediatest.Clip
		codec, stats string
		previewCodec string
	}{
		{mediatest.Clip{Width: 640, Height: 360, FPS: 30, Seconds: 10, VideoKbps: 600, AudioKbps: 96, HEVC: true, MP4: true}, "hevc", "h265", "H265"},
		{mediatest.Clip{Width: 640, Height: 360, FPS: 30, Seconds: 10, VideoKbps: 600, AudioKbps: 96, AV1: true}, "av1", "av1", "AV1"},
	} {
		t.Run(c.codec, func(t *testing.T) {
			t.Parallel()
			clip := c.clip.Path(t)
			p := startServe(t, t.TempDir(), "", "")
			sink := startSink(t)
			st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 0})
			o := p.addDestination(st.ID, sink.addr, sink.key)

			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			sent := make(chan error, 1)
			go func() { sent <- mediatest.PublishEnhancedRTMP(ctx, clip, st.Input.URI+"/"+st.Input.StreamKey) }()
			p.waitStatus(st.ID, "active", 15*time.Second)
			_, _ = mediaPlaylist(t, st.hlsURI(), 20*time.Second)
			pr := mediatest.ProbeFile(t, st.hlsURI())
			if got := strings.Join(pr.Codecs(), ","); got != c.codec+",aac" {
				t.Errorf("HLS codecs %s", got)
			}
			if w, h := pr.VideoSize(); w != 640 || h != 360 {
				t.Errorf("HLS video is %dx%d", w, h)
			}
			dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
			dec, err := exec.CommandContext(dctx, "ffmpeg", "-v", "error", "-i", st.hlsURI(), "-t", "3", "-f", "null", "-").CombinedOutput()
			dcancel()
			if err != nil || strings.TrimSpace(string(dec)) != "" {
				t.Errorf("decoding HLS: %v\n%s", err, dec)
			}
			if s := p.get(st.ID).Stats; s == nil || s.VideoCodec != c.stats || s.Width != 640 || s.Height != 360 || s.AudioCodec != "aac" {
				t.Errorf("stats %+v", s)
			}
			if code, msg := p.call("POST", "/live_streams/"+st.ID+"/whep", nil, nil); code != 409 || !strings.Contains(msg, "stream is "+c.previewCodec) {
				t.Errorf("the preview: %d %s", code, msg)
			}
			p.waitOutput(st.ID, o.ID, 15*time.Second, "broadcasting", func(o outputStatusJSON) bool { return o.Status == "broadcasting" })
			if err := <-sent; err != nil {
				t.Fatalf("publishing: %v", err)
			}
			if code, msg := p.call("POST", "/live_streams/"+st.ID+"/idle", nil, nil); code != 200 {
				t.Fatalf("idle: %d %s", code, msg)
			}
			rec := checkPlaysAs(t, p.download(p.waitAsset(st.ID, "ready", 20*time.Second)), c.codec+",aac", 10, 1.5)
			if w, h := rec.VideoSize(); w != 640 || h != 360 {
				t.Errorf("the recording is %dx%d", w, h)
			}
			relayed := sink.received(30 * time.Second)
			if len(relayed) != 1 {
				t.Fatalf("the second studio recorded %d sessions, want 1", len(relayed))
			}
			checkPlaysAs(t, relayed[0], c.codec+",aac", 10, 2)
		})
	}
}
