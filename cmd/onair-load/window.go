package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// windowResult is what the window scenario measured.
type windowResult struct {
	Runs          int       `json:"runs"`
	StartMs       []float64 `json:"start_to_window_ms"`
	StartMedianMs float64   `json:"start_to_window_ms_median"`
	// Until the window shows the studio (its page built and set: the
	// studio logs it), later than the window being mapped.
	ReadyMs       []float64 `json:"start_to_studio_shown_ms"`
	ReadyMedianMs float64   `json:"start_to_studio_shown_ms_median"`
	GLFWRetries   int       `json:"glfw_retries"`
	Streams       int       `json:"streams"`
	IdleRSSMB     float64   `json:"idle_rss_mb"`
	// The RSS split: anonymous (Go and C heaps) and file-backed (the
	// binary and shared libraries, among them the GL driver's).
	AnonMB float64 `json:"rss_anon_mb"`
	FileMB float64 `json:"rss_file_mb"`
}

// runWindow starts `onair` (the window) on the X display in $DISPLAY
// several times and measures how long until its window is shown (xdotool
// sees it mapped); the last run then gets N streams over the API and its
// RSS is read after it settled.
func runWindowScenario(ctx context.Context, o options, runs, streams int) (windowResult, error) {
	r := windowResult{Runs: runs, Streams: streams}
	if os.Getenv("DISPLAY") == "" {
		return r, fmt.Errorf("-window needs an X display (DISPLAY), e.g. xvfb-run")
	}
	if _, err := exec.LookPath("xdotool"); err != nil {
		return r, fmt.Errorf("-window needs xdotool: %w", err)
	}
	var times, readies []time.Duration
	for i := range runs {
		last := i == runs-1
		d, ready, stop, srv, err := startWindow(ctx, o)
		for try := 0; err != nil && strings.Contains(err.Error(), "failed to initialise GLFW") && try < 2; try++ {
			// Now and then under Xvfb the X connection is refused at once
			// (GLFW finds no display); such a start is started again and
			// counted, not timed.
			r.GLFWRetries++
			time.Sleep(time.Second)
			d, ready, stop, srv, err = startWindow(ctx, o)
		}
		if err != nil {
			return r, err
		}
		times, readies = append(times, d), append(readies, ready)
		r.StartMs, r.ReadyMs = append(r.StartMs, ms(d)), append(r.ReadyMs, ms(ready))
		if last {
			for range streams {
				if _, err := srv.createStream(false); err != nil {
					stop()
					return r, err
				}
			}
			time.Sleep(5 * time.Second)
			rss, err := rssBytes(srv.pid())
			if err != nil {
				stop()
				return r, err
			}
			r.IdleRSSMB = float64(rss) / (1 << 20)
			anon, _ := statusBytes(srv.pid(), "RssAnon")
			file, _ := statusBytes(srv.pid(), "RssFile")
			r.AnonMB, r.FileMB = float64(anon)/(1<<20), float64(file)/(1<<20)
		}
		stop()
	}
	r.StartMedianMs = ms(quantile(times, 0.5))
	r.ReadyMedianMs = ms(quantile(readies, 0.5))
	return r, nil
}

// startWindow starts the window with a fresh data folder and waits for its
// window, the studio in it and its API: how long until the window was
// mapped, and until the studio logged that its page is in the window.
func startWindow(ctx context.Context, o options) (shown, ready time.Duration, stop func(), s *server, err error) {
	data, err := os.MkdirTemp("", "onair-window")
	if err != nil {
		return 0, 0, nil, nil, err
	}
	s = &server{data: data, done: make(chan struct{})}
	if s.httpAddr, err = freeAddr(); err != nil {
		return 0, 0, nil, nil, err
	}
	if s.rtmpAddr, err = freeAddr(); err != nil {
		return 0, 0, nil, nil, err
	}
	s.cmd = exec.Command(o.Onair, "--data", data, "--http", s.httpAddr, "--rtmp", s.rtmpAddr, "--srt", "127.0.0.1:0")
	s.cmd.Env = append(os.Environ(), "ONAIR_API_KEY="+apiKey, "ONAIR_API_SECRET="+apiSecret)
	s.cmd.Stderr = &s.logs
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		return 0, 0, nil, nil, fmt.Errorf("starting %s: %w", o.Onair, err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	stop = s.stop
	pid := fmt.Sprint(s.cmd.Process.Pid)
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := exec.CommandContext(ctx, "xdotool", "search", "--all", "--onlyvisible", "--pid", pid, "--name", "OnAir Studio").Output()
		if strings.TrimSpace(string(out)) != "" {
			break
		}
		select {
		case <-s.done:
			return 0, 0, nil, nil, fmt.Errorf("onair exited: %s", s.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return 0, 0, nil, nil, fmt.Errorf("no window within 30 s: %s", s.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	shown = time.Since(start)
	for !strings.Contains(s.logs.String(), windowReadyLog) {
		if time.Now().After(deadline) {
			stop()
			return 0, 0, nil, nil, fmt.Errorf("the window did not say it shows the studio within 30 s: %s", s.logs.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	ready = time.Since(start)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + s.httpAddr + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return shown, ready, stop, s, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	return 0, 0, nil, nil, fmt.Errorf("the window's API did not answer")
}

// windowReadyLog is what the studio logs once its page is in the window.
const windowReadyLog = `msg="the window shows the studio"`
