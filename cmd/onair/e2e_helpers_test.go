package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	testKey    = "test_key"
	testSecret = "test_secret_value"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds onair once per test run.
// studioRace builds the studio the tests run with the race detector;
// load runs for figures turn it off.
var studioRace = flag.Bool("studio-race", true, "build the studio under test with -race (off for load figures)")

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "onair-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "onair")
		args := []string{"build", "-o", binPath, "."}
		if *studioRace {
			args = append(args[:1], append([]string{"-race"}, args[1:]...)...)
		}
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// freePort returns a loopback address that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is a running `onair serve`.
type proc struct {
	t        *testing.T
	cmd      *exec.Cmd
	data     string
	httpAddr string
	rtmpAddr string
	logs     *syncBuffer
	done     chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs onair serve on data with fresh ports (or the given ones).
func startServe(t *testing.T, data, httpAddr, rtmpAddr string, extra ...string) *proc {
	t.Helper()
	if httpAddr == "" {
		httpAddr = freePort(t)
	}
	if rtmpAddr == "" {
		rtmpAddr = freePort(t)
	}
	p := &proc{t: t, data: data, httpAddr: httpAddr, rtmpAddr: rtmpAddr, logs: &syncBuffer{}, done: make(chan struct{})}
	if !slices.Contains(extra, "--srt") {
		extra = append(extra, "--srt", "127.0.0.1:0") // tests run side by side
	}
	p.cmd = exec.Command(binary(t), append([]string{"serve", "--data", data, "--http", httpAddr, "--rtmp", rtmpAddr}, extra...)...)
	p.cmd.Env = append(os.Environ(), "ONAIR_API_KEY="+testKey, "ONAIR_API_SECRET="+testSecret)
	p.cmd.Stderr = p.logs
	p.cmd.Stdout = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("onair logs:\n%s", p.logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("onair serve exited early:\n%s", p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("onair serve not ready:\n%s", p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.t.Fatalf("onair did not stop on SIGTERM:\n%s", p.logs.String())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		p.t.Fatalf("onair exited with %d:\n%s", code, p.logs.String())
	}
}

// kill9 kills the process at once.
func (p *proc) kill9() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *proc) base() string { return "http://" + p.httpAddr + "/v2/video/local" }

// apiCall does an authenticated JSON request and decodes the envelope's data into out.
func (p *proc) call(method, path string, body any, out any) (int, string) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, p.base()+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(testKey, testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Data  json.RawMessage `json:"data"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		p.t.Fatalf("%s %s: answer is not JSON: %s", method, path, raw)
	}
	if env.Error != nil {
		return resp.StatusCode, env.Error.Message
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			p.t.Fatalf("%s %s: decoding data: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, ""
}

type outputJSON struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	URI       string `json:"uri"`
	Status    string `json:"status"`
	PublicID  string `json:"public_id"`
	Name      string `json:"name"`
	LastError string `json:"last_error"`
}

type streamJSON struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Input struct {
		Type      string `json:"type"`
		URI       string `json:"uri"`
		StreamKey string `json:"stream_key"`
		SRTURI    string `json:"srt_uri"`
	} `json:"input"`
	Status         string       `json:"status"`
	Outputs        []outputJSON `json:"outputs"`
	IdleTimeoutSec int          `json:"idle_timeout_sec"`
	MaxRuntimeSec  int          `json:"max_runtime_sec"`
	Stats          *struct {
		Publishing     bool    `json:"publishing"`
		VideoCodec     string  `json:"video_codec"`
		Width          int     `json:"width"`
		Height         int     `json:"height"`
		FrameRate      float64 `json:"frame_rate"`
		AudioCodec     string  `json:"audio_codec"`
		SampleRate     int     `json:"sample_rate"`
		BitrateKbps    float64 `json:"bitrate_kbps"`
		FramesReceived int     `json:"frames_received"`
	} `json:"stats"`
}

func (s streamJSON) hlsURI() string {
	for _, o := range s.Outputs {
		if o.Type == "hls" {
			return o.URI
		}
	}
	return ""
}

func (p *proc) create(body map[string]any) streamJSON {
	p.t.Helper()
	var st streamJSON
	if code, msg := p.call("POST", "/live_streams", body, &st); code != 201 {
		p.t.Fatalf("create: %d %s", code, msg)
	}
	return st
}

func (p *proc) get(id string) streamJSON {
	p.t.Helper()
	var st streamJSON
	if code, msg := p.call("GET", "/live_streams/"+id, nil, &st); code != 200 {
		p.t.Fatalf("get: %d %s", code, msg)
	}
	return st
}

// waitStatus polls the stream until it has status or the time is up.
func (p *proc) waitStatus(id, status string, d time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		st := p.get(id)
		if st.Status == status {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("stream %s is %s, want %s after %v\n%s", id, st.Status, status, d, p.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// httpGet fetches url with a timeout.
func httpGet(t *testing.T, url string, timeout time.Duration) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// mediaPlaylist waits for the HLS output to have a playlist and returns the
// media playlist's URL and body.
func mediaPlaylist(t *testing.T, hlsURI string, d time.Duration) (string, string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		code, body := httpGet(t, hlsURI, 5*time.Second)
		if code == 200 {
			for line := range strings.SplitSeq(string(body), "\n") {
				if line != "" && !strings.HasPrefix(line, "#") {
					u := hlsURI[:strings.LastIndex(hlsURI, "/")+1] + line
					c2, b2 := httpGet(t, u, 10*time.Second)
					if c2 == 200 {
						return u, string(b2)
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no HLS playlist at %s after %v: %d %s", hlsURI, d, code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// mediaSequence reads EXT-X-MEDIA-SEQUENCE.
func mediaSequence(pl string) int {
	for line := range strings.SplitSeq(pl, "\n") {
		if v, ok := strings.CutPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"); ok {
			var n int
			fmt.Sscan(v, &n)
			return n
		}
	}
	return -1
}

// lastSegment returns the number of the newest full segment: sequence + count - 1.
func segmentCount(pl string) int {
	return strings.Count(pl, "#EXTINF:")
}
