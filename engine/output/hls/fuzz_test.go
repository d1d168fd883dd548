package hls

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzRequest sends arbitrary paths and queries to a live muxer with a DVR
// window (so delta updates are offered): it must answer every one (no
// panic, no endless wait) and never with a 5xx.
func FuzzRequest(f *testing.F) {
	tr, units := clipUnits(f)
	m, err := newFMP4Muxer(tr, true, 7, time.Second, 200*time.Millisecond, defaultLimits,
		dvrLimits{window: time.Minute}, f.TempDir(), quiet())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(m.close)
	for _, u := range units[:len(units)/2] {
		m.writeUnit(u)
	}
	for _, seed := range []string{
		"/index.m3u8", "/stream.m3u8", "/stream.m3u8?_HLS_msn=2&_HLS_part=3", "/stream.m3u8?_HLS_msn=-1",
		"/stream.m3u8?_HLS_msn=99999999999999999999", "/" + m.initURI(), "/" + m.segURI(1), "/" + m.partURI(2, 0),
		"/" + m.prefix + "_part2_-1.mp4", "/" + m.prefix + "_seg.mp4", "/../x",
		"/stream.m3u8?_HLS_skip=YES", "/stream.m3u8?_HLS_skip=v2&_HLS_msn=3&_HLS_part=0", "/stream.m3u8?_HLS_skip=NO",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, target string) {
		req, err := http.NewRequest(http.MethodGet, "http://h"+target, nil)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		w := httptest.NewRecorder()
		m.handle(w, req.WithContext(ctx))
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("%q answered %d", target, w.Code)
		}
	})
}
