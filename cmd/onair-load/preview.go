package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	whep "github.com/onair-studio/onair/ui/player"
)

// previewViewers are WebRTC preview sessions of one stream, as the window
// and the preview page open them; they count the access units received.
type previewViewers struct {
	units  atomic.Int64 // while measuring
	sound  atomic.Int64 // Opus packets, while measuring
	errors atomic.Int32
	wg     sync.WaitGroup
	// firsts are the times from each viewer's WHEP answer to its first
	// access unit.
	mu     sync.Mutex
	firsts []time.Duration
}

// joinGap spaces the viewers' joins, so that they join at different
// points between key frames (20 joins span 3 s: one and a half key frame
// intervals of the standard clip).
const joinGap = 150 * time.Millisecond

// firstPictures returns the median and p95 of the viewers' first-picture times.
func (pv *previewViewers) firstPictures() (median, p95 time.Duration, n int) {
	pv.mu.Lock()
	defer pv.mu.Unlock()
	d := slices.Clone(pv.firsts)
	slices.Sort(d)
	return quantile(d, 0.5), quantile(d, 0.95), len(d)
}

// startPreview opens k sessions on stream id and reads them until ctx ends.
func startPreview(ctx context.Context, log *slog.Logger, httpAddr, id string, k int, sound bool, measure func() bool) (*previewViewers, error) {
	pv := &previewViewers{}
	c := whep.Client{URL: "http://" + httpAddr + "/v2/video/local/live_streams/" + id + "/whep", Username: apiKey, Password: apiSecret, Sound: sound}
	for i := range k {
		if i > 0 {
			time.Sleep(joinGap)
		}
		sess, err := c.Connect(ctx)
		if err != nil {
			return nil, fmt.Errorf("preview viewer %d: %w", i, err)
		}
		answered := time.Now()
		pv.wg.Go(func() {
			defer func() { _ = sess.Close() }()
			first := true
			for {
				select {
				case <-ctx.Done():
					return
				case _, ok := <-sess.Sound():
					if ok && measure() {
						pv.sound.Add(1)
					}
				case _, ok := <-sess.Units():
					if !ok {
						if ctx.Err() == nil {
							log.Warn("preview session ended early", "viewer", i)
							pv.errors.Add(1)
						}
						return
					}
					if first {
						first = false
						pv.mu.Lock()
						pv.firsts = append(pv.firsts, time.Since(answered))
						pv.mu.Unlock()
					}
					if measure() {
						pv.units.Add(1)
					}
				}
			}
		})
	}
	return pv, nil
}

// previewFigures reads the stream's preview figures from the API.
func (s *server) previewFigures(id string) (viewers int, median, p95 float64, err error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.httpAddr+"/v2/video/local/live_streams/"+id, nil)
	req.SetBasicAuth(apiKey, apiSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env struct {
		Data struct {
			Stats struct {
				Preview struct {
					Viewers int     `json:"viewers"`
					Median  float64 `json:"send_delay_ms_median"`
					P95     float64 `json:"send_delay_ms_p95"`
				} `json:"preview"`
			} `json:"stats"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return 0, 0, 0, fmt.Errorf("reading the stream's stats: %w: %s", err, b)
	}
	p := env.Data.Stats.Preview
	return p.Viewers, p.Median, p.P95, nil
}
