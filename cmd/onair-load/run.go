package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// result is one run's figures. Durations are in milliseconds.
type result struct {
	Streams             int     `json:"streams"`
	Publisher           string  `json:"publisher"`
	FirstPlaylistMedian float64 `json:"first_playlist_ms_median"`
	FirstPlaylistMax    float64 `json:"first_playlist_ms_max"`
	PartDelayMedian     float64 `json:"part_delay_ms_median"`
	PartDelayP95        float64 `json:"part_delay_ms_p95"`
	SegmentDelayMedian  float64 `json:"segment_delay_ms_median"`
	SegmentDelayP95     float64 `json:"segment_delay_ms_p95"`
	CPUPercent          float64 `json:"cpu_percent_of_one_core"`
	CPUPerStream        float64 `json:"cpu_percent_per_stream"`
	RSSIdleMB           float64 `json:"rss_idle_mb"`
	RSSMB               float64 `json:"rss_mb"`
	RSSPerStreamMB      float64 `json:"rss_per_stream_mb"`
	Readers             int     `json:"readers"`
	ReaderMode          string  `json:"reader_mode,omitempty"`
	ReaderClient        string  `json:"reader_client,omitempty"`
	// The studio's child processes (FFmpeg: the sound meters) during the
	// measurement: how many, their CPU (% of one core, in all) and their
	// proportional memory in all. Not in CPUPercent and RSS above.
	Children           int     `json:"children"`
	ChildrenCPUPercent float64 `json:"children_cpu_percent_of_one_core"`
	ChildrenPSSMB      float64 `json:"children_pss_mb"`
	ReaderRequestsPerS float64 `json:"reader_requests_per_s"`
	ReaderMBPerS       float64 `json:"reader_mb_per_s"`
	ReaderErrors       int     `json:"reader_errors"`
	PlayerErrors       int     `json:"player_errors"`
	PublisherErrors    int     `json:"publisher_errors"`
	// PlayerFrames counts the video frames the players received while
	// measuring, in the parts they fetched (every part, in order);
	// PlayerDroppedFrames the frames missing from their timelines.
	PlayerFrames        int64 `json:"player_frames"`
	PlayerDroppedFrames int64 `json:"player_dropped_frames"`
	// DropWarnings counts the server's log lines about media it dropped
	// (a reader too slow, media it could not read); the server logs these
	// at most every 5 s per reader or publisher.
	DropWarnings int `json:"server_drop_warnings"`
	// Recording tells that every stream was recorded too; RecordedMB is
	// what the recordings held when the run ended.
	Recording  bool    `json:"recording"`
	RecordedMB float64 `json:"recorded_mb"`
	// Destinations is the simulcast destinations per stream (all to one
	// loopback RTMP server); DestinationFrames the video frames it took
	// while measuring.
	Destinations      int   `json:"destinations"`
	DestinationFrames int64 `json:"destination_frames"`
	// PreviewViewers watched the first stream's WebRTC preview;
	// PreviewUnitsPerViewer is what each received while measuring, on
	// average; the delays are the server's, from ingest reading an access
	// unit to its RTP packets leaving (its stats).
	PreviewViewers        int     `json:"preview_viewers"`
	PreviewUnitsPerViewer float64 `json:"preview_units_per_viewer"`
	PreviewSoundPerViewer float64 `json:"preview_opus_packets_per_viewer"`
	PreviewDelayMedian    float64 `json:"preview_send_delay_ms_median"`
	PreviewDelayP95       float64 `json:"preview_send_delay_ms_p95"`
	PreviewErrors         int     `json:"preview_errors"`
	// PreviewFirstMedian and PreviewFirstP95 are the time from a viewer's
	// WHEP answer to its first access unit, over the viewers.
	PreviewFirstMedian float64 `json:"preview_first_picture_ms_median"`
	PreviewFirstP95    float64 `json:"preview_first_picture_ms_p95"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[int(float64(len(d)-1)*q)]
}

// readLoad runs k readers for d: each fetches its stream's media playlist
// and then the newest part (or complete segment), again and again, over
// one keep-alive connection of its own. With netHTTP the readers use
// net/http's client instead of the lean one (rawClient).
func readLoad(ctx context.Context, mediaURLs []string, k int, d time.Duration, parts, netHTTP bool) (reqs, nbytes int64, errs int) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	end, _ := ctx.Deadline()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: k + 16}}
	var nreq, nb atomic.Int64
	var nerr atomic.Int32
	var wg sync.WaitGroup
	for i := range k {
		mediaURL := mediaURLs[i%len(mediaURLs)]
		base := mediaURL[:strings.LastIndexByte(mediaURL, '/')+1]
		var fetch func(url string, keep bool) ([]byte, bool)
		if netHTTP {
			fetch = func(url string, _ bool) ([]byte, bool) {
				b, err := get(ctx, client, url)
				if err != nil {
					if ctx.Err() == nil {
						nerr.Add(1)
					}
					return nil, false
				}
				nreq.Add(1)
				nb.Add(int64(len(b)))
				return b, true
			}
		} else {
			rc, err := newRawClient(mediaURL)
			if err != nil {
				nerr.Add(1)
				continue
			}
			defer rc.close()
			origin := mediaURL[:len(mediaURL)-len(mustPath(mediaURL))]
			fetch = func(url string, keep bool) ([]byte, bool) {
				n, b, err := rc.get(url[len(origin):], keep, end)
				if err != nil {
					if ctx.Err() == nil && time.Now().Before(end) {
						nerr.Add(1)
					}
					return nil, false
				}
				nreq.Add(1)
				nb.Add(int64(n))
				return b, true
			}
		}
		wg.Go(func() {
			for ctx.Err() == nil {
				b, ok := fetch(mediaURL, true)
				if !ok {
					continue
				}
				uri, ok := newestURI(b, parts)
				if !ok {
					nerr.Add(1)
					continue
				}
				fetch(base+uri, false)
			}
		})
	}
	wg.Wait()
	return nreq.Load(), nb.Load(), int(nerr.Load())
}

// mustPath is rawURL's path and query (what a request line names).
func mustPath(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	return u.RequestURI()
}

func printTable(w io.Writer, rs []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "streams\tfirst playlist ms (med/max)\tpart delay ms (med/p95)\tsegment delay ms (med/p95)\tCPU % (total/per stream)\tRSS MB (idle/total/per stream)\treaders\treq/s\tMB/s\terrors (pub/player/reader)\tframes (received/dropped)\tdrop warnings\trecorded MB\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%d\t%.0f / %.0f\t%.0f / %.0f\t%.0f / %.0f\t%.1f / %.2f\t%.1f / %.1f / %.2f\t%d\t%.0f\t%.1f\t%d / %d / %d\t%d / %d\t%d\t%.0f\t\n",
			r.Streams, r.FirstPlaylistMedian, r.FirstPlaylistMax, r.PartDelayMedian, r.PartDelayP95,
			r.SegmentDelayMedian, r.SegmentDelayP95, r.CPUPercent, r.CPUPerStream,
			r.RSSIdleMB, r.RSSMB, r.RSSPerStreamMB, r.Readers, r.ReaderRequestsPerS, r.ReaderMBPerS,
			r.PublisherErrors, r.PlayerErrors, r.ReaderErrors, r.PlayerFrames, r.PlayerDroppedFrames, r.DropWarnings, r.RecordedMB)
	}
	tw.Flush()
	for _, r := range rs {
		if r.Children > 0 {
			fmt.Fprintf(w, "N = %d: %d FFmpeg children (sound meters), CPU %.1f %% of a core in all (%.2f per stream), PSS %.1f MB in all (%.2f per stream); not in the columns above\n",
				r.Streams, r.Children, r.ChildrenCPUPercent, r.ChildrenCPUPercent/float64(r.Streams), r.ChildrenPSSMB, r.ChildrenPSSMB/float64(r.Streams))
		}
	}
}

// newestURI finds in a media playlist the newest part's URI (parts) or the
// newest complete segment's. It scans the text instead of parsing it whole,
// so that the readers, which share the machine with the server, spend
// little: the throughput measured is the server's.
func newestURI(pl []byte, parts bool) (string, bool) {
	if !bytes.HasPrefix(pl, []byte("#EXTM3U")) {
		return "", false
	}
	if parts {
		if i := bytes.LastIndex(pl, []byte("#EXT-X-PART:")); i >= 0 {
			line := pl[i:]
			if j := bytes.IndexAny(line, "\r\n"); j >= 0 {
				line = line[:j]
			}
			if _, after, ok := bytes.Cut(line, []byte(`URI="`)); ok {
				if uri, _, ok := bytes.Cut(after, []byte(`"`)); ok && len(uri) > 0 {
					return string(uri), true
				}
			}
			return "", false
		}
	}
	// The newest segment: the last line that is not a tag.
	lines := bytes.FieldsFunc(pl, func(r rune) bool { return r == '\n' || r == '\r' })
	for _, line := range slices.Backward(lines) {
		if line := bytes.TrimSpace(line); len(line) > 0 && line[0] != '#' {
			return string(line), true
		}
	}
	return "", false
}
