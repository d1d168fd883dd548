package main

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"
	"time"

	"github.com/chromedp/chromedp"
)

// latencyResult is the latency scenario's figures: how far behind live
// hls.js (the watch page's player, in low-latency mode) plays in Chromium.
type latencyResult struct {
	// Runs are each run's median of the samples, in seconds; Median is
	// their median.
	Runs   []float64 `json:"runs_s"`
	Median float64   `json:"median_s"`
	// Samples and Settle say how each run measured: samples taken every
	// half second once the page had played for Settle.
	Samples int     `json:"samples_per_run"`
	Settle  float64 `json:"settle_s"`
	// Stalls are each run's stalls of the picture once it had started
	// (the page's count): after one, hls.js plays further behind by design
	// (it adds to its latency target), which explains a slow run.
	Stalls []int `json:"stalls_per_run"`
}

// latencySettle lets the stream and the player settle (hls.js picks its
// start from the playlist at hand; a stream a few seconds old has a short
// one) before sampling.
const latencySettle = 12 * time.Second

// runLatency measures, runs times, one stream of the standard clip on the
// watch page in headless Chromium: the clock minus the program date-time of
// the frame on screen (window.onairLatency), sampled 20 times over 10 s.
func runLatency(ctx context.Context, log *slog.Logger, o options, runs int) (latencyResult, error) {
	res := latencyResult{Samples: 20, Settle: latencySettle.Seconds()}
	path, err := exec.LookPath("chromium")
	if err != nil {
		return res, fmt.Errorf("the latency scenario needs Chromium (apt-get install chromium): %w", err)
	}
	for i := range runs {
		v, stalls, err := latencyOnce(ctx, log, o, path)
		if err != nil {
			return res, fmt.Errorf("latency run %d: %w", i+1, err)
		}
		log.Info("latency run", "run", i+1, "median_s", v, "stalls", stalls)
		res.Runs, res.Stalls = append(res.Runs, v), append(res.Stalls, stalls)
	}
	s := slices.Clone(res.Runs)
	slices.Sort(s)
	res.Median = s[len(s)/2]
	return res, nil
}

func latencyOnce(ctx context.Context, log *slog.Logger, o options, chromium string) (median float64, stalls int, err error) {
	o.Follow = false // the page is the player
	ru := &runner{log: log, o: o, n: 1, parts: &samples{}, segs: &samples{}, firsts: &samples{},
		playerErrs: &counter{}, pubErr: &counter{}, client: newClient()}
	ctx, ru.cancel = context.WithCancel(ctx)
	defer ru.close()
	for _, step := range []func(context.Context) error{ru.setup, ru.startStreams, ru.awaitPlayable} {
		if err := step(ctx); err != nil {
			return 0, 0, err
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"), chromedp.Flag("disable-gpu", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	url := "http://" + ru.srv.httpAddr + "/watch/" + ru.streams[0].ID
	if _, err := chromedp.Run(bctx, chromedp.Navigate(url)); err != nil {
		return 0, 0, fmt.Errorf("loading the watch page: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`window.onairFrames ? window.onairFrames() : 0`))
		if err != nil {
			return 0, 0, fmt.Errorf("reading the page: %w", err)
		}
		if n >= 30 {
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("the watch page decoded %d frames in 30 s", n)
		}
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(latencySettle)
	var got []float64
	for range 20 {
		v, err := chromedp.Run(bctx, chromedp.Evaluate[*float64](`window.onairLatency()`))
		if err != nil {
			return 0, 0, fmt.Errorf("reading the latency: %w", err)
		}
		if v != nil {
			got = append(got, *v)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(got) < 10 {
		return 0, 0, fmt.Errorf("only %d latency samples of 20", len(got))
	}
	slices.Sort(got)
	stalls, err = chromedp.Run(bctx, chromedp.Evaluate[int](`window.onairLevel() ? window.onairLevel().stalls : -1`))
	if err != nil {
		return 0, 0, fmt.Errorf("reading the stalls: %w", err)
	}
	return got[len(got)/2], stalls, nil
}
