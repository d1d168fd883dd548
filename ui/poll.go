package ui

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"strings"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// pollStats refreshes the shown live stream's statistics every second.
func (v *View) pollStats(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	sparkTurn := false
	thumbTick, lastLive := 0, ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var id string
		var live []string
		var shown bool
		done := make(chan struct{})
		v.do(func() {
			shown = !v.hidden
			if v.page != nil && v.page.active {
				id = v.selected
			}
			// Recordings in progress grow, and uploads move, on the library screen.
			if v.onLibrary && v.library != nil && v.library.recording() {
				v.library.reload()
			}
			// Uptimes in the list move on, and so do the sparklines of
			// live streams (read below, every other second).
			for _, st := range v.streams {
				if st.Publishing {
					live = append(live, st.ID)
				}
			}
			if len(live) > 0 && !sparkTurn {
				v.list.list.Refresh()
			}
			close(done)
		})
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
		if sparkTurn = !sparkTurn; sparkTurn && len(live) > 0 {
			v.readSparks(live)
		}
		// Every few seconds (less often with many live streams: a picture
		// is a decoded key frame, about 25 ms), and at once when a stream
		// goes live or ends.
		thumbTick++
		if now := strings.Join(live, ","); shown && (thumbTick >= thumbPeriod(len(live)) || now != lastLive) {
			thumbTick, lastLive = 0, now
			v.readThumbs(live)
		}
		if id == "" {
			continue
		}
		st, ok, err := v.eng.Stats(id)
		if err != nil {
			continue
		}
		hist, _, _ := v.eng.History(id, livestream.HistorySeconds)
		var cur *livestream.Asset
		if recs, _, _ := v.studio.Library().List(nil, 1, id); len(recs) == 1 && recs[0].Status == livestream.AssetRecording {
			cur = &recs[0]
		}
		v.do(func() {
			if v.page != nil && v.selected == id {
				v.page.showStats(st, ok)
				v.page.showHistory(hist)
				v.page.recCur = cur
				v.page.showRecording()
			}
		})
	}
}

// thumbPeriod is how often, in seconds, the streams list's pictures of n
// live streams are read again: every 4 s, and for more than 8 streams
// every n/2 s, so that they cost at most about 5 % of a core.
func thumbPeriod(n int) int { return max(4, n/2) }

// readThumbs reads a small picture of each live stream and shows them in
// the list; none while the window is hidden.
func (v *View) readThumbs(ids []string) {
	thumbs := make(map[string]image.Image, len(ids))
	for _, id := range ids {
		b, err := v.studio.Stills().Thumbnail(id, 2*thumbWidth) // sharp on a 2× screen
		if err != nil {
			continue
		}
		if img, err := jpeg.Decode(bytes.NewReader(b)); err == nil {
			thumbs[id] = img
		}
	}
	v.do(func() {
		v.list.thumbs = thumbs
		v.list.list.Refresh()
	})
}

// sparkSeconds is how far back the streams list's sparklines go.
const sparkSeconds = 60

// readSparks reads the bitrate of the last minute of each live stream
// (the engine's history: a copy, no decoding) and shows them in the list.
func (v *View) readSparks(ids []string) {
	sparks := make(map[string][]float64, len(ids))
	for _, id := range ids {
		hist, ok, err := v.eng.History(id, sparkSeconds)
		if err != nil || !ok {
			continue
		}
		vals := make([]float64, len(hist))
		for i, s := range hist {
			vals[i] = s.BitrateKbps
		}
		sparks[id] = vals
	}
	v.do(func() {
		v.list.sparks = sparks
		v.list.list.Refresh()
	})
}
