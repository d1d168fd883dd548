package hls

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
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
	v := &playlist.MultivariantVariant{
		Bandwidth:  max(m.bandwidth, 1),
		Codecs:     m.codecs,
		URI:        mediaName,
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
	return playlist.Multivariant{Version: 9, IndependentSegments: true, Variants: []*playlist.MultivariantVariant{v}}.Marshal()
}

// segmentByMSN finds a segment, complete or current.
func (m *fmp4Muxer) segmentByMSN(msn int) *segment {
	if m.cur != nil && m.cur.msn == msn {
		return m.cur
	}
	for _, s := range m.segments {
		if s.msn == msn {
			return s
		}
	}
	return nil
}

// maxBlock bounds how long a blocking request waits.
func (m *fmp4Muxer) maxBlock() time.Duration {
	return 3*time.Duration(m.targetDuration())*time.Second + 2*time.Second
}

// answerPlaylist waits (lock held) until ready and makes the playlist
// with build, then calls release and writes the answer: a slow client never
// holds the muxer's lock. Playlists are not changed once made.
func (m *fmp4Muxer) answerPlaylist(ctx context.Context, w http.ResponseWriter, ready func() bool,
	build func() ([]byte, error), release func(), writeErr func(error)) {
	if err := m.wait(ctx, ready); err != nil {
		release()
		writeErr(err)
		return
	}
	b, err := build()
	release()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/vnd.apple.mpegurl")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", strconv.Itoa(len(b))) // not chunked: playlists exceed net/http's 2 KiB buffer
	w.Write(b)
}

func (m *fmp4Muxer) handle(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.URL.Path)
	ctx := r.Context()
	m.mu.Lock()
	locked := true
	release := func() {
		m.mu.Unlock()
		locked = false
	}
	defer func() {
		if locked {
			m.mu.Unlock()
		}
	}()
	writeErr := func(err error) {
		if errors.Is(err, context.DeadlineExceeded) {
			http.Error(w, "not available yet", http.StatusServiceUnavailable)
		} else if errors.Is(err, errGone) {
			http.Error(w, "stream ended", http.StatusNotFound)
		}
	}
	h := w.Header()

	switch {
	case name == multivariantName:
		m.answerPlaylist(ctx, w, func() bool { return len(m.segments) > 0 }, m.multivariantLocked, release, writeErr)

	case name == mediaName:
		q := r.URL.Query()
		ready := func() bool { return len(m.segments) > 0 }
		if q.Has("_HLS_part") && !q.Has("_HLS_msn") && m.lowLatency {
			http.Error(w, "_HLS_part needs _HLS_msn", http.StatusBadRequest)
			return
		}
		if msnS := q.Get("_HLS_msn"); msnS != "" && m.lowLatency {
			msn, err1 := strconv.Atoi(msnS)
			partIdx, err2 := -1, error(nil)
			if ps := q.Get("_HLS_part"); ps != "" {
				partIdx, err2 = strconv.Atoi(ps)
				if err2 == nil && partIdx < 0 {
					err2 = strconv.ErrRange
				}
			}
			if err1 != nil || err2 != nil || msn < 0 {
				http.Error(w, "bad _HLS_msn or _HLS_part", http.StatusBadRequest)
				return
			}
			if m.cur != nil && msn > m.cur.msn+1 {
				http.Error(w, "_HLS_msn is too far ahead", http.StatusBadRequest)
				return
			}
			ready = func() bool {
				if len(m.segments) == 0 {
					return false
				}
				if last := m.segments[len(m.segments)-1]; msn <= last.msn {
					return true
				}
				return partIdx >= 0 && m.cur != nil && m.cur.msn == msn && len(m.cur.parts) > partIdx
			}
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, m.maxBlock())
			defer cancel()
		}
		m.answerPlaylist(ctx, w, ready, m.mediaPlaylistLocked, release, writeErr)

	case name == m.initURI():
		h.Set("Content-Type", "video/mp4")
		h.Set("Cache-Control", "max-age=30")
		init := m.init
		release()
		w.Write(init)

	case strings.HasPrefix(name, m.prefix+"_seg"):
		nums, ok := fileNumbers(name, m.prefix+"_seg")
		if !ok || len(nums) != 1 {
			http.NotFound(w, r)
			return
		}
		msn := nums[0]
		s := m.segmentByMSN(msn)
		if s == nil || !s.complete {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", "video/mp4")
		h.Set("Cache-Control", "max-age=30")
		if s.path != "" {
			p := s.path
			release()
			f, err := os.Open(p)
			if err != nil {
				http.NotFound(w, r)
				return
			}
			defer f.Close()
			http.ServeContent(w, r, "", time.Time{}, f) // sendfile, ranges
			return
		}
		bufs := make([][]byte, 0, len(s.parts))
		for _, p := range s.parts {
			bufs = append(bufs, p.data)
		}
		release()
		h.Set("Content-Length", strconv.FormatInt(s.size, 10))
		for _, b := range bufs {
			w.Write(b)
		}

	case strings.HasPrefix(name, m.prefix+"_part"):
		nums, ok := fileNumbers(name, m.prefix+"_part")
		if !ok || len(nums) != 2 {
			http.NotFound(w, r)
			return
		}
		msn, idx := nums[0], nums[1]
		// The next part (the preload hint) is waited for.
		if m.cur != nil && ((msn == m.cur.msn && idx == len(m.cur.parts)) || (msn == m.cur.msn+1 && idx == 0)) {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, m.maxBlock())
			defer cancel()
			err := m.wait(ctx, func() bool {
				s := m.segmentByMSN(msn)
				return s != nil && len(s.parts) > idx
			})
			if err != nil {
				writeErr(err)
				return
			}
		}
		s := m.segmentByMSN(msn)
		if s == nil || idx < 0 || idx >= len(s.parts) {
			http.NotFound(w, r)
			return
		}
		p := s.parts[idx]
		data, pathName, off, size := p.data, s.path, p.offset, p.size
		release()
		var body io.Reader
		if data != nil {
			body = bytes.NewReader(data)
		} else {
			f, err := os.Open(pathName)
			if err != nil { // the segment left the playlist meanwhile
				http.NotFound(w, r)
				return
			}
			defer f.Close()
			body = io.NewSectionReader(f, off, int64(size))
		}
		h.Set("Content-Type", "video/mp4")
		h.Set("Cache-Control", "max-age=30")
		h.Set("Content-Length", strconv.Itoa(size))
		io.Copy(w, body)

	default:
		http.NotFound(w, r)
	}
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
