// Package mediatest makes real media for tests: clips encoded by ffmpeg
// (cached between runs), ffmpeg publishers and an enhanced-RTMP publisher.
package mediatest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Clip describes a test clip.
type Clip struct {
	Width, Height int
	FPS           int
	Seconds       int
	// VideoKbps and AudioKbps are the bitrates; zero AudioKbps means no
	// audio, zero VideoKbps no video.
	VideoKbps int
	AudioKbps int
	// GOPSeconds is the key frame interval. It defaults to 2.
	GOPSeconds int
	// NoBFrames encodes without B-frames, as the WebRTC preview needs
	// (x264's presets use them, as OBS does unless told otherwise).
	NoBFrames bool
	// HEVC encodes H.265 (libx265) into MPEG-TS instead of H.264 into FLV
	// (FLV cannot carry it), for SRT publishers.
	HEVC bool
	// AV1 encodes AV1 (SVT-AV1) into fragmented MP4, for
	// PublishEnhancedRTMP.
	AV1 bool
	// MP4 writes fragmented MP4 instead (H.264 or H.265), for
	// PublishEnhancedRTMP.
	MP4 bool
}

// Preview is a light clip without B-frames and with a key frame every
// second, for the WebRTC preview.
var Preview = Clip{Width: 640, Height: 360, FPS: 30, Seconds: 12, VideoKbps: 800, AudioKbps: 96, GOPSeconds: 1, NoBFrames: true}

// Small is a light clip for functional tests.
var Small = Clip{Width: 640, Height: 360, FPS: 30, Seconds: 12, VideoKbps: 800, AudioKbps: 96}

// Standard is the performance scenario: 720p30, 2 s GOP, about 2.7 Mbit/s
// H.264 and 128 kbit/s AAC.
var Standard = Clip{Width: 1280, Height: 720, FPS: 30, Seconds: 30, VideoKbps: 2700, AudioKbps: 128}

func (c Clip) name() string {
	nob := ""
	if c.NoBFrames {
		nob = "_nob"
	}
	codec, ext := "", "flv"
	if c.HEVC {
		codec, ext = "_hevc", "ts"
	}
	if c.AV1 {
		codec = "_av1"
	}
	if c.MP4 || c.AV1 {
		ext = "mp4"
	}
	return fmt.Sprintf("clip_%dx%d_%dfps_%ds_v%d_a%d_g%d%s%s.%s", c.Width, c.Height, c.FPS, c.Seconds, c.VideoKbps, c.AudioKbps, c.gop(), nob, codec, ext)
}

func (c Clip) gop() int {
	if c.GOPSeconds == 0 {
		return 2
	}
	return c.GOPSeconds
}

// RequireTools skips nothing: it fails the test when ffmpeg or ffprobe is
// missing, since the tests promise real media.
func RequireTools(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is required by this test (apt-get install ffmpeg): %v", tool, err)
		}
	}
}

// Path returns the clip's file, encoding it on first use.
func (c Clip) Path(t testing.TB) string {
	t.Helper()
	RequireTools(t)
	p, err := c.Make(cacheDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func cacheDir() string {
	if d := os.Getenv("ONAIR_TEST_CACHE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "onair-test-media")
}

// Make encodes the clip into dir unless it is there already.
func (c Clip) Make(dir string) (string, error) {
	p := filepath.Join(dir, c.name())
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating clip folder: %w", err)
	}
	tmp := fmt.Sprintf("%s.%d.tmp%s", p, os.Getpid(), filepath.Ext(p))
	args := []string{"-hide_banner", "-loglevel", "error", "-y"}
	if c.VideoKbps > 0 {
		args = append(args, "-f", "lavfi", "-i",
			fmt.Sprintf("testsrc2=size=%dx%d:rate=%d:duration=%d", c.Width, c.Height, c.FPS, c.Seconds))
	}
	if c.AudioKbps > 0 {
		args = append(args, "-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=48000:duration=%d", c.Seconds))
	}
	if c.VideoKbps == 0 {
		args = append(args, "-vn")
	}
	if c.AudioKbps == 0 {
		args = append(args, "-an")
	}
	switch {
	case c.VideoKbps == 0:
	case c.AV1:
		args = append(args, "-c:v", "libsvtav1", "-preset", "10", "-pix_fmt", "yuv420p",
			"-b:v", fmt.Sprintf("%dk", c.VideoKbps), "-g", fmt.Sprint(c.FPS*c.gop()))
	case c.HEVC:
		params := fmt.Sprintf("keyint=%d:min-keyint=%d:scenecut=0:log-level=error", c.FPS*c.gop(), c.FPS*c.gop())
		if c.NoBFrames {
			params += ":bframes=0"
		}
		args = append(args, "-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
			"-b:v", fmt.Sprintf("%dk", c.VideoKbps), "-x265-params", params)
	default:
		k := c.VideoKbps
		args = append(args, "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
			"-b:v", fmt.Sprintf("%dk", k), "-maxrate", fmt.Sprintf("%dk", k), "-bufsize", fmt.Sprintf("%dk", 2*k),
			"-g", fmt.Sprint(c.FPS*c.gop()), "-keyint_min", fmt.Sprint(c.FPS*c.gop()), "-sc_threshold", "0")
		if c.NoBFrames {
			args = append(args, "-bf", "0")
		}
	}
	if c.AudioKbps > 0 {
		args = append(args, "-c:a", "aac", "-b:a", fmt.Sprintf("%dk", c.AudioKbps), "-ac", "2")
	}
	format := "flv"
	switch {
	case c.MP4 || c.AV1:
		format = "mp4"
		args = append(args, "-movflags", "frag_keyframe+empty_moov+default_base_moof")
	case c.HEVC:
		format = "mpegts"
	}
	args = append(args, "-f", format, tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput()
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("encoding test clip: %w: %s", err, out)
	}
	return p, os.Rename(tmp, p)
}

// Publisher is an ffmpeg process publishing a clip over RTMP in real time.
type Publisher struct {
	Cmd    *exec.Cmd
	stderr strings.Builder
	done   chan struct{}
	err    error
}

// Publish starts ffmpeg sending clip (looped when loop is true) to url.
// The process is killed when the test ends.
func Publish(t testing.TB, clip, url string, loop bool) *Publisher {
	t.Helper()
	return publish(t, clip, "flv", url, loop)
}

// PublishSRT starts ffmpeg sending clip once as MPEG-TS to an SRT url
// (srt://…?streamid=publish:KEY…).
func PublishSRT(t testing.TB, clip, url string) *Publisher {
	t.Helper()
	return publish(t, clip, "mpegts", url, false)
}

// PublishFast starts ffmpeg sending clip times times over RTMP at rate
// times real time (a long publish in a short test: the studio's timeline is
// the media's, not the clock's).
func PublishFast(t testing.TB, clip, url string, times int, rate float64) *Publisher {
	t.Helper()
	return start(t, []string{"-hide_banner", "-loglevel", "warning", "-readrate", fmt.Sprint(rate),
		"-stream_loop", fmt.Sprint(times - 1), "-i", clip, "-c", "copy", "-f", "flv", url})
}

func publish(t testing.TB, clip, format, url string, loop bool) *Publisher {
	t.Helper()
	args := []string{"-hide_banner", "-loglevel", "warning", "-re"}
	if loop {
		args = append(args, "-stream_loop", "-1")
	}
	return start(t, append(args, "-i", clip, "-c", "copy", "-f", format, url))
}

func start(t testing.TB, args []string) *Publisher {
	t.Helper()
	p := &Publisher{Cmd: exec.Command("ffmpeg", args...), done: make(chan struct{})}
	p.Cmd.Stderr = &p.stderr
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("starting ffmpeg: %v", err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.Stop)
	return p
}

// Stop kills ffmpeg and waits for it.
func (p *Publisher) Stop() {
	p.Cmd.Process.Kill()
	<-p.done
}

// Running reports whether ffmpeg is still running.
func (p *Publisher) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Wait waits up to d for ffmpeg to exit and returns its error; ok is false
// when it is still running.
func (p *Publisher) Wait(d time.Duration) (err error, ok bool) { //nolint:revive // reads as "error, exited" at the call sites
	select {
	case <-p.done:
		return p.err, true
	case <-time.After(d):
		return nil, false
	}
}

// Output returns what ffmpeg printed so far (after exit).
func (p *Publisher) Output() string {
	<-p.done
	return p.stderr.String()
}
