// Command onair-load measures the studio under load: it starts `onair
// serve` on loopback, publishes N streams from a pre-encoded FLV clip (with
// an in-process RTMP client, or ffmpeg), plays their HLS like a low-latency
// player, and reports publish-to-playlist time, live delay of new parts and
// segments, server CPU and memory per stream, and HLS throughput with K
// concurrent readers. It talks only to 127.0.0.1 and stops everything it
// started.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/onair-studio/onair/engine/mediatest"
)

type options struct {
	Onair        string
	Clip         string
	Streams      []int
	Duration     time.Duration
	Warmup       time.Duration
	Readers      int
	ReaderTime   time.Duration
	Publisher    string
	JSON         string
	GOGC         string
	CPUProfile   string
	ReaderMode   string
	ReaderClient string
	ServeArgs    string
	GOMAXPROCS   string
	Follow       bool
	Record       bool
	Destinations int
	Preview      int
	PreviewSound bool
	Renditions   string
}

func main() { os.Exit(run()) }

// run is the program; its result is the exit code.
// cli is what the command line asks for.
type cli struct {
	o                                 options
	streams                           string
	ao                                apiOptions
	dh                                deadHookOptions
	apiMode, deadHookMode, windowMode bool
	wo                                windowOptions
	latencyMode                       bool
	latencyRuns                       int
}

// parseFlags reads the command line; code is not 0 when it is wrong (and
// said so).
func parseFlags() (c cli, code int) {
	flag.StringVar(&c.o.Onair, "onair", "bin/onair", "the onair binary to measure")
	flag.StringVar(&c.o.Clip, "clip", "", "FLV clip to publish (default: the standard 720p30 clip, encoded on first use)")
	flag.StringVar(&c.streams, "n", "1,16", "comma-separated numbers of concurrent streams, one run each")
	flag.DurationVar(&c.o.Duration, "duration", 20*time.Second, "measurement time per run, after warm-up")
	flag.DurationVar(&c.o.Warmup, "warmup", 8*time.Second, "time after all playlists are up before measuring")
	flag.IntVar(&c.o.Readers, "readers", 0, "HLS readers for the throughput test (0: none)")
	flag.DurationVar(&c.o.ReaderTime, "reader-time", 10*time.Second, "duration of the throughput test")
	flag.StringVar(&c.o.ServeArgs, "serve-args", "", "more arguments for `onair serve`, e.g. \"--ffmpeg off\" (no sound meters)")
	flag.StringVar(&c.o.ReaderClient, "reader-client", "raw", "the readers' HTTP client: raw (one lean keep-alive connection each, so that the server is measured rather than the client) or net/http (Go's client, as before the thirteenth session)")
	flag.StringVar(&c.o.ReaderMode, "reader-mode", "part", "what each reader fetches after the playlist: part (the newest part, as a low-latency viewer) or segment (the newest segment)")
	flag.StringVar(&c.o.Publisher, "publisher", "builtin", "builtin (in-process RTMP client), ffmpeg (RTMP) or srt (ffmpeg over SRT)")
	flag.StringVar(&c.o.JSON, "json", "", "also write the results as JSON to this file")
	flag.StringVar(&c.o.GOGC, "gogc", "", "GOGC for the server (empty: the server's own setting)")
	flag.StringVar(&c.o.GOMAXPROCS, "gomaxprocs", "", "GOMAXPROCS for the server (empty: Go's default)")
	flag.IntVar(&c.o.Destinations, "destinations", 0, "simulcast destinations per stream, all pushing to one RTMP server the tool runs on loopback")
	flag.IntVar(&c.o.Preview, "preview", 0, "WebRTC preview viewers of the first stream (WHEP, as the window opens them)")
	flag.StringVar(&c.o.Renditions, "renditions", "", `the HLS outputs' renditions, as the API takes them, e.g. '[{"height":480,"bitrate":1200000}]'`)
	flag.BoolVar(&c.o.PreviewSound, "preview-sound", false, "the preview viewers ask for the sound too (Opus, made by the studio's FFmpeg)")
	flag.BoolVar(&c.o.Record, "record", false, "record every stream to the library too (off: each stream's archive output is switched off, to measure ingest and HLS alone)")
	flag.BoolVar(&c.o.Follow, "follow", true, "keep one low-latency player on each stream during the measurement")
	flag.StringVar(&c.o.CPUProfile, "cpuprofile", "", "have the server write a CPU profile of the last run here")
	flag.BoolVar(&c.apiMode, "api", false, "measure the control API instead of media: readers and writers over -api-streams, then lists out of -api-list streams")
	flag.IntVar(&c.ao.Streams, "api-streams", 500, "API scenario: streams the readers and writers use")
	flag.IntVar(&c.ao.Readers, "api-readers", 150, "API scenario: concurrent readers (GET one stream or a page of 10)")
	flag.IntVar(&c.ao.Writers, "api-writers", 20, "API scenario: concurrent writers (PATCH a stream's name)")
	flag.DurationVar(&c.ao.Duration, "api-duration", 10*time.Second, "API scenario: time readers and writers run")
	flag.IntVar(&c.ao.ListStreams, "api-list", 2000, "API scenario: streams in the table when list pages are timed")
	flag.BoolVar(&c.ao.Webhook, "api-webhook", false, "API scenario: with a webhook whose receiver never answers (every change's event is stored for delivery)")
	flag.IntVar(&c.ao.ListCalls, "api-list-calls", 500, "API scenario: list calls timed, one at a time")
	flag.BoolVar(&c.deadHookMode, "dead-webhook", false, "measure what a webhook whose receiver never answers costs: -dead-streams streams created, -dead-changes renames, then the studio watched for -dead-watch (log lines, CPU, attempts, queue, data file)")
	flag.IntVar(&c.dh.Streams, "dead-streams", 2000, "dead-webhook scenario: streams created")
	flag.IntVar(&c.dh.Changes, "dead-changes", 10000, "dead-webhook scenario: renames after that")
	flag.BoolVar(&c.dh.Refused, "dead-refused", false, "dead-webhook scenario: the receiver's port is closed (refused at once) instead of accepting and never answering")
	flag.IntVar(&c.dh.Writers, "dead-writers", 20, "dead-webhook scenario: clients renaming at once")
	flag.BoolVar(&c.dh.NoHook, "dead-none", false, "dead-webhook scenario: the same without the webhook, for comparison")
	flag.DurationVar(&c.dh.Watch, "dead-watch", 2*time.Minute, "dead-webhook scenario: how long the studio is watched afterwards")
	flag.BoolVar(&c.latencyMode, "latency", false, "measure how far behind live the watch page (hls.js, low-latency mode) plays in headless Chromium: one stream of the standard clip, -latency-runs runs")
	flag.IntVar(&c.latencyRuns, "latency-runs", 3, "latency scenario: runs (the median of their medians is reported)")
	flag.BoolVar(&c.windowMode, "window", false, "measure the window: start `onair` (needs DISPLAY, xev and xprop) -window-runs times to a shown window (the X server's map of it), then RSS with -window-streams streams")
	flag.IntVar(&c.wo.Runs, "window-runs", 5, "window scenario: starts measured")
	flag.IntVar(&c.wo.Streams, "window-streams", 20, "window scenario: streams created before RSS is read")
	flag.StringVar(&c.wo.Floor, "window-floor", "", "window scenario: also time this program's window, started in turn with the studio (bin/onair-fynewindow: one Fyne window with one label, the toolkit's own start)")
	flag.Parse()
	for s := range strings.SplitSeq(c.streams, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 256 {
			fmt.Fprintf(os.Stderr, "onair-load: -n: %q is not a number of streams from 1 to 256\n", s)
			return c, 2
		}
		c.o.Streams = append(c.o.Streams, n)
	}
	if c.o.ReaderClient != "raw" && c.o.ReaderClient != "net/http" {
		fmt.Fprintln(os.Stderr, "onair-load: -reader-client must be raw or net/http")
		return c, 2
	}
	if c.o.ReaderMode != "part" && c.o.ReaderMode != "segment" {
		fmt.Fprintln(os.Stderr, "onair-load: -reader-mode must be part or segment")
		return c, 2
	}
	if c.o.Publisher != "builtin" && c.o.Publisher != "ffmpeg" && c.o.Publisher != "srt" {
		fmt.Fprintln(os.Stderr, "onair-load: -publisher must be builtin, ffmpeg or srt")
		return c, 2
	}
	return c, 0
}

func run() int {
	c, code := parseFlags()
	if code != 0 {
		return code
	}
	o, ao, dh := c.o, c.ao, c.dh
	// go-rtmp's client logs every chunk size change through logrus's
	// global logger: one line per publisher.
	logrus.SetOutput(io.Discard)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch {
	case c.latencyMode:
		return latencyMain(ctx, log, o, c.latencyRuns)
	case c.windowMode:
		return windowMain(ctx, o, c.wo)
	case c.deadHookMode:
		log.Info("dead webhook run", "streams", dh.Streams, "changes", dh.Changes, "watch", dh.Watch)
		r, err := runDeadHook(ctx, o, dh)
		if err != nil {
			fmt.Fprintln(os.Stderr, "onair-load:", err)
			return 1
		}
		printDeadHook(os.Stdout, r)
		return saveJSON(o.JSON, r, false)
	case c.apiMode:
		log.Info("API run", "streams", ao.Streams, "readers", ao.Readers, "writers", ao.Writers, "duration", ao.Duration)
		r, err := runAPI(ctx, o, ao)
		if err != nil {
			fmt.Fprintln(os.Stderr, "onair-load:", err)
			return 1
		}
		printAPI(os.Stdout, r)
		return saveJSON(o.JSON, r, r.Errors > 0)
	}
	return mediaMain(ctx, log, o)
}

// latencyMain runs the latency scenario; without Chromium it says so and
// succeeds (make bench runs it where Chromium is installed).
func latencyMain(ctx context.Context, log *slog.Logger, o options, runs int) int {
	if _, err := exec.LookPath("chromium"); err != nil {
		fmt.Println("latency: skipped, Chromium is not installed (apt-get install chromium)")
		return 0
	}
	if code := defaultClip(&o); code != 0 {
		return code
	}
	r, err := runLatency(ctx, log, o, runs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "onair-load:", err)
		return 1
	}
	fmt.Printf("watch page (hls.js, low-latency mode) behind live: median %.2f s (runs %v, each the median of %d samples after %.0f s; stalls per run %v)\n",
		r.Median, r.Runs, r.Samples, r.Settle, r.Stalls)
	return saveJSON(o.JSON, r, false)
}

// windowMain runs the window scenario.
func windowMain(ctx context.Context, o options, wo windowOptions) int {
	r, err := runWindowScenario(ctx, o, wo)
	if err != nil {
		fmt.Fprintln(os.Stderr, "onair-load:", err)
		return 1
	}
	fmt.Printf("start to a shown window: median %.0f ms (runs %v)\nstart to the studio in it: median %.0f ms (runs %v)\nRSS with %d streams, idle: %.1f MB (anonymous %.1f, file-backed %.1f)\n",
		r.StartMedianMs, r.StartMs, r.ReadyMedianMs, r.ReadyMs, r.Streams, r.IdleRSSMB, r.AnonMB, r.FileMB)
	if len(r.FloorMs) > 0 {
		fmt.Printf("start to a shown window of one label (%s): median %.0f ms (runs %v)\n", wo.Floor, r.FloorMedianMs, r.FloorMs)
	}
	if r.GLFWRetries > 0 {
		fmt.Printf("starts repeated because GLFW found no display: %d\n", r.GLFWRetries)
	}
	if o.JSON != "" {
		if err := writeJSON(o.JSON, r); err != nil {
			fmt.Fprintln(os.Stderr, "onair-load:", err)
			return 1
		}
	}
	return 0
}

// mediaMain runs the media scenario once per number of streams.
func mediaMain(ctx context.Context, log *slog.Logger, o options) int {
	if code := defaultClip(&o); code != 0 {
		return code
	}
	var results []result
	for _, n := range o.Streams {
		log.Info("run", "streams", n, "publisher", o.Publisher)
		r, err := runOnce(ctx, log, o, n)
		if err != nil {
			fmt.Fprintln(os.Stderr, "onair-load:", err)
			return 1
		}
		results = append(results, r)
	}
	printTable(os.Stdout, results)
	for _, r := range results {
		if r.PreviewViewers > 0 {
			fmt.Printf("preview (first stream): %d viewers, %.0f access units and %.0f Opus packets each while measuring, send delay ms median %.2f / p95 %.2f, first picture after the answer ms median %.0f / p95 %.0f, %d errors\n",
				r.PreviewViewers, r.PreviewUnitsPerViewer, r.PreviewSoundPerViewer, r.PreviewDelayMedian, r.PreviewDelayP95, r.PreviewFirstMedian, r.PreviewFirstP95, r.PreviewErrors)
		}
	}
	if o.JSON != "" {
		if err := writeJSON(o.JSON, results); err != nil {
			fmt.Fprintln(os.Stderr, "onair-load:", err)
			return 1
		}
	}
	return 0
}

// saveJSON writes v to path when one is given and returns the exit code:
// 1 when writing failed or the run did.
func saveJSON(path string, v any, failed bool) int {
	if path != "" {
		if err := writeJSON(path, v); err != nil {
			fmt.Fprintln(os.Stderr, "onair-load:", err)
			return 1
		}
	}
	if failed {
		return 1
	}
	return 0
}

// writeJSON writes v, indented, to path.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// defaultClip sets o.Clip to the standard clip (without B-frames for the
// preview, as OBS must be set for it), encoded on first use.
func defaultClip(o *options) int {
	if o.Clip != "" {
		return 0
	}
	dir, _ := os.UserCacheDir()
	clip := mediatest.Standard
	if o.Preview > 0 {
		clip.NoBFrames = true
	}
	p, err := clip.Make(dir + "/onair-test-media")
	if err != nil {
		fmt.Fprintln(os.Stderr, "onair-load:", err)
		return 1
	}
	o.Clip = p
	return 0
}
