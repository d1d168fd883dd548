package hls

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// referencePlaylist is the media playlist of m written by gohlslib's
// playlist writer, from the same state.
func referencePlaylist(t *testing.T, m *fmp4Muxer) string {
	t.Helper()
	pl := playlist.Media{
		Version:             9,
		IndependentSegments: true,
		TargetDuration:      m.targetDuration(),
		MediaSequence:       m.segments[0].msn,
		Map:                 &playlist.MediaMap{URI: m.initURI()},
	}
	if m.discSeq > 0 {
		pl.DiscontinuitySequence = &m.discSeq
	}
	if m.lowLatency {
		hold := 3 * m.partTarget()
		pl.ServerControl = &playlist.MediaServerControl{CanBlockReload: true, PartHoldBack: &hold}
		pl.PartInf = &playlist.MediaPartInf{PartTarget: m.partTarget()}
	}
	parts := func(s *segment) []*playlist.MediaPart {
		var out []*playlist.MediaPart
		for _, p := range s.parts {
			out = append(out, &playlist.MediaPart{Duration: p.dur, URI: m.partURI(s.msn, p.index), Independent: p.independent})
		}
		return out
	}
	for i, s := range m.segments {
		pdt := s.pdt
		ps := &playlist.MediaSegment{Duration: s.dur, URI: m.segURI(s.msn), DateTime: &pdt, Discontinuity: s.discontinuity}
		if m.lowLatency && i >= len(m.segments)-2 {
			ps.Parts = parts(s)
		}
		pl.Segments = append(pl.Segments, ps)
	}
	if m.lowLatency && m.cur != nil {
		pl.Parts = parts(m.cur)
		pl.PreloadHint = &playlist.MediaPreloadHint{URI: m.partURI(m.cur.msn, len(m.cur.parts))}
	}
	b, err := pl.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The studio's playlist writer gives exactly gohlslib's text, after every
// change: parts, segments, the window sliding, discontinuities; with and
// without low latency.
func TestMediaPlaylistMatchesGohlslib(t *testing.T) {
	tr, units := clipUnits(t)
	clipLen := units[len(units)-1].DTS + 40*time.Millisecond
	for _, lowLatency := range []bool{true, false} {
		m, err := newFMP4Muxer(tr, lowLatency, 7, time.Second, 200*time.Millisecond, defaultLimits, dvrLimits{}, t.TempDir(), quiet())
		if err != nil {
			t.Fatal(err)
		}
		compared := 0
		for loop := range 3 {
			if loop > 0 {
				m.markDiscontinuity() // as when a publisher comes back
			}
			for _, u := range units {
				u := *u
				u.DTS += time.Duration(loop) * clipLen
				u.PTS += time.Duration(loop) * clipLen
				m.mu.Lock()
				before := m.changed
				m.writeUnitLocked(&u)
				if m.changed != before && len(m.segments) > 0 {
					got, _ := m.mediaPlaylistLocked(false)
					if want := referencePlaylist(t, m); string(got) != want {
						m.mu.Unlock()
						t.Fatalf("low latency %v, after %d changes: playlist differs from gohlslib's\n--- got\n%s\n--- want\n%s", lowLatency, compared, got, want)
					}
					compared++
				}
				m.mu.Unlock()
			}
		}
		if m.discSeq == 0 || compared < 10 {
			t.Fatalf("low latency %v: %d playlists compared, discontinuity sequence %d: the clip did not cover the cases", lowLatency, compared, m.discSeq)
		}
		m.close()
	}
}

// Playlists are sent with their length, not chunked (a low-latency
// playlist is larger than net/http's buffer).
func TestPlaylistsHaveContentLength(t *testing.T) {
	tr, units := clipUnits(t)
	m := testMuxer(t, tr, t.TempDir())
	for _, u := range units {
		m.writeUnit(u)
	}
	srv := serveMuxer(t, m)
	for _, name := range []string{multivariantName, mediaName} {
		resp, err := http.Get(srv.URL + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d, %v", name, resp.StatusCode, err)
		}
		if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
			t.Errorf("%s: Content-Length %d, transfer encoding %v, body %d bytes", name, resp.ContentLength, resp.TransferEncoding, len(body))
		}
		if name == mediaName && len(body) <= 2048 {
			t.Errorf("the media playlist is %d bytes: the test does not cover a playlist beyond net/http's buffer", len(body))
		}
	}
}

// blockingWriter is a response writer whose Write waits until released, as
// a client that does not read.
type blockingWriter struct {
	h       http.Header
	writing chan struct{}
	release chan struct{}
}

func (w *blockingWriter) Header() http.Header { return w.h }
func (w *blockingWriter) WriteHeader(int)     {}
func (w *blockingWriter) Write(b []byte) (int, error) {
	close(w.writing)
	<-w.release
	return len(b), nil
}

// Writing a playlist to a client that does not read never holds the
// muxer's lock: the stream goes on being muxed.
func TestPlaylistWriteDoesNotHoldTheLock(t *testing.T) {
	tr, units := clipUnits(t)
	m := testMuxer(t, tr, t.TempDir())
	for _, u := range units {
		m.writeUnit(u)
	}
	for _, name := range []string{multivariantName, mediaName, m.initURI()} {
		w := &blockingWriter{h: http.Header{}, writing: make(chan struct{}), release: make(chan struct{})}
		done := make(chan struct{})
		go func() {
			defer close(done)
			m.handle(w, httptest.NewRequest(http.MethodGet, "/"+name, nil))
		}()
		<-w.writing
		free := m.mu.TryLock()
		if free {
			m.mu.Unlock()
		}
		close(w.release)
		<-done
		if !free {
			t.Errorf("%s: the muxer's lock is held while the answer is written", name)
		}
	}
}
