package hls

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/media/mp4frag"
	"github.com/onair-studio/onair/engine/writev"
)

// fmp4Muxer cuts units into fMP4 parts and segments and keeps the playlist.
// Finished segments live in files in dir (when set), so memory holds only
// the parts near the live edge; every buffer has exactly the size of what
// it holds.
type fmp4Muxer struct {
	lowLatency   bool
	segmentCount int
	dvr          dvrLimits
	segmentMin   time.Duration
	partMin      time.Duration
	segMax       time.Duration // a segment without a key frame is ended here
	segMaxBytes  int64
	dir          string
	log          *slog.Logger

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	closed  bool

	prefix   string
	playlist string // the media playlist's name
	init     []byte
	video    *mp4frag.Track
	audio    *mp4frag.Track
	leading  *mp4frag.Track
	anchor   time.Time

	segments     []*segment // complete, oldest first
	cur          *segment
	nextMSN      int
	discSeq      int
	discPending  bool
	partSeq      uint32
	partStart    time.Duration
	runBytes     int64         // in the samples not yet in a part
	waitSince    time.Duration // media time since when a key frame is awaited; -1: none
	waitTold     bool          // the wait was reported
	maxSegDur    time.Duration
	bandwidth    int
	avgBandwidth int

	codecs     []string
	resolution string
	frameRate  float64

	mediaPlaylist []byte // cached; nil when stale
	playlistSize  int    // the longest one made so far
	deltaPlaylist []byte // the delta update (_HLS_skip), cached the same way
	deltaSize     int

	spillDue  *segment // to move to a file once the lock is released
	removeDue []string // files of segments that left the playlist

	kept     keptCounts // what the playlist's complete segments hold
	diskSeen int        // segments since the free space was last read
}

type segment struct {
	msn           int
	start         time.Duration
	dur           time.Duration
	pdt           time.Time
	discontinuity bool
	parts         []*part
	text          []byte // playlist lines once complete, without parts
	textParts     []byte // the same with its parts
	path          string // set once the segment is in a file
	size          int64
	complete      bool
}

type part struct {
	index       int
	data        []byte // nil once only the file holds it
	offset      int64
	dur         time.Duration
	independent bool
	size        int
	line        []byte // EXT-X-PART line (low latency)
}

// errNoKeyFrame: the encoder sent no key frame for longer than a segment
// may last, or than the muxer waits for its first one.
var errNoKeyFrame = errors.New("the encoder sends no key frames")

// muxerLimits bound one segment.
type muxerLimits struct {
	maxDuration time.Duration
	maxBytes    int64
}

func newFMP4Muxer(t media.Tracks, lowLatency bool, segmentCount int, segmentMin, partMin time.Duration, lim muxerLimits, dvr dvrLimits, dir string, log *slog.Logger) (*fmp4Muxer, error) {
	m := &fmp4Muxer{
		lowLatency: lowLatency, segmentCount: segmentCount, dvr: dvr, segmentMin: segmentMin, partMin: partMin,
		segMax: lim.maxDuration, segMaxBytes: lim.maxBytes, waitSince: -1,
		dir: dir, log: log, changed: make(chan struct{}), prefix: livestream.RandomHex(4), playlist: mediaName,
	}
	in, err := mp4frag.NewInit(t)
	if err != nil {
		return nil, err
	}
	m.init, m.video, m.audio, m.codecs = in.Bytes, in.Video, in.Audio, in.Codecs
	if in.Width > 0 {
		m.resolution = fmt.Sprintf("%dx%d", in.Width, in.Height)
		m.frameRate = in.FrameRate
	}
	m.leading = m.video
	if m.leading == nil {
		m.leading = m.audio
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating the HLS folder: %w", err)
		}
	}
	return m, nil
}

// partTarget is the declared part target: parts are cut on sample
// boundaries around partMin, so they stay within 85–100 % of it.
func (m *fmp4Muxer) partTarget() time.Duration { return m.partMin * 11 / 10 }

// markDiscontinuity starts a new segment, marked as a discontinuity, at the
// next key frame (a publisher came back).
func (m *fmp4Muxer) markDiscontinuity() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur != nil {
		m.discPending = true
	}
}

func (m *fmp4Muxer) writeUnit(u *media.Unit) error {
	m.mu.Lock()
	err := m.writeUnitLocked(u)
	spill, remove := m.spillDue, m.removeDue
	m.spillDue, m.removeDue = nil, nil
	m.mu.Unlock()
	// File work happens without the lock, so requests never wait on the disk.
	for _, p := range remove {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			m.log.Warn("removing an HLS segment that left the playlist", "error", err)
		}
	}
	if spill != nil {
		m.spill(spill)
	}
	return err
}

func (m *fmp4Muxer) writeUnitLocked(u *media.Unit) error {
	if m.closed {
		return nil
	}
	if m.anchor.IsZero() {
		recv := u.Received
		if recv.IsZero() {
			recv = time.Now()
		}
		m.anchor = recv.Add(-u.DTS)
	}
	var t *mp4frag.Track
	switch u.Kind {
	case media.KindVideo:
		t = m.video
	case media.KindAudio:
		t = m.audio
	}
	if t == nil {
		return nil
	}
	dts, s := t.Sample(u)

	if t == m.leading {
		at := mp4frag.FromTicks(dts, t.Timescale)
		if m.cur == nil {
			if !s.Key {
				return m.awaitKey(at) // wait for a key frame
			}
			m.waitSince, m.waitTold = -1, false
			if err := m.startSegment(at); err != nil {
				return err
			}
		}
		if t.Held() {
			m.runBytes += int64(t.Complete(dts))
			frame := t.LastDuration()
			if !s.Key && (at-m.cur.start >= m.segMax || m.cur.size+m.runBytes >= m.segMaxBytes) {
				// Too long without a key frame: end the segment here, so
				// memory stays bounded, and drop video until the next key
				// frame (a segment must start with one).
				m.flushPart(at)
				m.closeSegment(at)
				t.Drop()
				m.waitSince, m.waitTold = at, true
				return fmt.Errorf("%w: a segment reached the limit of %v or %.3g MB and was ended; HLS resumes at the next key frame (set the encoder's key frame interval to 2 s)",
					errNoKeyFrame, m.segMax, float64(m.segMaxBytes)/(1<<20))
			}
			switch {
			case s.Key && (at-m.cur.start >= m.segmentMin || m.discPending):
				m.flushPart(at)
				m.closeSegment(at)
				if err := m.startSegment(at); err != nil {
					return err
				}
			case m.lowLatency && at-m.partStart >= m.partMin-frame/2:
				m.flushPart(at)
			}
		}
		t.Hold(dts, s)
		return nil
	}
	// A follower track: its samples go into the part being built.
	if m.cur == nil {
		return nil
	}
	m.runBytes += int64(t.Complete(dts))
	t.Hold(dts, s)
	return nil
}

// awaitKey drops a leading-track sample while no segment is open, and
// reports once when the wait for a key frame has lasted longer than a
// segment may.
func (m *fmp4Muxer) awaitKey(at time.Duration) error {
	if m.waitSince < 0 {
		m.waitSince = at
	}
	if m.waitTold || at-m.waitSince < m.segMax {
		return nil
	}
	m.waitTold = true
	return fmt.Errorf("%w: none in the first %v; HLS starts at the first key frame (set the encoder's key frame interval to 2 s)", errNoKeyFrame, m.segMax)
}

func (m *fmp4Muxer) startSegment(at time.Duration) error {
	seg := &segment{msn: m.nextMSN, start: at, pdt: m.anchor.Add(at), discontinuity: m.discPending}
	m.nextMSN++
	m.discPending = false
	m.cur = seg
	m.partStart = at
	return nil
}

// flushPart turns the samples gathered since the last part into a part.
func (m *fmp4Muxer) flushPart(end time.Duration) {
	var tracks []*mp4frag.Run
	independent := false
	for _, t := range []*mp4frag.Track{m.video, m.audio} {
		r := t.Run()
		if r == nil {
			continue
		}
		if t == m.leading && r.Samples[0].Key {
			independent = true
		}
		tracks = append(tracks, r)
	}
	if len(tracks) == 0 {
		return
	}
	m.partSeq++
	data := mp4frag.Marshal(m.partSeq, tracks)
	m.runBytes = 0
	for _, t := range []*mp4frag.Track{m.video, m.audio} {
		t.Reset()
	}
	p := &part{index: len(m.cur.parts), data: data, offset: m.cur.size, size: len(data), dur: end - m.partStart, independent: independent}
	m.cur.parts = append(m.cur.parts, p)
	if m.lowLatency {
		p.line = m.partLine(m.cur.msn, p)
	}
	m.cur.size += int64(len(data))
	m.partStart = end
	m.notifyLocked()
}

func (m *fmp4Muxer) closeSegment(end time.Duration) {
	seg := m.cur
	seg.dur = end - seg.start
	seg.complete = true
	seg.text = m.segmentText(seg, false)
	if m.lowLatency {
		seg.textParts = m.segmentText(seg, true)
	}
	m.segments = append(m.segments, seg)
	if seg.dur > m.maxSegDur {
		m.maxSegDur = seg.dur
	}
	if seg.dur > 0 {
		bw := int(float64(seg.size*8) / seg.dur.Seconds())
		m.bandwidth = max(m.bandwidth, bw)
		if m.avgBandwidth == 0 {
			m.avgBandwidth = bw
		} else {
			m.avgBandwidth = (m.avgBandwidth*7 + bw) / 8
		}
	}
	m.kept.bytes.Add(seg.size)
	m.kept.dur.Add(int64(seg.dur))
	m.checkDiskLocked()
	m.evictLocked()
	// Parts stay in memory near the live edge only (where low-latency
	// players ask for them); older segments move to a file in one write.
	if n := len(m.segments) - 3; n >= 0 && m.dir != "" {
		if s := m.segments[n]; s.path == "" {
			m.spillDue = s
		}
	}
	m.forgetPartsLocked()
	m.cur = nil
	m.notifyLocked()
}

// spill writes a complete segment to its file, without the lock (a complete
// segment's parts no longer change), then frees its memory. On failure the
// segment stays in memory.
func (m *fmp4Muxer) spill(s *segment) {
	p := filepath.Join(m.dir, fmt.Sprintf("%s_seg%d.mp4", m.prefix, s.msn))
	bufs := make([][]byte, 0, len(s.parts))
	for _, pt := range s.parts {
		bufs = append(bufs, pt.data)
	}
	err := writeFile(p, bufs)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil || m.closed || !slices.Contains(m.segments, s) {
		if err != nil {
			m.log.Warn("writing an HLS segment file; keeping it in memory", "error", err)
		}
		os.Remove(p)
		return
	}
	s.path = p
	for _, pt := range s.parts {
		pt.data = nil
	}
}

func (m *fmp4Muxer) notifyLocked() {
	m.mediaPlaylist, m.deltaPlaylist = nil, nil
	close(m.changed)
	m.changed = make(chan struct{})
}

// close ends the muxer: waiting requests return, files are removed.
func (m *fmp4Muxer) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.closed = true
	for _, s := range append(m.segments, m.cur) {
		if s == nil {
			continue
		}
		if s.path != "" {
			os.Remove(s.path)
		}
	}
	if m.dir != "" {
		os.Remove(m.dir) // only if empty
	}
	m.notifyLocked()
}

// writeFile writes bufs to a new file with as few system calls as possible.
func writeFile(path string, bufs [][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := writev.Write(f, bufs); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
