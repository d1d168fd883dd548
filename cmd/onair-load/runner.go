package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

// runner is one run of the media scenario: a server, N streams with a
// publisher and a player each, then the measurement.
type runner struct {
	log     *slog.Logger
	o       options
	n       int
	r       result
	srv     *server
	dest    *sink
	streams []stream
	tags    []mediatest.Tag
	clipLen time.Duration
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	pv      *previewViewers

	client             *http.Client
	measuring          atomic.Bool
	parts, segs        *samples
	firsts             *samples
	playerErrs, pubErr *counter
	frames, dropped    atomic.Int64
	mediaURLs          []string
	playable           chan string
}

// runOnce runs the scenario with n streams and returns its figures.
func runOnce(ctx context.Context, log *slog.Logger, o options, n int) (result, error) {
	ru := &runner{log: log, o: o, n: n, parts: &samples{}, segs: &samples{}, firsts: &samples{},
		playerErrs: &counter{}, pubErr: &counter{},
		client: newClient()}
	ru.r = result{Streams: n, Publisher: o.Publisher, Readers: o.Readers, Recording: o.Record, Destinations: o.Destinations}
	if o.Readers > 0 {
		ru.r.ReaderMode = o.ReaderMode
		ru.r.ReaderClient = o.ReaderClient
	}
	ctx, ru.cancel = context.WithCancel(ctx)
	defer ru.close()
	for _, step := range []func(context.Context) error{ru.setup, ru.startStreams, ru.awaitPlayable, ru.startPreview, ru.measure} {
		if err := step(ctx); err != nil {
			return ru.r, err
		}
	}
	ru.collect(ctx)
	return ru.r, nil
}

// newClient is the players' HTTP client.
func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 0}}
}

// close stops the preview viewers, publishers and players (go-rtmp's client
// can block in Write after the server closed the connection: a while, not
// for ever), then the sink and the server.
func (ru *runner) close() {
	ru.cancel()
	if ru.pv != nil {
		ru.pv.wg.Wait()
	}
	done := make(chan struct{})
	go func() { ru.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		ru.log.Warn("some publishers or players did not stop")
	}
	if ru.dest != nil {
		ru.dest.close()
	}
	if ru.srv != nil {
		ru.srv.stop()
	}
}

// setup starts the server, the simulcast sink and makes the streams.
func (ru *runner) setup(ctx context.Context) (err error) {
	if ru.tags, ru.clipLen, err = readClip(ru.o.Clip); err != nil {
		return err
	}
	if ru.srv, err = startServer(ctx, ru.o); err != nil {
		return err
	}
	time.Sleep(time.Second)
	idle, err := rssBytes(ru.srv.pid())
	if err != nil {
		return err
	}
	ru.r.RSSIdleMB = float64(idle) / (1 << 20)
	if ru.o.Destinations > 0 {
		if ru.dest, err = startSink(); err != nil {
			return err
		}
	}
	ru.streams = make([]stream, ru.n)
	for i := range ru.streams {
		if ru.streams[i], err = ru.srv.createStream(ru.o.Record); err != nil {
			return err
		}
		if ru.o.Renditions != "" {
			for _, o := range ru.streams[i].Outputs {
				if o.Type == "hls" {
					if err := ru.srv.send(http.MethodPatch, "/live_streams/"+ru.streams[i].ID+"/outputs/"+o.ID,
						`{"renditions":`+ru.o.Renditions+`}`, http.StatusOK, "setting the renditions"); err != nil {
						return err
					}
				}
			}
		}
		for d := range ru.o.Destinations {
			if err := ru.srv.addDestination(ru.streams[i].ID, ru.dest.addr(), fmt.Sprintf("s%d-d%d", i, d)); err != nil {
				return err
			}
		}
	}
	return nil
}

// startStreams starts each stream's publisher and player; players send
// their stream's media playlist URL (or "") once it plays.
func (ru *runner) startStreams(ctx context.Context) error {
	fps := clipFPS(ru.tags, ru.clipLen)
	playable := make(chan string, ru.n)
	for i, st := range ru.streams {
		url := st.Input.URI + "/" + st.Input.StreamKey
		if ru.o.Publisher == "srt" {
			url = st.Input.SRTURI
		}
		since := time.Now()
		var pubMu sync.Mutex
		var pubStart time.Time
		started := func(t time.Time) { pubMu.Lock(); pubStart = t; pubMu.Unlock() }
		startedAt := func() time.Time { pubMu.Lock(); defer pubMu.Unlock(); return pubStart }
		ru.wg.Go(func() { ru.publish(ctx, i, url, started) })
		ru.wg.Go(func() {
			p := &player{client: ru.client, parts: ru.parts, segs: ru.segs, errors: ru.playerErrs, measure: ru.measuring.Load,
				fps: fps, frames: &ru.frames, dropped: &ru.dropped}
			if ru.o.Publisher == "builtin" {
				p.pubStart = startedAt
			}
			mediaURL, err := p.waitPlayable(ctx, st.hls(), since)
			if err != nil {
				if ctx.Err() == nil {
					ru.log.Warn("stream never became playable", "stream", i, "error", err)
					ru.playerErrs.inc()
				}
				playable <- ""
				return
			}
			ru.firsts.add(p.firstPL)
			playable <- mediaURL
			if ru.o.Follow {
				p.follow(ctx, mediaURL)
			}
		})
	}
	ru.playable = playable
	return nil
}

func (ru *runner) publish(ctx context.Context, i int, url string, started func(time.Time)) {
	var err error
	switch ru.o.Publisher {
	case "ffmpeg":
		err = publishFFmpeg(ctx, "flv", url, ru.o.Clip)
	case "srt":
		err = publishFFmpeg(ctx, "mpegts", url, ru.o.Clip)
	default:
		err = publishBuiltin(ctx, url, ru.tags, ru.clipLen, started)
	}
	if err != nil && ctx.Err() == nil {
		ru.log.Warn("publisher failed", "stream", i, "error", err)
		ru.pubErr.inc()
	}
}

// awaitPlayable waits until every stream plays (or gave up), within 60 s.
func (ru *runner) awaitPlayable(context.Context) error {
	for range ru.streams {
		select {
		case u := <-ru.playable:
			if u != "" {
				ru.mediaURLs = append(ru.mediaURLs, u)
			}
		case <-time.After(60 * time.Second):
			return fmt.Errorf("streams did not become playable in 60 s:\n%s", ru.srv.logs.String())
		}
	}
	if len(ru.mediaURLs) == 0 {
		return fmt.Errorf("no stream became playable")
	}
	f := ru.firsts.values()
	ru.r.FirstPlaylistMedian, ru.r.FirstPlaylistMax = ms(quantile(f, 0.5)), ms(quantile(f, 1))
	ru.log.Info("all playable; warming up", "first_playlist_median_ms", ru.r.FirstPlaylistMedian)
	return nil
}

func (ru *runner) startPreview(ctx context.Context) (err error) {
	if ru.o.Preview == 0 {
		return nil
	}
	if ru.pv, err = startPreview(ctx, ru.log, ru.srv.httpAddr, ru.streams[0].ID, ru.o.Preview, ru.o.PreviewSound, ru.measuring.Load); err != nil {
		return err
	}
	ru.r.PreviewViewers = ru.o.Preview
	return nil
}

// measure waits the warm-up, then measures CPU, memory and what the
// players, the preview and the sink got for the duration.
func (ru *runner) measure(ctx context.Context) error {
	select {
	case <-time.After(ru.o.Warmup):
	case <-ctx.Done():
		return ctx.Err()
	}
	ru.measuring.Store(true)
	cpu0, _ := cpuTime(ru.srv.pid())
	kids0 := childrenCPU(ru.srv.pid())
	t0 := time.Now()
	var destFrames0 int64
	if ru.dest != nil {
		destFrames0 = ru.dest.frames.Load()
	}
	var rss []int64
	for time.Since(t0) < ru.o.Duration {
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
		if v, err := rssBytes(ru.srv.pid()); err == nil {
			rss = append(rss, v)
		}
	}
	cpu1, _ := cpuTime(ru.srv.pid())
	wall := time.Since(t0)
	kids1 := childrenCPU(ru.srv.pid())
	var kidsCPU time.Duration
	for pid, d := range kids1 {
		kidsCPU += d - kids0[pid] // a child started meanwhile counts whole
	}
	ru.r.Children = len(kids1)
	ru.r.ChildrenCPUPercent = 100 * float64(kidsCPU) / float64(wall)
	ru.r.ChildrenPSSMB = float64(childrenPSS(ru.srv.pid())) / (1 << 20)
	ru.measuring.Store(false)
	if err := ru.previewFigures(); err != nil {
		return err
	}
	if ru.dest != nil {
		ru.r.DestinationFrames = ru.dest.frames.Load() - destFrames0
	}
	ru.r.CPUPercent = 100 * float64(cpu1-cpu0) / float64(wall)
	ru.r.CPUPerStream = ru.r.CPUPercent / float64(ru.n)
	slices.Sort(rss)
	if len(rss) > 0 {
		ru.r.RSSMB = float64(rss[len(rss)/2]) / (1 << 20)
		ru.r.RSSPerStreamMB = (ru.r.RSSMB - ru.r.RSSIdleMB) / float64(ru.n)
	}
	return nil
}

func (ru *runner) previewFigures() error {
	if ru.pv == nil {
		return nil
	}
	ru.r.PreviewUnitsPerViewer = float64(ru.pv.units.Load()) / float64(ru.o.Preview)
	ru.r.PreviewSoundPerViewer = float64(ru.pv.sound.Load()) / float64(ru.o.Preview)
	ru.r.PreviewErrors = int(ru.pv.errors.Load())
	viewers, med, p95, err := ru.srv.previewFigures(ru.streams[0].ID)
	if err != nil {
		return err
	}
	if viewers != ru.o.Preview {
		ru.r.PreviewErrors += ru.o.Preview - viewers
	}
	ru.r.PreviewDelayMedian, ru.r.PreviewDelayP95 = med, p95
	fm, fp, n := ru.pv.firstPictures()
	if n < ru.o.Preview {
		ru.r.PreviewErrors += ru.o.Preview - n
	}
	ru.r.PreviewFirstMedian, ru.r.PreviewFirstP95 = ms(fm), ms(fp)
	return nil
}

// collect adds the delays, the readers' load and the errors.
func (ru *runner) collect(ctx context.Context) {
	r := &ru.r
	r.RecordedMB = float64(ru.srv.libraryBytes()) / 1e6
	pd, sd := ru.parts.values(), ru.segs.values()
	r.PartDelayMedian, r.PartDelayP95 = ms(quantile(pd, 0.5)), ms(quantile(pd, 0.95))
	r.SegmentDelayMedian, r.SegmentDelayP95 = ms(quantile(sd, 0.5)), ms(quantile(sd, 0.95))
	if ru.o.Readers > 0 {
		reqs, bytes, errs := readLoad(ctx, ru.mediaURLs, ru.o.Readers, ru.o.ReaderTime, ru.o.ReaderMode == "part", ru.o.ReaderClient == "net/http")
		r.ReaderRequestsPerS = float64(reqs) / ru.o.ReaderTime.Seconds()
		r.ReaderMBPerS = float64(bytes) / (1 << 20) / ru.o.ReaderTime.Seconds()
		r.ReaderErrors = errs
	}
	r.PlayerErrors, r.PublisherErrors = ru.playerErrs.get(), ru.pubErr.get()
	r.PlayerFrames, r.PlayerDroppedFrames = ru.frames.Load(), ru.dropped.Load()
	logs := ru.srv.logText()
	r.DropWarnings = strings.Count(logs, "reader is too slow") + strings.Count(logs, "dropping media")
}
