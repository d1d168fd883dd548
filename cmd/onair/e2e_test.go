package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

// lastSegmentNumber is the media sequence number of the newest segment.
func lastSegmentNumber(pl string) int { return mediaSequence(pl) + segmentCount(pl) - 1 }

func TestPublishToHLSEndToEnd(t *testing.T) {
	clip := mediatest.Small.Path(t)
	p := startServe(t, t.TempDir(), "", "")

	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "name": "End to end"})
	if st.Status != "idle" || st.Input.URI != "rtmp://"+p.rtmpAddr+"/live" || len(st.Input.StreamKey) < 22 {
		t.Fatalf("unexpected new stream: %+v", st)
	}
	if len(st.Outputs) != 2 {
		t.Fatalf("want hls and archive outputs, got %+v", st.Outputs)
	}

	pub := mediatest.Publish(t, clip, st.Input.URI+"/"+st.Input.StreamKey, true)
	p.waitStatus(st.ID, "active", 15*time.Second)
	_, pl := mediaPlaylist(t, st.hlsURI(), 20*time.Second)
	if !strings.Contains(pl, "#EXT-X-PART") {
		t.Errorf("default HLS should be low-latency (parts), got:\n%s", pl)
	}

	// ffprobe sees H.264 and AAC at the clip's size.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height",
		"-of", "json", st.hlsURI()).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v %s", err, out)
	}
	var probe struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
			Width     int    `json:"width"`
			Height    int    `json:"height"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatalf("ffprobe output: %v: %s", err, out)
	}
	codecs := map[string]bool{}
	for _, s := range probe.Streams {
		codecs[s.CodecName] = true
		if s.CodecName == "h264" && (s.Width != 640 || s.Height != 360) {
			t.Errorf("video is %dx%d, want 640x360", s.Width, s.Height)
		}
	}
	if !codecs["h264"] || !codecs["aac"] {
		t.Errorf("want h264 and aac streams, got %s", out)
	}

	// ffmpeg decodes several seconds of segments without an error.
	dec, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-i", st.hlsURI(), "-t", "4", "-f", "null", "-").CombinedOutput()
	if err != nil || strings.TrimSpace(string(dec)) != "" {
		t.Fatalf("decoding HLS: err=%v output:\n%s", err, dec)
	}

	// The stream's stats say what comes in.
	got := p.get(st.ID)
	if s := got.Stats; s == nil || !s.Publishing || s.VideoCodec != "h264" || s.Width != 640 || s.Height != 360 ||
		s.FrameRate != 30 || s.AudioCodec != "aac" || s.SampleRate != 48000 || s.BitrateKbps < 300 || s.FramesReceived < 60 {
		t.Errorf("stats of the live stream: %+v", s)
	}

	// The HLS output reports broadcasting.
	if o := p.get(st.ID).Outputs; o[0].Type != "hls" || o[0].Status != "broadcasting" {
		t.Errorf("hls output status: %+v", o)
	}

	// idle ends the session at once and disconnects the encoder.
	var msg struct{ Message string }
	if code, e := p.call("POST", "/live_streams/"+st.ID+"/idle", nil, &msg); code != 200 {
		t.Fatalf("idle: %d %s", code, e)
	}
	if got := p.get(st.ID); got.Status != "idle" || got.Stats != nil {
		t.Fatalf("after idle the stream is %s with stats %+v", got.Status, got.Stats)
	}
	if _, exited := pub.Wait(10 * time.Second); !exited {
		t.Fatal("the encoder was not disconnected by idle")
	}
	if code, _ := httpGet(t, st.hlsURI(), 5*time.Second); code != 404 {
		t.Errorf("HLS of an idle stream answers %d, want 404", code)
	}
}

func TestRefusalsReconnectAndIdleTimeout(t *testing.T) {
	clip := mediatest.Small.Path(t)
	p := startServe(t, t.TempDir(), "", "")
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 4})
	url := st.Input.URI + "/" + st.Input.StreamKey

	first := mediatest.Publish(t, clip, url, true)
	p.waitStatus(st.ID, "active", 15*time.Second)
	playlistURL, pl := mediaPlaylist(t, st.hlsURI(), 20*time.Second)

	// A wrong key and a second publisher are refused; the first goes on.
	wrong := mediatest.Publish(t, clip, st.Input.URI+"/not-a-key", false)
	if _, exited := wrong.Wait(15 * time.Second); !exited {
		t.Fatal("publisher with a wrong key was not refused")
	}
	second := mediatest.Publish(t, clip, url, false)
	if _, exited := second.Wait(15 * time.Second); !exited {
		t.Fatal("second publisher on a busy key was not refused")
	}
	if !first.Running() {
		t.Fatalf("first publisher stopped: %s", first.Output())
	}
	if !strings.Contains(p.logs.String(), "publisher refused") {
		t.Error("no log line for the refused publishers")
	}
	before := lastSegmentNumber(pl)
	waitPlaylist(t, playlistURL, func(pl string) bool { return lastSegmentNumber(pl) >= before+2 }, 15*time.Second)

	// The encoder drops and comes back within the idle timeout: same
	// session, the playlist keeps counting.
	_, pl = mediaPlaylist(t, st.hlsURI(), 5*time.Second)
	seqBefore, lastBefore := mediaSequence(pl), lastSegmentNumber(pl)
	first.Stop()
	time.Sleep(500 * time.Millisecond)
	if got := p.get(st.ID).Status; got != "active" {
		t.Fatalf("stream is %s right after the encoder left, want active", got)
	}
	again := mediatest.Publish(t, clip, url, true)
	pl = waitPlaylist(t, playlistURL, func(pl string) bool { return lastSegmentNumber(pl) >= lastBefore+3 }, 20*time.Second)
	if mediaSequence(pl) < seqBefore {
		t.Fatalf("media sequence went back from %d to %d after reconnect:\n%s", seqBefore, mediaSequence(pl), pl)
	}
	if !strings.Contains(pl, "#EXT-X-DISCONTINUITY\n") {
		t.Fatalf("the reconnect is not marked as a discontinuity:\n%s", pl)
	}
	if !again.Running() {
		t.Fatalf("reconnected publisher stopped: %s", again.Output())
	}

	// After the idle timeout without an encoder, the stream goes idle.
	again.Stop()
	time.Sleep(2 * time.Second)
	if got := p.get(st.ID).Status; got != "active" {
		t.Fatalf("stream went %s before its idle timeout", got)
	}
	p.waitStatus(st.ID, "idle", 10*time.Second)
}

// waitPlaylist polls a media playlist until ok accepts it.
func waitPlaylist(t *testing.T, url string, ok func(string) bool, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	var last string
	for time.Now().Before(deadline) {
		code, body := httpGet(t, url, 5*time.Second)
		if code == 200 {
			last = string(body)
			if ok(last) {
				return last
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("playlist %s did not reach the expected state in %v; last:\n%s", url, d, last)
	return ""
}

// Audio-only and video-only publishers are served as HLS with just their track.
func TestAudioOnlyAndVideoOnly(t *testing.T) {
	p := startServe(t, t.TempDir(), "", "")
	cases := []struct {
		name string
		clip mediatest.Clip
		want string
	}{
		{"audio only", mediatest.Clip{Seconds: 12, AudioKbps: 96}, "aac"},
		{"video only", mediatest.Clip{Width: 320, Height: 240, FPS: 25, Seconds: 12, VideoKbps: 400}, "h264"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "name": c.name})
			mediatest.Publish(t, c.clip.Path(t), st.Input.URI+"/"+st.Input.StreamKey, true)
			p.waitStatus(st.ID, "active", 15*time.Second)
			mediaPlaylist(t, st.hlsURI(), 25*time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries", "stream=codec_name",
				"-of", "csv=p=0", st.hlsURI()).Output()
			if err != nil {
				t.Fatalf("ffprobe: %v", err)
			}
			// ffprobe lists each stream under its program too: compare the set.
			got := map[string]bool{}
			for f := range strings.FieldsSeq(string(out)) {
				got[f] = true
			}
			if len(got) != 1 || !got[c.want] {
				t.Fatalf("streams %q, want only %s", out, c.want)
			}
			dec, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-i", st.hlsURI(), "-t", "3", "-f", "null", "-").CombinedOutput()
			if err != nil || strings.TrimSpace(string(dec)) != "" {
				t.Fatalf("decoding: %v %s", err, dec)
			}
		})
	}
}
