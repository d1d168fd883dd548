package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
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
	// The same start of a window with one label and nothing else (the
	// toolkit's own start on this machine), started in turn with the
	// studio's; empty without -window-floor.
	FloorMs       []float64 `json:"floor_start_to_window_ms,omitempty"`
	FloorMedianMs float64   `json:"floor_start_to_window_ms_median,omitempty"`
	GLFWRetries   int       `json:"glfw_retries"`
	Streams       int       `json:"streams"`
	IdleRSSMB     float64   `json:"idle_rss_mb"`
	// The RSS split: anonymous (Go and C heaps) and file-backed (the
	// binary and shared libraries, among them the GL driver's).
	AnonMB float64 `json:"rss_anon_mb"`
	FileMB float64 `json:"rss_file_mb"`
}

// windowOptions is what the window scenario runs.
type windowOptions struct {
	Runs, Streams int
	// Floor is a program opening one Fyne window with one label
	// (cmd/onair-load/fynewindow), "" for none.
	Floor string
}

// runWindowScenario starts `onair` (the window) on the X display in
// $DISPLAY several times and measures how long until its window is
// mapped, told by the X server itself (xev following the root window):
// nothing polls while the studio starts, so the measuring takes no CPU
// from it. The last run then gets N streams over the API and its RSS is
// read after it settled.
func runWindowScenario(ctx context.Context, o options, wo windowOptions) (windowResult, error) {
	r := windowResult{Runs: wo.Runs, Streams: wo.Streams}
	if os.Getenv("DISPLAY") == "" {
		return r, fmt.Errorf("-window needs an X display (DISPLAY), e.g. xvfb-run")
	}
	for _, tool := range []string{"xev", "xprop"} {
		if _, err := exec.LookPath(tool); err != nil {
			return r, fmt.Errorf("-window needs %s (Debian: sudo apt install x11-utils): %w", tool, err)
		}
	}
	var times, readies, floors []time.Duration
	for i := range wo.Runs {
		if wo.Floor != "" {
			d, err := startFloor(ctx, wo.Floor)
			if err != nil {
				return r, err
			}
			floors = append(floors, d)
			r.FloorMs = append(r.FloorMs, ms(d))
		}
		last := i == wo.Runs-1
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
			for range wo.Streams {
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
	if len(floors) > 0 {
		r.FloorMedianMs = ms(quantile(floors, 0.5))
	}
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
	maps, err := watchMaps(ctx)
	if err != nil {
		return 0, 0, nil, nil, err
	}
	defer maps.close()
	s.cmd = exec.Command(o.Onair, "--data", data, "--http", s.httpAddr, "--rtmp", s.rtmpAddr, "--srt", "127.0.0.1:0")
	s.cmd.Env = append(os.Environ(), "ONAIR_API_KEY="+apiKey, "ONAIR_API_SECRET="+apiSecret)
	s.cmd.Stderr = &s.logs
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		return 0, 0, nil, nil, fmt.Errorf("starting %s: %w", o.Onair, err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	stop = s.stop
	deadline := time.Now().Add(30 * time.Second)
	var m mapped
	select {
	case m = <-maps.maps:
	case <-s.done:
		return 0, 0, nil, nil, fmt.Errorf("onair exited: %s", s.logs.String())
	case <-time.After(time.Until(deadline)):
		stop()
		return 0, 0, nil, nil, fmt.Errorf("no window within 30 s: %s", s.logs.String())
	}
	shown = m.at.Sub(start)
	for !strings.Contains(s.logs.String(), windowReadyLog) {
		if time.Now().After(deadline) {
			stop()
			return 0, 0, nil, nil, fmt.Errorf("the window did not say it shows the studio within 30 s: %s", s.logs.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	ready = time.Since(start)
	// Asked only now, so that asking takes nothing from the start.
	if err := m.ownedBy(ctx, s.pid()); err != nil {
		stop()
		return 0, 0, nil, nil, err
	}
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

// startFloor starts the one-label window and measures how long until the
// X server maps it, the same way as the studio's.
func startFloor(ctx context.Context, bin string) (time.Duration, error) {
	maps, err := watchMaps(ctx)
	if err != nil {
		return 0, err
	}
	defer maps.close()
	var logs syncBuffer
	cmd := exec.Command(bin)
	cmd.Stderr = &logs
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting %s: %w", bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() { cmd.Process.Kill(); <-done }()
	select {
	case m := <-maps.maps:
		return m.at.Sub(start), m.ownedBy(ctx, cmd.Process.Pid)
	case <-done:
		return 0, fmt.Errorf("%s exited: %s", bin, logs.String())
	case <-time.After(30 * time.Second):
		return 0, fmt.Errorf("%s showed no window within 30 s: %s", bin, logs.String())
	}
}

// mapWatch follows the X server's top-level windows as they are mapped,
// by xev selecting the root window's substructure events: the X server
// tells of each map as it happens.
type mapWatch struct {
	cmd  *exec.Cmd
	maps chan mapped
}

// mapped is one top-level window mapped, and when it was told.
type mapped struct {
	at     time.Time
	window string // X window id, 0x…
}

// watchMaps starts following maps, and returns once the X server is seen
// telling xev of events; close ends it.
func watchMaps(ctx context.Context) (*mapWatch, error) {
	w := &mapWatch{maps: make(chan mapped, 16)}
	// Root property changes too: the probe below.
	w.cmd = exec.CommandContext(ctx, "xev", "-root", "-event", "substructure", "-event", "property")
	out, err := w.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var xevErr syncBuffer
	w.cmd.Stderr = &xevErr
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting xev to see windows mapped: %w", err)
	}
	listening, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		// xev prints an event in lines: its name, then (for a map) the
		// window and whether it is an override-redirect (a menu or tooltip,
		// not a program's window), or (for a property) the property's name.
		sc := bufio.NewScanner(out)
		var prev string
		heard := false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(prev, "MapNotify event") && strings.Contains(line, "override NO"):
				if id, ok := mappedWindow(line); ok {
					select {
					case w.maps <- mapped{at: time.Now(), window: id}:
					default:
					}
				}
			case strings.HasPrefix(prev, "PropertyNotify event") && strings.Contains(line, "("+probeAtom+")") && !heard:
				heard = true
				close(listening)
			}
			prev = line
		}
	}()
	// xev prints nothing until an event comes: set a property of the root
	// window until xev tells of it, so that no map is missed for xev still
	// connecting.
	deadline := time.Now().Add(15 * time.Second)
	var probeErr error
	for i := 0; ; i++ {
		// An X server just started may refuse the first clients: tried
		// again until the deadline.
		out, err := exec.CommandContext(ctx, "xprop", "-root", "-f", probeAtom, "32c", "-set", probeAtom, strconv.Itoa(i)).CombinedOutput()
		if err != nil {
			probeErr = fmt.Errorf("setting a property of the root window (xprop): %w: %s", err, bytes.TrimSpace(out))
		}
		select {
		case <-listening:
			return w, nil
		case <-ended:
			w.close()
			return nil, fmt.Errorf("xev ended before it told of any event: %s", strings.TrimSpace(xevErr.String()))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			w.close()
			if probeErr != nil {
				return nil, fmt.Errorf("xev told of no event within 15 s: %w", probeErr)
			}
			return nil, errors.New("xev told of no event within 15 s")
		}
	}
}

// probeAtom is the root window's property watchMaps sets to see xev
// listening.
const probeAtom = "_ONAIR_LOAD_PROBE"

// mappedWindow reads the window from xev's second MapNotify line
// ("    event 0x50d, window 0x600020, override NO").
func mappedWindow(line string) (string, bool) {
	for f := range strings.SplitSeq(line, ",") {
		if id, ok := strings.CutPrefix(strings.TrimSpace(f), "window "); ok {
			return id, true
		}
	}
	return "", false
}

// ownedBy checks that the window is one of the process pid (its
// _NET_WM_PID), so that another program's window is not timed.
func (m mapped) ownedBy(ctx context.Context, pid int) error {
	out, err := exec.CommandContext(ctx, "xprop", "-id", m.window, "_NET_WM_PID").Output()
	if err != nil {
		return fmt.Errorf("asking X whose window %s is: %w", m.window, err)
	}
	_, v, ok := strings.Cut(string(out), "=")
	got, _ := strconv.Atoi(strings.TrimSpace(v))
	if !ok || got != pid {
		return fmt.Errorf("the window mapped (%s) is not the started program's (pid %d): %s", m.window, pid, strings.TrimSpace(string(out)))
	}
	return nil
}

func (w *mapWatch) close() {
	w.cmd.Process.Kill()
	w.cmd.Wait()
}

// windowReadyLog is what the studio logs once its page is in the window.
const windowReadyLog = `msg="the window shows the studio"`
