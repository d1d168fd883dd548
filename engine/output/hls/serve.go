package hls

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/onair-studio/onair/engine/shareopen"
)

const (
	multivariantName = "index.m3u8"
	mediaName        = "stream.m3u8"
)

var errGone = errors.New("stream ended")

// wait blocks until ok (called with the lock held) holds, ctx ends, or the
// muxer closes. It returns with the lock held.
func (m *fmp4Muxer) wait(ctx context.Context, ok func() bool) error {
	for {
		if m.closed {
			return errGone
		}
		if ok() {
			return nil
		}
		ch := m.changed
		m.mu.Unlock()
		select {
		case <-ch:
			m.mu.Lock()
		case <-ctx.Done():
			m.mu.Lock()
			return ctx.Err()
		}
	}
}

func (m *fmp4Muxer) targetDuration() int {
	return max(1, int(math.Ceil(m.maxSegDur.Seconds())))
}

func (m *fmp4Muxer) multivariantLocked() ([]byte, error) {
	return playlist.Multivariant{Version: 9, IndependentSegments: true, Variants: []*playlist.MultivariantVariant{m.variantLocked()}}.Marshal()
}

// variantLocked is the muxer's line in a multivariant playlist.
func (m *fmp4Muxer) variantLocked() *playlist.MultivariantVariant {
	v := &playlist.MultivariantVariant{
		Bandwidth:  max(m.bandwidth, 1),
		Codecs:     m.codecs,
		URI:        m.playlist,
		Resolution: m.resolution,
	}
	if m.avgBandwidth > 0 {
		avg := m.avgBandwidth
		v.AverageBandwidth = &avg
	}
	if m.frameRate > 0 {
		fr := m.frameRate
		v.FrameRate = &fr
	}
	return v
}

// segmentByMSN finds a segment, complete or current.
func (m *fmp4Muxer) segmentByMSN(msn int) *segment {
	if m.cur != nil && m.cur.msn == msn {
		return m.cur
	}
	// Complete segments have consecutive numbers: a DVR window holds
	// thousands, so the index is computed, not searched.
	if len(m.segments) == 0 {
		return nil
	}
	if i := msn - m.segments[0].msn; i >= 0 && i < len(m.segments) {
		return m.segments[i]
	}
	return nil
}

// maxBlock bounds how long a blocking request waits.
func (m *fmp4Muxer) maxBlock() time.Duration {
	return 3*time.Duration(m.targetDuration())*time.Second + 2*time.Second
}

func (m *fmp4Muxer) handle(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.URL.Path)
	switch {
	case name == multivariantName:
		m.serveMultivariant(w, r)
	case name == m.playlist:
		m.serveMedia(w, r)
	case name == m.initURI(): // the prefix never changes: read without the lock
		m.serveInit(w)
	case strings.HasPrefix(name, m.prefix+"_seg"):
		m.serveSegment(w, r, name)
	case strings.HasPrefix(name, m.prefix+"_part"):
		m.servePart(w, r, name)
	default:
		w.Header().Set("Cache-Control", cacheNever)
		http.NotFound(w, r)
	}
}

// serveMultivariant: the multivariant playlist, once there is a segment;
// it changes rarely (the measured bandwidth), so an edge keeps it for half a
// target duration.
func (m *fmp4Muxer) serveMultivariant(w http.ResponseWriter, r *http.Request) {
	a, err := locked(r.Context(), m, func() bool { return len(m.segments) > 0 }, func() (playlistAnswer, error) {
		b, err := m.multivariantLocked()
		return playlistAnswer{b, "public, max-age=" + strconv.Itoa(max(1, m.targetDuration()/2))}, err
	})
	if err != nil {
		fail(w, err)
		return
	}
	writePlaylist(w, a)
}

// blockingQuery reads _HLS_msn and _HLS_part: msn is -1 without them.
func blockingQuery(q url.Values) (msn, part int, err error) {
	if q.Has("_HLS_part") && !q.Has("_HLS_msn") {
		return 0, 0, fmt.Errorf("%w: _HLS_part needs _HLS_msn", errBadRequest)
	}
	msnS := q.Get("_HLS_msn")
	if msnS == "" {
		return -1, -1, nil
	}
	msn, err1 := strconv.Atoi(msnS)
	part, err2 := -1, error(nil)
	if ps := q.Get("_HLS_part"); ps != "" {
		part, err2 = strconv.Atoi(ps)
		if err2 == nil && part < 0 {
			err2 = strconv.ErrRange
		}
	}
	if err1 != nil || err2 != nil || msn < 0 {
		return 0, 0, fmt.Errorf("%w: bad _HLS_msn or _HLS_part", errBadRequest)
	}
	return msn, part, nil
}

// serveMedia: the media playlist, at once or, for a blocking request
// (_HLS_msn, _HLS_part), once it holds what was asked for. A blocking
// answer is the same for everyone who asks the same (the query is the
// cache key), so an edge may keep it for a few target durations; the plain
// playlist lives about one part.
func (m *fmp4Muxer) serveMedia(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	msn, partIdx := -1, -1
	if m.lowLatency {
		var err error
		if msn, partIdx, err = blockingQuery(q); err != nil {
			fail(w, err)
			return
		}
	}
	// A delta update (hls.js asks for one when the playlist offers it);
	// "v2" also skips date ranges, of which there are none.
	skip := false
	switch q.Get("_HLS_skip") {
	case "":
	case "YES", "v2":
		skip = true
	default:
		fail(w, fmt.Errorf("%w: _HLS_skip must be YES or v2", errBadRequest))
		return
	}
	if msn >= 0 {
		block, err := locked(ctx, m, nil, func() (time.Duration, error) {
			if m.cur != nil && msn > m.cur.msn+1 {
				return 0, fmt.Errorf("%w: _HLS_msn is too far ahead", errBadRequest)
			}
			return m.maxBlock(), nil
		})
		if err != nil {
			fail(w, err)
			return
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, block)
		defer cancel()
	}
	a, err := locked(ctx, m, func() bool {
		if len(m.segments) == 0 {
			return false
		}
		if msn < 0 || msn <= m.segments[len(m.segments)-1].msn {
			return true
		}
		return partIdx >= 0 && m.cur != nil && m.cur.msn == msn && len(m.cur.parts) > partIdx
	}, func() (playlistAnswer, error) {
		b, err := m.mediaPlaylistLocked(skip)
		cache := "public, max-age=1"
		if msn >= 0 {
			cache = "public, max-age=" + strconv.Itoa(3*m.targetDuration())
		}
		return playlistAnswer{b, cache}, err
	})
	if err != nil {
		fail(w, err)
		return
	}
	writePlaylist(w, a)
}

// maxBlockUnlocked is maxBlock, taking the lock.
func (m *fmp4Muxer) maxBlockUnlocked() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.maxBlock()
}

func (m *fmp4Muxer) serveInit(w http.ResponseWriter) {
	init, _ := locked(context.Background(), m, nil, func() ([]byte, error) { return m.init, nil })
	h := w.Header()
	h.Set("Content-Type", "video/mp4")
	h.Set("Cache-Control", cacheImmutable)
	h.Set("Content-Length", strconv.Itoa(len(init)))
	w.Write(init)
}

// segmentAnswer is a complete segment: on disk (path) or in memory (bufs).
type segmentAnswer struct {
	path string
	bufs [][]byte
	size int64
}

func (m *fmp4Muxer) serveSegment(w http.ResponseWriter, r *http.Request, name string) {
	nums, ok := fileNumbers(name, m.prefix+"_seg")
	if !ok || len(nums) != 1 {
		fail(w, errNotFound)
		return
	}
	a, err := locked(context.Background(), m, nil, func() (segmentAnswer, error) {
		s := m.segmentByMSN(nums[0])
		if s == nil || !s.complete {
			return segmentAnswer{}, errNotFound
		}
		if s.path != "" {
			return segmentAnswer{path: s.path}, nil
		}
		bufs := make([][]byte, 0, len(s.parts))
		for _, p := range s.parts {
			bufs = append(bufs, p.data)
		}
		return segmentAnswer{bufs: bufs, size: s.size}, nil
	})
	if err != nil {
		fail(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "video/mp4")
	h.Set("Cache-Control", cacheImmutable)
	if a.path != "" {
		f, err := shareopen.Open(a.path)
		if err != nil { // it left the playlist meanwhile
			fail(w, errNotFound)
			return
		}
		defer f.Close()
		http.ServeContent(w, r, "", time.Time{}, f) // sendfile, ranges
		return
	}
	h.Set("Content-Length", strconv.FormatInt(a.size, 10))
	for _, b := range a.bufs {
		w.Write(b)
	}
}

// partAnswer is a part: in memory (data) or a range of a segment's file.
type partAnswer struct {
	data []byte
	path string
	off  int64
	size int
}

// servePart answers a part; the next one (the preload hint) is waited for.
func (m *fmp4Muxer) servePart(w http.ResponseWriter, r *http.Request, name string) {
	nums, ok := fileNumbers(name, m.prefix+"_part")
	if !ok || len(nums) != 2 {
		fail(w, errNotFound)
		return
	}
	msn, idx := nums[0], nums[1]
	ctx, cancel := context.WithTimeout(r.Context(), m.maxBlockUnlocked())
	defer cancel()
	a, err := locked(ctx, m, func() bool {
		if m.cur != nil && ((msn == m.cur.msn && idx == len(m.cur.parts)) || (msn == m.cur.msn+1 && idx == 0)) {
			s := m.segmentByMSN(msn) // the hinted part: wait for it
			return s != nil && len(s.parts) > idx
		}
		return true
	}, func() (partAnswer, error) {
		s := m.segmentByMSN(msn)
		if s == nil || idx < 0 || idx >= len(s.parts) {
			return partAnswer{}, errNotFound
		}
		p := s.parts[idx]
		return partAnswer{data: p.data, path: s.path, off: p.offset, size: p.size}, nil
	})
	if err != nil {
		fail(w, err)
		return
	}
	var body io.Reader
	if a.data != nil {
		body = bytes.NewReader(a.data)
	} else {
		f, err := shareopen.Open(a.path)
		if err != nil { // the segment left the playlist meanwhile
			fail(w, errNotFound)
			return
		}
		defer f.Close()
		body = io.NewSectionReader(f, a.off, int64(a.size))
	}
	h := w.Header()
	h.Set("Content-Type", "video/mp4")
	h.Set("Cache-Control", cacheImmutable)
	h.Set("Content-Length", strconv.Itoa(a.size))
	io.Copy(w, body)
}

// fileNumbers returns the numbers of a file name made of prefix, then one or
// two decimal numbers joined by "_", then ".mp4".
func fileNumbers(name, prefix string) ([]int, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return nil, false
	}
	if rest, ok = strings.CutSuffix(rest, ".mp4"); !ok {
		return nil, false
	}
	var nums []int
	for f := range strings.SplitSeq(rest, "_") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || len(nums) == 2 {
			return nil, false
		}
		nums = append(nums, n)
	}
	return nums, true
}
