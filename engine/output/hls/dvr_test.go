package hls

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/onair-studio/onair/engine/media"
)

// loopUnits repeats the clip's units n times on one timeline, as a long
// publish would send them.
func loopUnits(units []*media.Unit, n int) []*media.Unit {
	last := units[len(units)-1].DTS
	step := last + last/time.Duration(len(units)) + 40*time.Millisecond
	out := make([]*media.Unit, 0, n*len(units))
	for i := range n {
		shift := time.Duration(i) * step
		for _, u := range copyUnits(units) {
			u.DTS += shift
			u.PTS += shift
			out = append(out, u)
		}
	}
	return out
}

func dvrMuxer(t *testing.T, tr media.Tracks, window time.Duration, free func(string) (uint64, error)) *fmp4Muxer {
	t.Helper()
	m, err := newFMP4Muxer(tr, true, 7, time.Second, 200*time.Millisecond, defaultLimits,
		dvrLimits{window: window, minFree: 1 << 30, free: free}, t.TempDir(), quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.close)
	return m
}

func plenty(string) (uint64, error) { return 100 << 30, nil }

// playlistMedia sums the EXTINF durations of a parsed playlist.
func playlistMedia(pl *playlist.Media) time.Duration {
	var d time.Duration
	for _, s := range pl.Segments {
		d += s.Duration
	}
	return d
}

// A DVR window keeps its length of media (± one segment) in the playlist
// and on disk, the files of segments that left are removed, and segments
// far from the edge keep no parts in memory; without a window the
// playlist keeps its seven segments.
func TestDVRWindowKeepsItsMedia(t *testing.T) {
	tr, units := clipUnits(t)
	long := loopUnits(units, 15) // 3 minutes
	m := dvrMuxer(t, tr, time.Minute, plenty)
	for _, u := range long {
		if err := m.writeUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	pl := mediaPlaylistOf(t, m)
	kept := playlistMedia(pl)
	if kept < time.Minute || kept > time.Minute+time.Duration(pl.TargetDuration)*time.Second {
		t.Errorf("the playlist holds %v of media, want 60 s plus at most one segment", kept)
	}
	st := m.dvrStats()
	if d := st.Kept - kept; d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("stats say %v kept, the playlist %v", st.Kept, kept)
	}
	if pl.ServerControl == nil || pl.ServerControl.CanSkipUntil == nil || *pl.ServerControl.CanSkipUntil != 6*time.Duration(pl.TargetDuration)*time.Second {
		t.Errorf("the playlist offers no delta updates of 6 target durations: %+v", pl.ServerControl)
	}
	// Disk: one file per complete segment but the two newest, and their
	// sizes add up with the newest ones' to what the stats say.
	files, err := os.ReadDir(m.dir)
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	var size int64
	withParts := 0
	for _, s := range m.segments {
		size += s.size
		if s.parts != nil {
			withParts++
		}
	}
	n := len(m.segments)
	m.mu.Unlock()
	if len(files) != n-2 {
		t.Errorf("%d segment files for %d segments in the playlist; files of segments that left stay", len(files), n)
	}
	if size != st.Bytes {
		t.Errorf("stats say %d bytes kept, the segments hold %d", st.Bytes, size)
	}
	if withParts > 8 {
		t.Errorf("%d of %d segments keep their parts in memory, want at most 8", withParts, n)
	}

	// Without a window: today's seven segments.
	m0 := dvrMuxer(t, tr, 0, plenty)
	for _, u := range copyUnits(long) {
		if err := m0.writeUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	pl0 := mediaPlaylistOf(t, m0)
	if len(pl0.Segments) != 7 || pl0.ServerControl.CanSkipUntil != nil {
		t.Errorf("without a window: %d segments, CAN-SKIP-UNTIL %v; want 7 and none", len(pl0.Segments), pl0.ServerControl.CanSkipUntil)
	}
}

// A delta update (_HLS_skip=YES) leaves out the segments before the skip
// boundary and is otherwise the whole playlist; bad values are refused.
func TestDeltaPlaylist(t *testing.T) {
	tr, units := clipUnits(t)
	m := dvrMuxer(t, tr, time.Minute, plenty)
	for _, u := range loopUnits(units, 10) {
		if err := m.writeUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	srv := serveMuxer(t, m)
	get := func(q string) (int, string) {
		resp, err := http.Get(srv.URL + "/" + mediaName + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, full := get("")
	code2, delta := get("?_HLS_skip=YES")
	if code != 200 || code2 != 200 {
		t.Fatalf("playlists: %d, %d", code, code2)
	}
	var fp, dp playlist.Media
	if err := fp.Unmarshal([]byte(full)); err != nil {
		t.Fatal(err)
	}
	if err := dp.Unmarshal([]byte(delta)); err != nil {
		t.Fatalf("the delta update does not parse: %v\n%s", err, delta)
	}
	if dp.Skip == nil || dp.Skip.SkippedSegments == 0 {
		t.Fatalf("the delta update skips nothing:\n%.600s", delta)
	}
	n := dp.Skip.SkippedSegments
	if n+len(dp.Segments) != len(fp.Segments) {
		t.Fatalf("skipped %d + listed %d != %d segments", n, len(dp.Segments), len(fp.Segments))
	}
	for i, s := range dp.Segments {
		if s.URI != fp.Segments[n+i].URI {
			t.Fatalf("delta segment %d is %s, the full playlist's %s", i, s.URI, fp.Segments[n+i].URI)
		}
	}
	// The listed segments start within the skip boundary of the end, the
	// last skipped one before it.
	boundary := *dp.ServerControl.CanSkipUntil
	listed := playlistMedia(&dp)
	if listed > boundary || listed+fp.Segments[n-1].Duration <= boundary {
		t.Errorf("the delta update lists %v after skipping a segment of %v; want the segments starting within the last %v", listed, fp.Segments[n-1].Duration, boundary)
	}
	if len(dp.Segments) > len(fp.Segments)/2 {
		t.Errorf("the delta update lists %d of %d segments", len(dp.Segments), len(fp.Segments))
	}
	if !strings.Contains(delta, "#EXT-X-MAP:") || dp.MediaSequence != fp.MediaSequence {
		t.Errorf("the delta update lost its header: sequence %d, want %d", dp.MediaSequence, fp.MediaSequence)
	}
	for _, q := range []string{"?_HLS_skip=NO", "?_HLS_skip=yes", "?_HLS_skip=1"} {
		if code, _ := get(q); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", q, code)
		}
	}
	// Without a window the playlist offers no delta updates and answers in full.
	m0 := dvrMuxer(t, tr, 0, plenty)
	for _, u := range copyUnits(units) {
		if err := m0.writeUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	m0.mu.Lock()
	a, _ := m0.mediaPlaylistLocked(true)
	b, _ := m0.mediaPlaylistLocked(false)
	m0.mu.Unlock()
	if string(a) != string(b) {
		t.Errorf("without a window a delta update differs from the playlist")
	}
}

// Below the free-space floor the window keeps only the live edge, and
// grows again once there is room; the stats say so.
func TestDVRWindowGivesWayToAFullDisk(t *testing.T) {
	tr, units := clipUnits(t)
	var free atomic.Uint64
	free.Store(100 << 30)
	m := dvrMuxer(t, tr, time.Minute, func(string) (uint64, error) { return free.Load(), nil })
	long := loopUnits(units, 15)
	third := len(long) / 3
	for _, u := range long[:third] {
		if err := m.writeUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if st := m.dvrStats(); st.Kept < 55*time.Second || st.LowDisk {
		t.Fatalf("with room: %+v", st)
	}
	free.Store(10 << 20)
	for _, u := range long[third : 2*third] {
		if err := m.writeUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	st := m.dvrStats()
	pl := mediaPlaylistOf(t, m)
	if !st.LowDisk || len(pl.Segments) != 7 {
		t.Errorf("with the disk nearly full: %+v, %d segments; want the live edge only (7)", st, len(pl.Segments))
	}
	if files, _ := os.ReadDir(m.dir); len(files) > 7 {
		t.Errorf("%d segment files kept with the disk nearly full", len(files))
	}
	free.Store(100 << 30)
	for _, u := range long[2*third:] {
		if err := m.writeUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if st := m.dvrStats(); st.LowDisk || st.Kept < 40*time.Second {
		t.Errorf("with room again: %+v; want the window growing", st)
	}
}

// The output reports the window giving way as a warning while it goes on
// broadcasting, and clears it once there is room.
func TestOutputReportsLowDisk(t *testing.T) {
	_, units := clipUnits(t)
	var free atomic.Uint64
	free.Store(100 << 30)
	type status struct {
		ok  bool
		err error
	}
	var got []status
	o := &Output{Variant: gohlslib.MuxerVariantLowLatency, SegmentCount: 7, SegmentMinDuration: time.Second,
		PartMinDuration: 200 * time.Millisecond, MaxSegmentDuration: 3 * time.Second, MaxSegmentSize: 50 << 20,
		Dir: t.TempDir(), DVRWindow: time.Minute, DVRMinFree: 1 << 30,
		FreeSpace: func(string) (uint64, error) { return free.Load(), nil },
		Logger:    quiet(), OnStatus: func(ok bool, err error) { got = append(got, status{ok, err}) }}
	defer o.Close()
	long := loopUnits(units, 6)
	third := len(long) / 3
	for i, u := range long {
		switch i {
		case third:
			free.Store(10 << 20)
		case 2 * third:
			free.Store(100 << 30)
		}
		o.write(u)
	}
	if len(got) != 3 || !got[0].ok || got[0].err != nil || !got[1].ok || !errors.Is(got[1].err, errLowDisk) || !got[2].ok || got[2].err != nil {
		t.Fatalf("statuses %+v, want broadcasting, broadcasting with the disk warning, broadcasting", got)
	}
	if c := o.Counts(); c.DVR.Window != time.Minute || c.DVR.LowDisk || c.DVR.Kept < 20*time.Second {
		t.Errorf("counts after: %+v", c.DVR)
	}
}

// longPlaylist is a muxer whose playlist holds n two-second segments (ten
// parts each; parts listed for the newest two), as a DVR window of 2n s
// holds after hours of a stream.
func longPlaylist(b *testing.B, n int) *fmp4Muxer {
	tr, _ := clipUnits(b)
	m, err := newFMP4Muxer(tr, true, 7, time.Second, 200*time.Millisecond, defaultLimits,
		dvrLimits{window: time.Duration(n) * 2 * time.Second}, "", quiet())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(m.close)
	anchor := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	for i := range n {
		s := &segment{msn: i, start: time.Duration(i) * 2 * time.Second, dur: 2 * time.Second, complete: true}
		s.pdt = anchor.Add(s.start)
		for j := range 10 {
			p := &part{index: j, dur: 200 * time.Millisecond, independent: j == 0}
			p.line = m.partLine(i, p)
			s.parts = append(s.parts, p)
		}
		s.text, s.textParts = m.segmentText(s, false), m.segmentText(s, true)
		m.segments = append(m.segments, s)
	}
	m.maxSegDur, m.nextMSN = 2*time.Second, n
	return m
}

// BenchmarkDVRPlaylist: making the media playlist of a four-hour window
// after a change, whole and as a delta update (what a player following
// the edge is sent five times a second).
func BenchmarkDVRPlaylist(b *testing.B) {
	for _, skip := range []bool{false, true} {
		name := "whole"
		if skip {
			name = "delta"
		}
		b.Run(name, func(b *testing.B) {
			m := longPlaylist(b, 7200)
			var n int
			for b.Loop() {
				m.mediaPlaylist, m.deltaPlaylist = nil, nil
				pl, err := m.mediaPlaylistLocked(skip)
				if err != nil {
					b.Fatal(err)
				}
				n = len(pl)
			}
			b.ReportMetric(float64(n), "bytes/playlist")
		})
	}
}
