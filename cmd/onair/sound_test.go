package main

import (
	"context"
	"math"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

// soundJSON is a stream's stats.sound.
type soundJSON struct {
	Stats *struct {
		Sound *struct {
			Channels []struct {
				Peak float64 `json:"peak_dbfs"`
				RMS  float64 `json:"rms_dbfs"`
			} `json:"channels"`
			Silent   bool    `json:"silent"`
			QuietSec float64 `json:"quiet_sec"`
			Error    string  `json:"error"`
		} `json:"sound"`
	} `json:"stats"`
}

// The studio measures what an encoder sends: ffmpeg publishes a 440 Hz
// tone at FFmpeg's sine amplitude (1/8: RMS -21.07 dBFS) for 5 s, then
// digital silence; the stats give the tone's level within 1 dB, then
// silent: true and a live_stream.silent event once 10 s of silence have
// passed.
func TestSoundMeterAndSilence(t *testing.T) {
	mediatest.RequireTools(t)
	p := startServe(t, t.TempDir(), "", "")
	st := p.create(map[string]any{"name": "Sound check", "input": map[string]any{"type": "rtmp"}})
	sse := openSSE(t, p, "")
	defer sse.conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ff := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15:duration=24",
		"-f", "lavfi", "-i", "aevalsrc=if(lt(t\\,5)\\,0.125*sin(2*PI*440*t)\\,0):s=48000:d=24",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-c:a", "aac", "-b:a", "96k",
		"-f", "flv", st.Input.URI+"/"+st.Input.StreamKey)
	if err := ff.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = ff.Wait() }()

	// The tone.
	var rms float64
	deadline := time.Now().Add(5 * time.Second)
	for {
		var s soundJSON
		p.call("GET", "/live_streams/"+st.ID, nil, &s)
		if s.Stats != nil && s.Stats.Sound != nil && len(s.Stats.Sound.Channels) == 1 && s.Stats.Sound.Channels[0].RMS > -40 {
			rms = s.Stats.Sound.Channels[0].RMS
			if time.Now().After(deadline.Add(-2 * time.Second)) { // past the encoder's first frames
				break
			}
		}
		if time.Now().After(deadline.Add(5 * time.Second)) {
			t.Fatalf("no level of the tone in stats within 8 s: %+v", s.Stats)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if math.Abs(rms-(-21.07)) > 1 {
		t.Errorf("the tone's RMS %.1f dBFS; want -21.07 ± 1", rms)
	}

	// The silence, then the event.
	silentAt := time.Time{}
	for end := time.Now().Add(25 * time.Second); time.Now().Before(end); {
		_, typ, ok := sse.next(time.Until(end))
		if !ok {
			break
		}
		if typ == "live_stream.silent" {
			silentAt = time.Now()
			break
		}
	}
	if silentAt.IsZero() {
		t.Fatalf("no live_stream.silent within 25 s of the tone\n%s", p.logs.String())
	}
	var s soundJSON
	p.call("GET", "/live_streams/"+st.ID, nil, &s)
	if s.Stats == nil || s.Stats.Sound == nil || !s.Stats.Sound.Silent || s.Stats.Sound.QuietSec < 10 {
		t.Fatalf("after live_stream.silent the stats say %+v", s.Stats)
	}
	if c := s.Stats.Sound.Channels; len(c) != 1 || c[0].RMS > -60 {
		t.Errorf("silent channels %+v", c)
	}
}

// Without FFmpeg the studio runs without meters and says what to install.
func TestNoFFmpegNoMeters(t *testing.T) {
	p := startServe(t, t.TempDir(), "", "", "--ffmpeg", "/nonexistent/ffmpeg")
	var status struct {
		Parts []struct {
			Name   string `json:"name"`
			Up     bool   `json:"up"`
			Reason string `json:"reason"`
		} `json:"parts"`
	}
	if code, msg := p.call("GET", "/status", nil, &status); code != 200 {
		t.Fatalf("status: %d %s", code, msg)
	}
	found := false
	for _, part := range status.Parts {
		if part.Name == "ffmpeg" {
			found = true
			if part.Up || !strings.Contains(part.Reason, "sudo apt install ffmpeg") {
				t.Errorf("the ffmpeg part without FFmpeg: %+v", part)
			}
		}
	}
	if !found {
		t.Errorf("no ffmpeg part in %+v", status.Parts)
	}

	// An HLS output with renditions plays the source and says what to
	// install; the preview's answer has no sound.
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}})
	hlsID := ""
	for _, o := range st.Outputs {
		if o.Type == "hls" {
			hlsID = o.ID
		}
	}
	body := map[string]any{"renditions": []map[string]int{{"height": 240, "bitrate": 300_000}}}
	if code, msg := p.call("PATCH", "/live_streams/"+st.ID+"/outputs/"+hlsID, body, nil); code != 200 {
		t.Fatalf("PATCH renditions: %d %s", code, msg)
	}
	pub := mediatest.Publish(t, mediatest.Small.Path(t), "rtmp://"+p.rtmpAddr+"/live/"+st.Input.StreamKey, true)
	t.Cleanup(pub.Stop)
	uri := p.get(st.ID).hlsURI()
	mediaPlaylist(t, uri, 30*time.Second)
	var hls outputJSON
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, o := range p.get(st.ID).Outputs {
			if o.ID == hlsID {
				hls = o
			}
		}
		if hls.Status == "broadcasting" && hls.LastError != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if hls.Status != "broadcasting" || !strings.Contains(hls.LastError, "renditions need FFmpeg") || !strings.Contains(hls.LastError, "sudo apt install ffmpeg") {
		t.Errorf("the HLS output with renditions and no FFmpeg: %s %q", hls.Status, hls.LastError)
	}
	if vs := variantPlaylists(t, uri); len(vs) != 1 {
		t.Errorf("%d variants without FFmpeg; want the source alone", len(vs))
	}
}
