package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

// clipKbps is a clip's media bitrate as ingest counts it: the FLV tags'
// bodies over the clip's length.
func clipKbps(t *testing.T, path string) float64 {
	t.Helper()
	tags, err := mediatest.ReadFLV(path)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var last uint32
	for _, tg := range tags {
		n += len(tg.Body)
		last = max(last, tg.Timestamp)
	}
	return float64(n) * 8 / 1000 / (float64(last) / 1000)
}

// TestPrometheusScrapes: a real Prometheus (Debian's) scrapes /metrics
// with basic auth for 30 s while ffmpeg publishes; its query API gives the
// stream's ingest bitrate within 10 % of the clip's; promtool accepts the
// output; without credentials /metrics answers 401.
func TestPrometheusScrapes(t *testing.T) {
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("this test needs Prometheus (apt-get install prometheus): %v", err)
	}
	s, st := previewStudio(t, mediatest.Small)
	want := clipKbps(t, mediatest.Small.Path(t))
	host := strings.TrimPrefix(s.HTTPURL(), "http://")

	// The HLS figures need a viewer (mediaPlaylist waits for the first segment).
	mediaPlaylist(t, st.OutputURI("hls"), 20*time.Second)

	resp, err := http.Get(s.HTTPURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/metrics without credentials: %d", resp.StatusCode)
	}
	text := scrape(t, s.HTTPURL())
	for _, m := range []string{"onair_stream_ingest_bitrate_kbps{live_stream=\"" + st.ID + "\"}", "onair_stream_hls_requests_total",
		"onair_stream_hls_viewers", "onair_output_status", "onair_webhook_deliveries_total", "process_cpu_seconds_total", "go_goroutines"} {
		if !strings.Contains(text, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	check := exec.Command("promtool", "check", "metrics")
	check.Stdin = strings.NewReader(text)
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}

	dir := t.TempDir()
	promAddr := freePort(t)
	cfg := fmt.Sprintf(`global:
  scrape_interval: 2s
  scrape_timeout: 2s
scrape_configs:
  - job_name: onair
    basic_auth: {username: %q, password: %q}
    static_configs:
      - targets: [%q]
`, testKey, testSecret, host)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus:\n%s", logs.String())
		}
	}()
	time.Sleep(30 * time.Second)

	q := func(expr string) float64 {
		t.Helper()
		code, body := httpGet(t, "http://"+promAddr+"/api/v1/query?query="+url.QueryEscape(expr), 10*time.Second)
		var r struct {
			Status string `json:"status"`
			Data   struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if code != 200 || json.Unmarshal(body, &r) != nil || len(r.Data.Result) != 1 {
			t.Fatalf("query %s: %d %s", expr, code, body)
		}
		v, err := strconv.ParseFloat(r.Data.Result[0].Value[1].(string), 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if up := q(`up{job="onair"}`); up != 1 {
		t.Fatalf("Prometheus could not scrape the studio (up = %v)", up)
	}
	if n := q(`count_over_time(up{job="onair"}[30s])`); n < 10 {
		t.Errorf("only %v scrapes in 30 s", n)
	}
	got := q(`onair_stream_ingest_bitrate_kbps{live_stream="` + st.ID + `"}`)
	fromBytes := q(`rate(onair_stream_ingest_bytes_total{live_stream="` + st.ID + `"}[20s]) * 8 / 1000`)
	t.Logf("clip %.0f kbit/s; studio's gauge %.0f, from the byte counter %.0f", want, got, fromBytes)
	for _, v := range []float64{got, fromBytes} {
		if math.Abs(v-want)/want > 0.10 {
			t.Errorf("bitrate %.0f kbit/s is not within 10%% of the clip's %.0f", v, want)
		}
	}
}

func scrape(t *testing.T, base string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	req.SetBasicAuth(testKey, testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}
