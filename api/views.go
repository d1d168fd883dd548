package api

import (
	"encoding/json"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

type inputView struct {
	Type      string `json:"type"`
	URI       string `json:"uri"`
	StreamKey string `json:"stream_key"`
	// SRTURI is the whole SRT URL to paste into an encoder (stream id
	// with the key included); absent when the studio has no SRT.
	SRTURI string `json:"srt_uri,omitempty"`
}

type outputView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	URI       string `json:"uri"`
	StreamKey string `json:"stream_key"`
	Vendor    string `json:"vendor"`
	PublicID  string `json:"public_id"`
	Enabled   bool   `json:"enabled"`
	// DVRWindowSec is the hls output's DVR window (absent on other types).
	DVRWindowSec *int `json:"dvr_window_sec,omitempty"`
	// Renditions are the hls output's encoded renditions, tallest first
	// ([] when none; absent on other types).
	Renditions *[]livestream.Rendition `json:"renditions,omitempty"`
	Status     string                  `json:"status"`
	LastError  string                  `json:"last_error"`
	CreatedAt  int64                   `json:"created_at"`
	UpdatedAt  int64                   `json:"updated_at"`
}

type streamView struct {
	ID             string       `json:"id"`
	Name           string       `json:"name"`
	Input          inputView    `json:"input"`
	Status         string       `json:"status"`
	Outputs        []outputView `json:"outputs"`
	IdleTimeoutSec int          `json:"idle_timeout_sec"`
	MaxRuntimeSec  int          `json:"max_runtime_sec"`
	CreatedAt      int64        `json:"created_at"`
	UpdatedAt      int64        `json:"updated_at"`
}

// statsView is the stats object of an active stream.
type statsView struct {
	UptimeSec      int64             `json:"uptime_sec"`
	Publishing     bool              `json:"publishing"`
	VideoCodec     string            `json:"video_codec,omitempty"`
	Width          int               `json:"width,omitempty"`
	Height         int               `json:"height,omitempty"`
	FrameRate      float64           `json:"frame_rate,omitempty"`
	AudioCodec     string            `json:"audio_codec,omitempty"`
	SampleRate     int               `json:"sample_rate,omitempty"`
	Channels       int               `json:"channels,omitempty"`
	BitrateKbps    float64           `json:"bitrate_kbps"`
	BytesReceived  uint64            `json:"bytes_received"`
	FramesReceived uint64            `json:"frames_received"`
	Dropped        uint64            `json:"dropped_units"`
	Readers        int               `json:"readers"`
	BFrames        bool              `json:"b_frames"`
	Preview        *previewStatsView `json:"preview,omitempty"`
	DVR            *dvrStatsView     `json:"dvr,omitempty"`
	Sound          *soundStatsView   `json:"sound,omitempty"`
}

// soundStatsView is what the sound meter measured over the last 100 ms.
type soundStatsView struct {
	Channels []soundChannelView `json:"channels"`
	Silent   bool               `json:"silent"`
	QuietSec float64            `json:"quiet_sec"`
	Error    string             `json:"error,omitempty"`
}

// soundChannelView is one channel's level in dBFS, to 0.1 dB.
type soundChannelView struct {
	PeakDBFS float64 `json:"peak_dbfs"`
	RMSDBFS  float64 `json:"rms_dbfs"`
}

// dvrStatsView is what the HLS output's DVR window keeps.
type dvrStatsView struct {
	WindowSec float64 `json:"window_sec"`
	KeptSec   float64 `json:"kept_sec"`
	Bytes     int64   `json:"bytes"`
	// LowDisk: the disk is nearly full and only the live edge is kept.
	LowDisk bool `json:"low_disk"`
}

// previewStatsView is the WebRTC preview of an active stream with viewers.
type previewStatsView struct {
	Viewers     int     `json:"viewers"`
	DelayMedian float64 `json:"send_delay_ms_median"`
	DelayP95    float64 `json:"send_delay_ms_p95"`
}

func viewStats(st livestream.Stats) statsView {
	v := statsView{
		UptimeSec: int64(st.Uptime / time.Second), Publishing: st.Publishing,
		VideoCodec: st.VideoCodec, Width: st.Width, Height: st.Height, FrameRate: round2(st.FrameRate),
		AudioCodec: st.AudioCodec, SampleRate: st.SampleRate, Channels: st.Channels,
		BitrateKbps: round2(st.BitrateKbps), BytesReceived: st.BytesReceived, FramesReceived: st.FramesReceived,
		Dropped: st.Dropped, Readers: st.Readers, BFrames: st.BFrames,
	}
	if st.PreviewViewers > 0 {
		v.Preview = &previewStatsView{st.PreviewViewers, ms(st.PreviewDelayMedian), ms(st.PreviewDelayP95)}
	}
	if sd := st.Sound; sd != nil {
		v.Sound = &soundStatsView{Channels: []soundChannelView{}, Silent: sd.Silent, QuietSec: round2(sd.Quiet.Seconds()), Error: sd.Error}
		for _, c := range sd.Channels {
			v.Sound.Channels = append(v.Sound.Channels, soundChannelView{PeakDBFS: tenth(c.Peak), RMSDBFS: tenth(c.RMS)})
		}
	}
	for _, o := range st.Outputs {
		if d := o.DVR; o.Type == livestream.OutputHLS && d.Window > 0 {
			v.DVR = &dvrStatsView{WindowSec: d.Window.Seconds(), KeptSec: round2(d.Kept.Seconds()), Bytes: d.Bytes, LowDisk: d.LowDisk}
		}
	}
	return v
}

func ms(d time.Duration) float64 { return round2(float64(d) / float64(time.Millisecond)) }

// tenth rounds v to 0.1 (either sign).
func tenth(v float64) float64 { return math.Round(v*10) / 10 }

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

func millis(t time.Time) int64 { return t.UnixMilli() }

// viewOutput is an output as the API shows it. A destination's stream key
// is masked unless reveal is set: listings end up in logs and screenshots.
func viewOutput(o livestream.OutputState, reveal bool) outputView {
	key := o.StreamKey
	if !reveal {
		key = maskKey(key)
	}
	v := outputView{
		ID: o.ID, Name: o.Name, Type: string(o.Type), URI: o.URI, StreamKey: key,
		Vendor: o.Vendor, PublicID: o.PublicID, Enabled: !o.Disabled, Status: string(o.Status), LastError: o.LastError,
		CreatedAt: millis(o.CreatedAt), UpdatedAt: millis(o.UpdatedAt),
	}
	if o.Type == livestream.OutputHLS {
		w := o.DVRWindowSec
		v.DVRWindowSec = &w
		r := append([]livestream.Rendition{}, o.Renditions...)
		v.Renditions = &r
	}
	return v
}

// maskKey shows a destination's key as asterisks and its last 4
// characters (only asterisks for short keys).
func maskKey(k string) string {
	if k == "" {
		return ""
	}
	if len(k) <= 8 {
		return "****"
	}
	return "****" + k[len(k)-4:]
}

func viewStream(st livestream.StreamState, reveal bool) streamView {
	v := streamView{
		ID:             st.ID,
		Name:           st.Name,
		Input:          inputView{Type: st.Input.Type, URI: st.InputURI, StreamKey: st.Input.StreamKey, SRTURI: st.SRTURI},
		Status:         string(st.Status),
		Outputs:        make([]outputView, 0, len(st.Outputs)),
		IdleTimeoutSec: st.IdleTimeoutSec,
		MaxRuntimeSec:  st.MaxRuntimeSec,
		CreatedAt:      millis(st.CreatedAt),
		UpdatedAt:      millis(st.UpdatedAt),
	}
	for _, o := range st.Outputs {
		v.Outputs = append(v.Outputs, viewOutput(o, reveal))
	}
	return v
}

// viewCache keeps the encoded view of each stream's latest state, keyed by
// id and checked by the state's Version: a list page or a GET of an
// unchanged stream is not encoded again (encoding was the largest cost of
// API reads).
type viewCache struct {
	m      sync.Map // id → *cachedView
	stored atomic.Int64
}

type cachedView struct {
	version uint64
	b       json.RawMessage
}

// maxCachedViews bounds the cache; it is emptied when full (views of
// deleted streams are not removed one by one).
const maxCachedViews = 20000

// withStats returns the view b of an active stream with its stats object
// added (stats change every second, so they are not part of the cache).
func withStats(b []byte, stats livestream.Stats) ([]byte, error) {
	sb, err := json.Marshal(viewStats(stats))
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(b)+len(sb)+10)
	out = append(out, b[:len(b)-1]...) // without the closing brace
	out = append(out, `,"stats":`...)
	out = append(out, sb...)
	return append(out, '}'), nil
}

func (c *viewCache) encoded(st livestream.StreamState) (json.RawMessage, error) {
	if v, ok := c.m.Load(st.ID); ok && st.Version != 0 && v.(*cachedView).version == st.Version {
		return v.(*cachedView).b, nil
	}
	b, err := json.Marshal(viewStream(st, false))
	if err != nil || st.Version == 0 {
		return b, err
	}
	if c.stored.Add(1) > maxCachedViews {
		c.m.Clear()
		c.stored.Store(0)
	}
	c.m.Store(st.ID, &cachedView{version: st.Version, b: b})
	return b, nil
}
