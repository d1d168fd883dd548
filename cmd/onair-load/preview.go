package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	whep "github.com/onair-studio/onair/ui/player"
)

// previewViewers are WebRTC preview sessions of one stream, as the window
// and the preview page open them; they count the access units received.
type previewViewers struct {
	units  atomic.Int64 // while measuring
	errors atomic.Int32
	wg     sync.WaitGroup
}

// startPreview opens k sessions on stream id and reads them until ctx ends.
func startPreview(ctx context.Context, log *slog.Logger, httpAddr, id string, k int, measure func() bool) (*previewViewers, error) {
	pv := &previewViewers{}
	c := whep.Client{URL: "http://" + httpAddr + "/v2/video/local/live_streams/" + id + "/whep", Username: apiKey, Password: apiSecret}
	for i := range k {
		sess, err := c.Connect(ctx)
		if err != nil {
			return nil, fmt.Errorf("preview viewer %d: %w", i, err)
		}
		pv.wg.Go(func() {
			defer func() { _ = sess.Close() }()
			for {
				select {
				case <-ctx.Done():
					return
				case _, ok := <-sess.Units():
					if !ok {
						if ctx.Err() == nil {
							log.Warn("preview session ended early", "viewer", i)
							pv.errors.Add(1)
						}
						return
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
