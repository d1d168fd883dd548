// Package metrics exposes the studio in Prometheus's text format. Every
// figure is read at scrape time from what the engine, the preview and the
// webhooks already count (the stats snapshot), so the media path does no
// work for it.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/onair-studio/onair/engine/livestream"
)

// Streams are the live streams and their stats (the engine).
type Streams interface {
	List() ([]livestream.StreamState, error)
	Stats(id string) (stats livestream.Stats, ok bool, err error)
}

// Sources are where the figures come from; nil ones are left out.
type Sources struct {
	Streams Streams // required
	// PreviewViewers returns a stream's WebRTC preview viewers.
	PreviewViewers func(id string) int
	// Webhooks returns deliveries by outcome and events stored for delivery.
	Webhooks func() (delivered, failed, abandoned, enqueued uint64)
	// PictureDecodes counts the key frames decoded for live thumbnails.
	PictureDecodes func() uint64
}

// Handler serves /metrics: the studio's collector, Go's runtime and the
// process's figures, on a registry of its own.
func Handler(src Sources) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newCollector(src))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("onair_"+name, help, labels, nil)
}

var (
	dStreams     = desc("live_streams", "Live streams by status.", "status")
	dPublishing  = desc("stream_publishing", "1 while an encoder publishes to the stream.", "live_stream")
	dUptime      = desc("stream_uptime_seconds", "How long the stream's session has been active.", "live_stream")
	dBytes       = desc("stream_ingest_bytes_total", "Media bytes received in the stream's session.", "live_stream")
	dFrames      = desc("stream_ingest_frames_total", "Video frames received in the stream's session.", "live_stream")
	dBitrate     = desc("stream_ingest_bitrate_kbps", "Input bitrate over the last 2 s or more, in kbit/s.", "live_stream")
	dStreamDrops = desc("stream_dropped_units_total", "Media units the stream's slow outputs and viewers dropped.", "live_stream")
	dHLSReq      = desc("stream_hls_requests_total", "HLS requests served in the stream's session.", "live_stream")
	dHLSKind     = desc("stream_hls_requests_by_kind_total", "HLS requests served in the stream's session, by kind (multivariant, playlist, blocking_playlist, init, segment, part, other): what an edge in front of the studio still asks for.", "live_stream", "kind")
	dHLSBytes    = desc("stream_hls_bytes_total", "HLS bytes served in the stream's session.", "live_stream")
	dHLSViewers  = desc("stream_hls_viewers", "Distinct HLS clients (address and user agent) seen in the last 30 s.", "live_stream")
	dHLSDVRBytes = desc("stream_hls_dvr_bytes", "Bytes the HLS output's DVR window keeps (on disk but for the newest segments).", "live_stream")
	dHLSDVRSec   = desc("stream_hls_dvr_seconds", "Media the HLS output's DVR window keeps, in seconds.", "live_stream")
	dPreview     = desc("stream_preview_viewers", "WebRTC preview viewers of the stream.", "live_stream")
	dOutStatus   = desc("output_status", "1 for each running output's current status.", "live_stream", "output", "type", "status")
	dOutDrops    = desc("output_dropped_units_total", "Media units the output dropped for being too slow.", "live_stream", "output", "type")
	dHooks       = desc("webhook_deliveries_total", "Webhook delivery attempts by outcome since the studio started.", "outcome")
	dHookQueue   = desc("webhook_events_stored_total", "Events stored for webhook delivery since the studio started.")
	dDecodes     = desc("thumbnail_decodes_total", "Key frames decoded for live thumbnails since the studio started (one per key frame and width, however many ask).")
)

type collector struct{ src Sources }

func newCollector(src Sources) *collector { return &collector{src: src} }

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dStreams, dPublishing, dUptime, dBytes, dFrames, dBitrate, dStreamDrops,
		dHLSReq, dHLSKind, dHLSBytes, dHLSViewers, dPreview, dOutStatus, dOutDrops, dHooks, dHookQueue, dDecodes} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one pass over the streams.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	list, err := c.src.Streams.List()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(dStreams, err)
		return
	}
	var active, idle float64
	for _, st := range list {
		if st.Status != livestream.StatusActive {
			idle++
			continue
		}
		active++
		s, ok, err := c.src.Streams.Stats(st.ID)
		if err != nil || !ok {
			continue
		}
		id := st.ID
		gauge := func(d *prometheus.Desc, v float64, l ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{id}, l...)...)
		}
		counter := func(d *prometheus.Desc, v uint64, l ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append([]string{id}, l...)...)
		}
		pub := 0.0
		if s.Publishing {
			pub = 1
		}
		gauge(dPublishing, pub)
		gauge(dUptime, s.Uptime.Seconds())
		counter(dBytes, s.BytesReceived)
		counter(dFrames, s.FramesReceived)
		gauge(dBitrate, s.BitrateKbps)
		counter(dStreamDrops, s.Dropped)
		for _, o := range s.Outputs {
			gauge(dOutStatus, 1, o.ID, string(o.Type), string(o.Status))
			counter(dOutDrops, o.Dropped, o.ID, string(o.Type))
			if o.Type == livestream.OutputHLS {
				counter(dHLSReq, o.Requests)
				for i, k := range livestream.HLSRequestKinds {
					counter(dHLSKind, o.RequestsByKind[i], k)
				}
				counter(dHLSBytes, o.BytesServed)
				gauge(dHLSViewers, float64(o.Viewers))
				if o.DVR.Window > 0 {
					gauge(dHLSDVRBytes, float64(o.DVR.Bytes))
					gauge(dHLSDVRSec, o.DVR.Kept.Seconds())
				}
			}
		}
		if c.src.PreviewViewers != nil {
			gauge(dPreview, float64(c.src.PreviewViewers(id)))
		}
	}
	ch <- prometheus.MustNewConstMetric(dStreams, prometheus.GaugeValue, active, "active")
	ch <- prometheus.MustNewConstMetric(dStreams, prometheus.GaugeValue, idle, "idle")
	if c.src.Webhooks != nil {
		d, f, a, e := c.src.Webhooks()
		ch <- prometheus.MustNewConstMetric(dHooks, prometheus.CounterValue, float64(d), livestream.DeliveryDelivered)
		ch <- prometheus.MustNewConstMetric(dHooks, prometheus.CounterValue, float64(f), livestream.DeliveryFailed)
		ch <- prometheus.MustNewConstMetric(dHooks, prometheus.CounterValue, float64(a), livestream.DeliveryAbandoned)
		ch <- prometheus.MustNewConstMetric(dHookQueue, prometheus.CounterValue, float64(e))
	}
	if c.src.PictureDecodes != nil {
		ch <- prometheus.MustNewConstMetric(dDecodes, prometheus.CounterValue, float64(c.src.PictureDecodes()))
	}
}
