package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// deadHookOptions shape the dead-webhook scenario: what one webhook whose
// receiver never answers costs the studio once it has events of many
// streams and many changes waiting.
type deadHookOptions struct {
	Streams int           // streams created (one live_stream.created each)
	Changes int           // renames after that, spread over the streams
	Watch   time.Duration // how long the idle studio is watched afterwards
	// Refused: the receiver's port is closed (every attempt is refused at
	// once) instead of accepting and never answering.
	Refused bool
	// Writers make the renames at once (20 by default).
	Writers int
	// NoHook runs the same without the webhook, for comparison.
	NoHook bool
}

type deadHookResult struct {
	Receiver       string  `json:"receiver"`
	Streams        int     `json:"streams"`
	Writers        int     `json:"writers"`
	Changes        int     `json:"changes"`
	ChangeP50Ms    float64 `json:"change_ms_p50"`
	Queued         int     `json:"queued"`
	Dropped        uint64  `json:"dropped"`
	DBBytes        int64   `json:"db_bytes"`
	WatchSeconds   float64 `json:"watch_seconds"`
	LogLinesPerMin float64 `json:"log_lines_per_minute"`
	CPUPercent     float64 `json:"cpu_percent_of_a_core"`
	Attempts       int64   `json:"delivery_attempts"`
}

// runDeadHook: a webhook to a receiver that accepts connections and never
// answers, Streams streams created, Changes renames by 20 writers, then the
// studio is watched for Watch: its log lines, its CPU, the attempts the
// receiver saw; at the end the webhook's queue and the data file's size.
func runDeadHook(ctx context.Context, o options, do deadHookOptions) (deadHookResult, error) {
	r := deadHookResult{Receiver: "hung", Streams: do.Streams, Changes: do.Changes, Writers: max(do.Writers, 1)}
	srv, err := startServer(ctx, o)
	if err != nil {
		return r, err
	}
	defer srv.stop()
	rcv, err := startHungReceiver()
	if err != nil {
		return r, err
	}
	defer rcv.close()
	attempts := &rcv.attempts
	hookURL := "http://" + rcv.ln.Addr().String() + "/hook"
	if do.Refused {
		closed, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return r, err
		}
		hookURL = "http://" + closed.Addr().String() + "/hook"
		closed.Close() // nothing listens there: every attempt is refused
		r.Receiver = "refused"
	}
	var hook struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if do.NoHook {
		r.Receiver = "none"
	} else if err := srv.call(http.MethodPost, "/webhooks", `{"url":"`+hookURL+`"}`, &hook); err != nil {
		return r, err
	}
	ids, err := createStreams(srv, do.Streams)
	if err != nil {
		return r, err
	}
	durs, err := renameMany(srv, ids, do.Changes, max(do.Writers, 1))
	if err != nil {
		return r, err
	}
	r.ChangeP50Ms = ms(quantile(durs, 0.5))

	if err := watchStudio(ctx, srv, attempts, do.Watch, &r); err != nil {
		return r, err
	}

	var w struct {
		Data struct {
			Queued  int    `json:"queued"`
			Dropped uint64 `json:"dropped"`
		} `json:"data"`
	}
	if !do.NoHook {
		if err := srv.call(http.MethodGet, "/webhooks/"+hook.Data.ID, "", &w); err != nil {
			return r, err
		}
	}
	r.Queued, r.Dropped = w.Data.Queued, w.Data.Dropped
	if fi, err := os.Stat(filepath.Join(srv.data, "onair.db")); err == nil {
		r.DBBytes = fi.Size()
	}
	return r, nil
}

// hungReceiver accepts webhook deliveries and never answers them.
type hungReceiver struct {
	ln       net.Listener
	attempts atomic.Int64
	held     sync.WaitGroup
}

func startHungReceiver() (*hungReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hungReceiver{ln: ln}
	h.held.Go(func() {
		var conns []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			h.attempts.Add(1)
			conns = append(conns, c)
		}
	})
	return h, nil
}

func (h *hungReceiver) close() { h.ln.Close(); h.held.Wait() }

// watchStudio watches the studio for d: its log lines per minute, its CPU
// and the delivery attempts the receiver saw.
func watchStudio(ctx context.Context, srv *server, attempts *atomic.Int64, d time.Duration, r *deadHookResult) error {
	lines0 := strings.Count(srv.logText(), "\n")
	cpu0, _ := cpuTime(srv.pid())
	att0 := attempts.Load()
	start := time.Now()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
	}
	took := time.Since(start)
	cpu1, _ := cpuTime(srv.pid())
	r.WatchSeconds = took.Seconds()
	r.LogLinesPerMin = float64(strings.Count(srv.logText(), "\n")-lines0) / took.Minutes()
	r.CPUPercent = 100 * float64(cpu1-cpu0) / float64(took)
	r.Attempts = attempts.Load() - att0 // a refused receiver counts none
	return nil
}

// call sends one API request and decodes the answer into out.
func (s *server) call(method, path, body string, out any) error {
	req, err := http.NewRequest(method, "http://"+s.httpAddr+"/v2/video/local"+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(apiKey, apiSecret)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

// renameMany makes n renames over ids with the given writers and returns
// each one's time.
func renameMany(srv *server, ids []string, n, writers int) ([]time.Duration, error) {
	var mu sync.Mutex
	var all []time.Duration
	var next atomic.Int64
	var first atomic.Pointer[error]
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			var mine []time.Duration
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					break
				}
				start := time.Now()
				if err := srv.send(http.MethodPatch, "/live_streams/"+ids[i%len(ids)], fmt.Sprintf(`{"name":"n%d"}`, i), http.StatusOK, "renaming"); err != nil {
					first.CompareAndSwap(nil, &err)
					break
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := first.Load(); err != nil {
		return all, *err
	}
	return all, nil
}

func printDeadHook(w io.Writer, r deadHookResult) {
	fmt.Fprintf(w, "dead webhook (%s receiver): %d streams, %d renames by %d writers (p50 %.2f ms); then %.0f s watched: %.1f log lines/min, %.2f %% of a core, %d delivery attempts; queued %d, dropped %d, onair.db %.1f MB\n",
		r.Receiver, r.Streams, r.Changes, r.Writers, r.ChangeP50Ms, r.WatchSeconds, r.LogLinesPerMin, r.CPUPercent, r.Attempts, r.Queued, r.Dropped, float64(r.DBBytes)/(1<<20))
}
