package hls

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/onair-studio/onair/engine/livestream"
)

// Each kind of answer says how long an edge (a CDN, a caching proxy) may
// keep it: init sections, segments and parts forever (their names are
// unique to the session), a blocking playlist for a few target durations
// (keyed by its query), the plain playlists about a part, errors never.
// CORS stays one answer for every origin (no Vary), and no cookies.
func TestCacheHeadersByKind(t *testing.T) {
	tr, units := clipUnits(t)
	m := testMuxer(t, tr, t.TempDir())
	for _, u := range units {
		if err := m.writeUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	srv := serveMuxer(t, m)
	m.mu.Lock()
	oldest, last, cur := m.segments[0].msn, m.segments[len(m.segments)-1].msn, m.cur.msn
	init := m.initURI()
	m.mu.Unlock()
	for _, c := range []struct {
		path, cache string
		code        int
	}{
		{multivariantName, "public, max-age=1", 200},
		{mediaName, "public, max-age=1", 200},
		{fmt.Sprintf("%s?_HLS_msn=%d", mediaName, last), "public, max-age=6", 200},
		{fmt.Sprintf("%s?_HLS_msn=%d&_HLS_part=0", mediaName, cur), "public, max-age=6", 200},
		{init, cacheImmutable, 200},
		{fmt.Sprintf("%s_seg%d.mp4", m.prefix, oldest), cacheImmutable, 200}, // in a file
		{fmt.Sprintf("%s_seg%d.mp4", m.prefix, last), cacheImmutable, 200},   // in memory
		{fmt.Sprintf("%s_part%d_0.mp4", m.prefix, cur), cacheImmutable, 200},
		{fmt.Sprintf("%s_part%d_0.mp4", m.prefix, oldest), cacheImmutable, 200},
		{fmt.Sprintf("%s_seg%d.mp4", m.prefix, cur+5), cacheNever, 404},
		{fmt.Sprintf("%s?_HLS_msn=%d", mediaName, cur+5), cacheNever, 400},
		{mediaName + "?_HLS_part=1", cacheNever, 400},
		{"other.mp4", cacheNever, 404},
	} {
		resp, err := http.Get(srv.URL + "/" + c.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code || resp.Header.Get("Cache-Control") != c.cache {
			t.Errorf("%s: %d %q, want %d %q", c.path, resp.StatusCode, resp.Header.Get("Cache-Control"), c.code, c.cache)
		}
		if v := resp.Header.Values("Vary"); len(v) > 0 || resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s: Vary %v, Set-Cookie %q", c.path, v, resp.Header.Get("Set-Cookie"))
		}
		if c.code == 200 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "video/mp4") && !strings.Contains(resp.Header.Get("Content-Type"), "mpegurl") {
			t.Errorf("%s: Content-Type %q", c.path, resp.Header.Get("Content-Type"))
		}
	}
}

// Requests are counted by kind, so that an edge's effect on the origin
// shows in /metrics.
func TestRequestKinds(t *testing.T) {
	for path, want := range map[string]string{
		"/hls/x/index.m3u8":                         "multivariant",
		"/hls/x/stream.m3u8":                        "playlist",
		"/hls/x/stream.m3u8?_HLS_msn=3":             "blocking_playlist",
		"/hls/x/stream.m3u8?_HLS_msn=3&_HLS_part=1": "blocking_playlist",
		"/hls/x/ab12_init.mp4":                      "init",
		"/hls/x/ab12_seg4.mp4":                      "segment",
		"/hls/x/ab12_part4_2.mp4":                   "part",
		"/hls/x/favicon.ico":                        "other",
	} {
		r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1"+path, nil)
		if got := livestream.HLSRequestKinds[requestKind(r)]; got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
}
