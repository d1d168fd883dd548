package hls

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/mediatest/clipunits"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// clipUnits turns the small test clip into units, as ingest does.
func clipUnits(t testing.TB) (media.Tracks, []*media.Unit) {
	t.Helper()
	return clipunits.Units(t, mediatest.Small)
}

// testMuxer is a low-latency muxer with the output's defaults; dir "" keeps
// segments in memory. It is closed when the test ends.
func testMuxer(tb testing.TB, tr media.Tracks, dir string) *fmp4Muxer {
	tb.Helper()
	m, err := newFMP4Muxer(tr, true, 7, time.Second, 200*time.Millisecond, defaultLimits, dvrLimits{}, dir, quiet())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(m.close)
	return m
}

// serveMuxer serves m over HTTP on 127.0.0.1 until the test ends.
func serveMuxer(tb testing.TB, m *fmp4Muxer) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(m.handle))
	tb.Cleanup(srv.Close)
	return srv
}

func mediaPlaylistOf(t *testing.T, m *fmp4Muxer) *playlist.Media {
	t.Helper()
	m.mu.Lock()
	b, err := m.mediaPlaylistLocked(false)
	m.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	var pl playlist.Media
	if err := pl.Unmarshal(b); err != nil {
		t.Fatalf("our playlist does not parse: %v\n%s", err, b)
	}
	return &pl
}

func TestSegmentsAndParts(t *testing.T) {
	tr, units := clipUnits(t)
	dir := t.TempDir()
	m, err := newFMP4Muxer(tr, true, 7, time.Second, 200*time.Millisecond, defaultLimits, dvrLimits{}, dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if err := m.writeUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	// 12 s with a 2 s GOP: 5 complete segments, the 6th in progress.
	if len(m.segments) != 5 {
		t.Fatalf("%d complete segments, want 5", len(m.segments))
	}
	pl := mediaPlaylistOf(t, m)
	if pl.TargetDuration != 2 || pl.PartInf == nil || pl.ServerControl == nil || !pl.ServerControl.CanBlockReload {
		t.Fatalf("playlist header: %+v", pl)
	}
	target := pl.PartInf.PartTarget
	for _, s := range append(m.segments, m.cur) {
		if s.complete && (s.dur < 1990*time.Millisecond || s.dur > 2010*time.Millisecond) {
			t.Errorf("segment %d lasts %v, want one GOP (2 s)", s.msn, s.dur)
		}
		for i, p := range s.parts {
			if i == 0 != p.independent {
				t.Errorf("segment %d part %d independent=%v", s.msn, i, p.independent)
			}
			last := i == len(s.parts)-1
			if p.dur > target || (!last && p.dur < target*85/100) {
				t.Errorf("segment %d part %d lasts %v, outside 85–100 %% of %v", s.msn, i, p.dur, target)
			}
		}
		// Segments behind the two newest complete ones are in files.
		if s.complete && s.msn < m.segments[len(m.segments)-2].msn {
			st, err := os.Stat(s.path)
			if err != nil || st.Size() != s.size {
				t.Fatalf("segment file %q: %v", s.path, err)
			}
			for _, p := range s.parts {
				if p.data != nil {
					t.Fatalf("segment %d is in a file and still in memory", s.msn)
				}
			}
		}
	}
	m.close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the muxer's folder is left after close: %v", err)
	}
}

func TestReconnectMarksDiscontinuity(t *testing.T) {
	tr, units := clipUnits(t)
	m := testMuxer(t, tr, "")
	half := len(units) / 3
	for _, u := range units[:half] {
		m.writeUnit(u)
	}
	m.markDiscontinuity()
	shift := units[half-1].DTS + 40*time.Millisecond // as the hub rebases a new publisher
	for _, u := range units {
		c := *u
		c.DTS += shift
		c.PTS += shift
		m.writeUnit(&c)
	}
	pl := mediaPlaylistOf(t, m)
	n := 0
	for _, s := range pl.Segments {
		if s.Discontinuity {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d discontinuities in the playlist, want 1", n)
	}
}

// Blocking playlist reloads and preload-hinted parts wait for the media;
// bad or cancelled requests do not.
func TestBlockingRequests(t *testing.T) {
	tr, units := clipUnits(t)
	m := testMuxer(t, tr, t.TempDir())
	srv := serveMuxer(t, m)
	half := len(units) / 2
	for _, u := range units[:half] {
		m.writeUnit(u)
	}
	m.mu.Lock()
	msn, next := m.cur.msn, len(m.cur.parts)
	partURL := srv.URL + "/" + m.partURI(msn, next)
	m.mu.Unlock()

	get := func(url string, d time.Duration) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(srv.URL+"/stream.m3u8?_HLS_msn=999&_HLS_part=0", time.Second); code != 400 {
		t.Fatalf("far-ahead msn: %d", code)
	}
	// Negative or unpaired directives are refused like a negative msn.
	for _, q := range []string{"_HLS_msn=-1", "_HLS_msn=1&_HLS_part=-5", "_HLS_msn=1&_HLS_part=-1", "_HLS_part=0", "_HLS_msn=1&_HLS_part=x"} {
		if code, _ := get(srv.URL+"/stream.m3u8?"+q, time.Second); code != 400 {
			t.Errorf("%s: %d, want 400", q, code)
		}
	}
	// The next part and a playlist that must contain it block until it exists.
	type answer struct {
		code int
		body string
	}
	plDone, partDone := make(chan answer, 1), make(chan answer, 1)
	go func() {
		c, b := get(srv.URL+"/stream.m3u8?_HLS_msn="+strconv.Itoa(msn)+"&_HLS_part="+strconv.Itoa(next), 10*time.Second)
		plDone <- answer{c, b}
	}()
	go func() { c, b := get(partURL, 10*time.Second); partDone <- answer{c, b} }()
	select {
	case a := <-plDone:
		t.Fatalf("blocking playlist answered before the part existed: %d", a.code)
	case <-time.After(300 * time.Millisecond):
	}
	for _, u := range units[half:] {
		m.writeUnit(u)
	}
	pl, part := <-plDone, <-partDone
	if pl.code != 200 || !strings.Contains(pl.body, m.partURI(msn, next)) {
		t.Fatalf("blocking playlist: %d\n%s", pl.code, pl.body)
	}
	if part.code != 200 || len(part.body) < 1000 {
		t.Fatalf("preload-hinted part: %d, %d bytes", part.code, len(part.body))
	}
	// A waiting request ends with its client.
	m.mu.Lock()
	far := m.cur.msn + 1
	m.mu.Unlock()
	start := time.Now()
	get(srv.URL+"/stream.m3u8?_HLS_msn="+strconv.Itoa(far)+"&_HLS_part=0", 200*time.Millisecond)
	if time.Since(start) > 2*time.Second {
		t.Fatal("a cancelled request kept waiting")
	}
	if code, _ := get(srv.URL+"/nothing.mp4", time.Second); code != 404 {
		t.Fatalf("unknown file: %d", code)
	}
}

// gohlslib's client, an independent HLS reader, plays our low-latency
// output and gets both tracks.
func TestGohlslibClientPlaysOutput(t *testing.T) {
	tr, units := clipUnits(t)
	m := testMuxer(t, tr, t.TempDir())
	srv := serveMuxer(t, m)

	// The first 4 s at once, the rest at twice real time.
	i := 0
	for ; i < len(units) && units[i].DTS < 4*time.Second; i++ {
		m.writeUnit(units[i])
	}
	var video, audio atomic.Int64
	c := &gohlslib.Client{URI: srv.URL + "/index.m3u8"}
	c.OnDownloadPrimaryPlaylist = func(string) {}
	c.OnDownloadStreamPlaylist = func(string) {}
	c.OnDownloadSegment = func(string) {}
	c.OnDownloadPart = func(string) {}
	c.OnTracks = func(tracks []*gohlslib.Track) error {
		for _, tk := range tracks {
			switch tk.Codec.(type) {
			case *codecs.H264:
				c.OnDataH26x(tk, func(int64, int64, [][]byte) { video.Add(1) })
			case *codecs.MPEG4Audio:
				c.OnDataMPEG4Audio(tk, func(_ int64, aus [][]byte) { audio.Add(int64(len(aus))) })
			}
		}
		return nil
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	base := units[i].DTS
	for ; i < len(units); i++ {
		if wait := (units[i].DTS-base)/2 - time.Since(start); wait > 0 {
			time.Sleep(wait)
		}
		m.writeUnit(units[i])
	}
	if video.Load() < 60 || audio.Load() < 90 {
		t.Fatalf("client got %d video and %d audio units", video.Load(), audio.Load())
	}
}

// BenchmarkMuxerWriteUnit muxes the real clip unit by unit into parts and
// segments (segment files in a temporary folder); per unit.
func BenchmarkMuxerWriteUnit(b *testing.B) {
	tr, units := clipUnits(b)
	m := testMuxer(b, tr, b.TempDir())
	clipLen := units[len(units)-1].DTS + 40*time.Millisecond
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		u := *units[i%len(units)]
		loop := time.Duration(i/len(units)) * clipLen
		u.DTS += loop
		u.PTS += loop
		i++
		m.writeUnit(&u)
	}
}

// BenchmarkMediaPlaylist measures making the low-latency media playlist
// once (it is made again after every part) with a full window: 7 segments,
// parts listed for the last two and the current one.
func BenchmarkMediaPlaylist(b *testing.B) {
	tr, units := clipUnits(b)
	m := testMuxer(b, tr, b.TempDir())
	clipLen := units[len(units)-1].DTS + 40*time.Millisecond
	for loop := time.Duration(0); len(m.segments) < m.segmentCount; loop += clipLen {
		for _, u := range units {
			u := *u
			u.DTS += loop
			u.PTS += loop
			m.writeUnit(&u)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		m.mu.Lock()
		m.mediaPlaylist = nil
		if _, err := m.mediaPlaylistLocked(false); err != nil {
			b.Fatal(err)
		}
		m.mu.Unlock()
	}
}

func TestFileNumbers(t *testing.T) {
	for _, c := range []struct {
		name string
		want []int
	}{
		{"ab_seg12.mp4", []int{12}},
		{"ab_seg3_4.mp4", []int{3, 4}},
		{"ab_seg0.mp4", []int{0}},
		{"ab_seg.mp4", nil},
		{"ab_seg-1.mp4", nil},
		{"ab_seg1_2_3.mp4", nil},
		{"ab_seg1.ts", nil},
		{"ab_seg1x.mp4", nil},
		{"xx_seg1.mp4", nil},
		{"ab_seg99999999999999999999.mp4", nil},
	} {
		got, ok := fileNumbers(c.name, "ab_seg")
		if ok != (c.want != nil) || !slices.Equal(got, c.want) {
			t.Errorf("fileNumbers(%q) = %v, %v; want %v", c.name, got, ok, c.want)
		}
	}
}

var defaultLimits = muxerLimits{maxDuration: 30 * time.Second, maxBytes: 50 << 20}

// withoutKeys returns copies of units in which video key frames after the
// first one (from index from) are marked as ordinary frames: an encoder
// that stops sending key frames.
func withoutKeys(units []*media.Unit, from int) []*media.Unit {
	out := make([]*media.Unit, len(units))
	for i, u := range units {
		c := *u
		if i >= from && c.Kind == media.KindVideo {
			c.Key = false
		}
		out[i] = &c
	}
	return out
}

// A publisher without key frames cannot grow a segment without bound: it is
// ended at the cap (duration or size) with errNoKeyFrame, video waits for
// the next key frame, and the playlist resumes there.
func TestSegmentCapWithoutKeyFrames(t *testing.T) {
	tr, units := clipUnits(t)
	for _, tc := range []struct {
		name string
		lim  muxerLimits
	}{
		{"duration", muxerLimits{maxDuration: 3 * time.Second, maxBytes: 50 << 20}},
		{"size", muxerLimits{maxDuration: time.Hour, maxBytes: 400 << 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := newFMP4Muxer(tr, true, 7, time.Second, 200*time.Millisecond, tc.lim, dvrLimits{}, "", quiet())
			if err != nil {
				t.Fatal(err)
			}
			defer m.close()
			var capped int
			for _, u := range withoutKeys(units, 1) {
				err := m.writeUnit(u)
				if errors.Is(err, errNoKeyFrame) {
					capped++
				} else if err != nil {
					t.Fatal(err)
				}
				if m.cur != nil && (m.cur.dur > tc.lim.maxDuration || m.cur.size > tc.lim.maxBytes+64<<10) {
					t.Fatalf("segment grew to %v, %d bytes", m.cur.dur, m.cur.size)
				}
			}
			if capped != 1 || len(m.segments) != 1 || m.cur != nil {
				t.Fatalf("capped %d times, %d segments, current %v; want one capped segment and a wait", capped, len(m.segments), m.cur)
			}
			s := m.segments[0]
			if s.size > tc.lim.maxBytes+64<<10 || (tc.name == "duration" && (s.dur < 3*time.Second || s.dur > 3100*time.Millisecond)) {
				t.Fatalf("capped segment: %v, %d bytes", s.dur, s.size)
			}
			// Key frames again: a new segment starts at the first one.
			last := units[len(units)-1].DTS
			for _, u := range units {
				c := *u
				c.DTS += last + 40*time.Millisecond
				c.PTS += last + 40*time.Millisecond
				if err := m.writeUnit(&c); err != nil {
					t.Fatal(err)
				}
			}
			if len(m.segments) < 4 || !m.segments[1].parts[0].independent {
				t.Fatalf("after key frames came back: %d segments", len(m.segments))
			}
		})
	}
}

// The output reports the missing key frames as an error with advice and
// goes back to broadcasting when they return.
func TestOutputReportsMissingKeyFrames(t *testing.T) {
	_, units := clipUnits(t)
	type status struct {
		ok  bool
		err error
	}
	var got []status
	o := &Output{Variant: gohlslib.MuxerVariantLowLatency, SegmentCount: 7, SegmentMinDuration: time.Second,
		PartMinDuration: 200 * time.Millisecond, MaxSegmentDuration: 3 * time.Second, MaxSegmentSize: 50 << 20,
		Logger: quiet(), OnStatus: func(ok bool, err error) { got = append(got, status{ok, err}) }}
	defer o.Close()
	for _, u := range withoutKeys(units, 1) {
		o.write(u)
	}
	last := units[len(units)-1].DTS
	for _, u := range units {
		c := *u
		c.DTS += last + 40*time.Millisecond
		c.PTS += last + 40*time.Millisecond
		o.write(&c)
	}
	if len(got) != 3 || !got[0].ok || got[1].ok || !got[2].ok {
		t.Fatalf("statuses %+v, want broadcasting, errored, broadcasting", got)
	}
	if msg := got[1].err.Error(); !strings.Contains(msg, "no key frames") || !strings.Contains(msg, "key frame interval") {
		t.Fatalf("error %q gives no advice", msg)
	}
}
