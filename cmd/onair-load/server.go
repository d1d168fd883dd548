package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	apiKey    = "load"
	apiSecret = "load-secret"
)

// server is a running `onair serve` on loopback.
type server struct {
	cmd      *exec.Cmd
	data     string
	httpAddr string
	rtmpAddr string
	logs     syncBuffer
	done     chan struct{}
}

// syncBuffer collects the server's log while it runs.
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

func (s *server) logText() string { return s.logs.String() }

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func startServer(ctx context.Context, o options) (*server, error) {
	bin, gogc, cpuProfile := o.Onair, o.GOGC, o.CPUProfile
	data, err := os.MkdirTemp("", "onair-load")
	if err != nil {
		return nil, err
	}
	s := &server{data: data, done: make(chan struct{})}
	if s.httpAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	if s.rtmpAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	args := []string{"serve", "--data", data, "--http", s.httpAddr, "--rtmp", s.rtmpAddr, "--srt", "127.0.0.1:0"}
	if cpuProfile != "" {
		args = append(args, "--cpuprofile", cpuProfile)
	}
	args = append(args, strings.Fields(o.ServeArgs)...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = append(os.Environ(), "ONAIR_API_KEY="+apiKey, "ONAIR_API_SECRET="+apiSecret)
	if gogc != "" {
		s.cmd.Env = append(s.cmd.Env, "GOGC="+gogc)
	}
	if o.GOMAXPROCS != "" {
		s.cmd.Env = append(s.cmd.Env, "GOMAXPROCS="+o.GOMAXPROCS)
	}
	s.cmd.Stderr = &s.logs
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + s.httpAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("onair exited: %s", s.logs.String())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.stop()
	return nil, fmt.Errorf("onair did not start: %s", s.logs.String())
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	os.RemoveAll(s.data)
}

type stream struct {
	ID    string `json:"id"`
	Input struct {
		URI       string `json:"uri"`
		StreamKey string `json:"stream_key"`
		SRTURI    string `json:"srt_uri"`
	} `json:"input"`
	Outputs []struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		URI  string `json:"uri"`
	} `json:"outputs"`
}

func (s stream) hls() string {
	for _, o := range s.Outputs {
		if o.Type == "hls" {
			return o.URI
		}
	}
	return ""
}

// createStream makes a stream; without record its archive output is
// switched off, so the media path measured is ingest and HLS alone.
func (s *server) createStream(record bool) (stream, error) {
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.httpAddr+"/v2/video/local/live_streams",
		strings.NewReader(`{"input":{"type":"rtmp"},"idle_timeout_sec":5}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(apiKey, apiSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return stream{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env struct {
		Data stream `json:"data"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &env) != nil {
		return stream{}, fmt.Errorf("creating a stream: %d %s", resp.StatusCode, b)
	}
	if !record {
		for _, o := range env.Data.Outputs {
			if o.Type == "archive" {
				if err := s.switchOff(env.Data.ID, o.ID); err != nil {
					return stream{}, err
				}
			}
		}
	}
	return env.Data, nil
}

func (s *server) switchOff(id, outputID string) error {
	return s.send(http.MethodPatch, "/live_streams/"+id+"/outputs/"+outputID, `{"enabled":false}`, http.StatusOK, "switching recording off")
}

// send makes an API call with a JSON body and checks its status.
func (s *server) send(method, path, body string, want int, what string) error {
	req, _ := http.NewRequest(method, "http://"+s.httpAddr+"/v2/video/local"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(apiKey, apiSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %d %s", what, resp.StatusCode, b)
	}
	return nil
}

// libraryBytes is the size of the recordings the server wrote.
func (s *server) libraryBytes() int64 {
	var n int64
	entries, _ := os.ReadDir(filepath.Join(s.data, "library"))
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}
