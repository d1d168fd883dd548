package ui

import (
	"context"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// pollStats refreshes the shown live stream's statistics every second.
func (v *View) pollStats(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var id string
		done := make(chan struct{})
		v.do(func() {
			if v.page != nil && v.page.active {
				id = v.selected
			}
			// Recordings in progress grow, and uploads move, on the library screen.
			if v.onLibrary && v.library != nil && v.library.recording() {
				v.library.reload()
			}
			// Uptimes in the list move on.
			for _, st := range v.streams {
				if st.Publishing {
					v.list.list.Refresh()
					break
				}
			}
			close(done)
		})
		select {
		case <-done:
		case <-ctx.Done():
			return
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
