package hls

import (
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// The DVR window: which segments may leave the playlist, and the disk's
// free space that cuts the window short.

// dvrLimits are a DVR window's bounds: the media it keeps, and the free
// space it leaves on the disk (the window is cut short below it).
type dvrLimits struct {
	window  time.Duration // 0: only the live edge (segmentCount segments)
	minFree uint64
	free    func(dir string) (uint64, error)
}

// keptCounts is read by Counts without the muxer's lock.
type keptCounts struct {
	bytes atomic.Int64
	dur   atomic.Int64 // time.Duration
	short atomic.Bool  // the window is cut short by the disk's free space
}

func (m *fmp4Muxer) dvrStats() livestream.DVRStats {
	return livestream.DVRStats{Kept: time.Duration(m.kept.dur.Load()), Bytes: m.kept.bytes.Load(), LowDisk: m.kept.short.Load()}
}

// evictableLocked reports whether the oldest segment may leave: always
// without a DVR window (the playlist keeps segmentCount), with one when the
// rest still cover the window or the disk is short of space.
func (m *fmp4Muxer) evictableLocked() bool {
	if m.dvr.window == 0 || m.kept.short.Load() {
		return true
	}
	return time.Duration(m.kept.dur.Load())-m.segments[0].dur >= m.dvr.window
}

// diskEvery is how many segments pass between readings of the free space.
const diskEvery = 5

// checkDiskLocked reads the DVR folder's free space now and then: below
// the floor the window keeps only the live edge until there is room again.
func (m *fmp4Muxer) checkDiskLocked() {
	if m.dvr.window == 0 || m.dir == "" || m.dvr.free == nil {
		return
	}
	if m.diskSeen++; m.diskSeen < diskEvery && !m.kept.short.Load() {
		return
	}
	m.diskSeen = 0
	free, err := m.dvr.free(m.dir)
	if err != nil {
		return
	}
	low := free < m.dvr.minFree
	if low != m.kept.short.Load() {
		if low {
			m.log.Warn("the DVR window keeps only the live edge: the disk holding it is nearly full; free some space",
				"free_mb", free>>20, "floor_mb", m.dvr.minFree>>20, "folder", m.dir)
		} else {
			m.log.Info("the DVR window grows again: the disk has room")
		}
	}
	m.kept.short.Store(low)
}

// evictLocked lets the oldest segments leave the playlist while there are
// more than segmentCount and evictableLocked allows it; their files are
// removed once the lock is released.
func (m *fmp4Muxer) evictLocked() {
	for len(m.segments) > m.segmentCount && m.evictableLocked() {
		old := m.segments[0]
		m.segments[0] = nil
		m.segments = m.segments[1:]
		m.kept.bytes.Add(-old.size)
		m.kept.dur.Add(-int64(old.dur))
		if old.discontinuity {
			m.discSeq++
		}
		if old.path != "" {
			m.removeDue = append(m.removeDue, old.path)
		}
	}
}

// forgetPartsLocked: further back than a live-edge playlist reaches, a
// segment is served whole.
func (m *fmp4Muxer) forgetPartsLocked() {
	// Its parts (listed for the newest two only, but asked for from
	// playlists an edge cached a while ago) are forgotten once the file
	// holds them, so a long DVR window costs a few hundred bytes per segment.
	if n := len(m.segments) - 1 - m.segmentCount; n >= 0 {
		if s := m.segments[n]; s.path != "" && s.parts != nil {
			s.parts, s.textParts = nil, nil
		}
	}
}
