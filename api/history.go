package api

import (
	"math"
	"net/http"
	"strconv"

	"github.com/onair-studio/onair/engine/livestream"
)

// historyView is GET …/stats/history's data: a sample a second, oldest
// first.
type historyView struct {
	IntervalSec int          `json:"interval_sec"`
	Samples     []sampleView `json:"samples"`
}

// sampleView is one second of history as the API writes it (times in
// epoch milliseconds, as everywhere in the API).
type sampleView struct {
	At             int64    `json:"at"`
	Publishing     bool     `json:"publishing"`
	BitrateKbps    float64  `json:"bitrate_kbps"`
	FrameRate      float64  `json:"frame_rate"`
	Dropped        uint64   `json:"dropped"`
	HLSViewers     int      `json:"hls_viewers"`
	PreviewViewers int      `json:"preview_viewers"`
	OBSCongestion  *float64 `json:"obs_congestion,omitempty"`
}

func viewHistory(samples []livestream.Sample) historyView {
	v := historyView{IntervalSec: 1, Samples: make([]sampleView, len(samples))}
	for i, smp := range samples {
		v.Samples[i] = sampleView{At: smp.At.UnixMilli(), Publishing: smp.Publishing, BitrateKbps: round1(smp.BitrateKbps),
			FrameRate: round1(smp.FrameRate), Dropped: smp.Dropped, HLSViewers: smp.HLSViewers, PreviewViewers: smp.PreviewViewers,
			OBSCongestion: smp.OBSCongestion}
	}
	return v
}

// round1 keeps one decimal: the history is for graphs.
func round1(f float64) float64 { return math.Round(f*10) / 10 }

// statsHistory answers GET /live_streams/{id}/stats/history?seconds=N: the
// newest N seconds (default and most: livestream.HistorySeconds) of an
// active stream's counters; 409 when it is idle.
func (s *Server) statsHistory(w http.ResponseWriter, r *http.Request) {
	id, ok := s.idParam(w, r, "id", "live stream")
	if !ok {
		return
	}
	seconds := livestream.HistorySeconds
	if v := r.URL.Query().Get("seconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > livestream.HistorySeconds {
			s.fail(w, r, http.StatusBadRequest, "seconds must be a whole number from 1 to "+strconv.Itoa(livestream.HistorySeconds)+", not "+strconv.Quote(v))
			return
		}
		seconds = n
	}
	samples, live, err := s.Engine.History(id, seconds)
	switch {
	case err != nil:
		s.failErr(w, r, err)
		return
	case !live:
		s.fail(w, r, http.StatusConflict, "live stream "+id+" is idle: its history is kept while it is active (activate it, or start streaming to it)")
		return
	}
	s.reply(w, http.StatusOK, viewHistory(samples))
}
