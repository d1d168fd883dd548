package main

import (
	"context"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

// The load tool measures a real server: one short run with two streams and
// a few readers must give sane figures and no errors.
func TestShortRun(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "onair")
	if out, err := exec.Command("go", "build", "-o", bin, "../onair").CombinedOutput(); err != nil {
		t.Fatalf("building onair: %v\n%s", err, out)
	}
	o := options{
		Onair: bin, Clip: mediatest.Small.Path(t), Duration: 3 * time.Second, Warmup: 2 * time.Second,
		Readers: 4, ReaderTime: 2 * time.Second, Publisher: "builtin", ReaderMode: "part", Follow: true,
	}
	r, err := runOnce(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), o, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.FirstPlaylistMedian < 500 || r.FirstPlaylistMedian > 10000 {
		t.Errorf("first playlist after %.0f ms", r.FirstPlaylistMedian)
	}
	if r.CPUPercent <= 0 || r.RSSMB <= r.RSSIdleMB || r.ReaderRequestsPerS <= 0 {
		t.Errorf("figures %+v", r)
	}
	if r.PublisherErrors+r.PlayerErrors+r.ReaderErrors != 0 {
		t.Errorf("errors: %+v", r)
	}
	if r.DropWarnings != 0 {
		t.Errorf("the server dropped media: %+v", r)
	}
	// Every part is fetched: the players receive about the frames sent
	// during the measurement (two streams), and none is missing.
	tags, clipLen, err := readClip(o.Clip)
	if err != nil {
		t.Fatal(err)
	}
	sent := 2 * clipFPS(tags, clipLen) * o.Duration.Seconds()
	if float64(r.PlayerFrames) < sent/2 || float64(r.PlayerFrames) > sent*1.5 {
		t.Errorf("players received %d video frames; about %.0f were sent", r.PlayerFrames, sent)
	}
	if r.PlayerDroppedFrames != 0 {
		t.Errorf("players miss %d frames", r.PlayerDroppedFrames)
	}
	if r.PartDelayMedian <= 0 || r.PartDelayP95 > 1000 || r.SegmentDelayP95 > 1000 {
		t.Errorf("delays: %+v", r)
	}
}
