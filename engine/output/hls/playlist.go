package hls

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// The media playlist is written a piece at a time: each part's line and
// each complete segment's lines are made once, when they come into being,
// so the playlist made after every new part is a header and one copy of
// the cached pieces. gohlslib's playlist writer made the whole text for
// every part (about 120 allocations and 15 µs for a full window); the tests
// check that both give the same text.

// pdtLayout is RFC 3339 with milliseconds, as HLS players expect.
const pdtLayout = "2006-01-02T15:04:05.999Z07:00"

func appendSeconds(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, d.Seconds(), 'f', 5, 64)
}

func (m *fmp4Muxer) appendPartURI(b []byte, msn, idx int) []byte {
	b = append(b, m.prefix...)
	b = append(b, "_part"...)
	b = strconv.AppendInt(b, int64(msn), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(idx), 10)
	return append(b, ".mp4"...)
}

func (m *fmp4Muxer) appendSegURI(b []byte, msn int) []byte {
	b = append(b, m.prefix...)
	b = append(b, "_seg"...)
	b = strconv.AppendInt(b, int64(msn), 10)
	return append(b, ".mp4"...)
}

func (m *fmp4Muxer) partURI(msn, idx int) string { return string(m.appendPartURI(nil, msn, idx)) }

func (m *fmp4Muxer) segURI(msn int) string { return string(m.appendSegURI(nil, msn)) }

func (m *fmp4Muxer) initURI() string { return m.prefix + "_init.mp4" }

// partLine is a part's EXT-X-PART line.
func (m *fmp4Muxer) partLine(msn int, p *part) []byte {
	b := make([]byte, 0, 96)
	b = append(b, "#EXT-X-PART:DURATION="...)
	b = appendSeconds(b, p.dur)
	b = append(b, `,URI="`...)
	b = m.appendPartURI(b, msn, p.index)
	b = append(b, '"')
	if p.independent {
		b = append(b, ",INDEPENDENT=YES"...)
	}
	return append(b, '\n')
}

// segmentText is a complete segment's lines, with its parts or without.
func (m *fmp4Muxer) segmentText(s *segment, withParts bool) []byte {
	n := 128
	if withParts {
		for _, p := range s.parts {
			n += len(p.line)
		}
	}
	b := make([]byte, 0, n)
	if s.discontinuity {
		b = append(b, "#EXT-X-DISCONTINUITY\n"...)
	}
	b = append(b, "#EXT-X-PROGRAM-DATE-TIME:"...)
	b = s.pdt.AppendFormat(b, pdtLayout)
	b = append(b, '\n')
	if withParts {
		for _, p := range s.parts {
			b = append(b, p.line...)
		}
	}
	b = append(b, "#EXTINF:"...)
	b = appendSeconds(b, s.dur)
	b = append(b, ",\n"...)
	b = m.appendSegURI(b, s.msn)
	return append(b, '\n')
}

// canSkip reports whether the playlist offers delta updates: with a DVR
// window, so that players following a long playlist are sent its end only.
func (m *fmp4Muxer) canSkip() bool { return m.dvr.window > 0 }

// skipUntil is the CAN-SKIP-UNTIL of a playlist offering delta updates:
// six target durations, the least the HLS specification allows.
func (m *fmp4Muxer) skipUntil() time.Duration {
	return 6 * time.Duration(m.targetDuration()) * time.Second
}

// skippedLocked is how many of the oldest segments a delta update leaves
// out: those starting before the skip boundary (skipUntil before the end
// of the playlist's complete segments).
func (m *fmp4Muxer) skippedLocked() int {
	if len(m.segments) == 0 {
		return 0
	}
	last := m.segments[len(m.segments)-1]
	boundary := last.start + last.dur - m.skipUntil()
	// Segments are in time order: find the first one at or after it.
	n, _ := slices.BinarySearchFunc(m.segments, boundary, func(s *segment, t time.Duration) int {
		return cmp.Compare(s.start, t)
	})
	return n
}

// mediaPlaylistLocked returns the media playlist, made once per change;
// skip asks for the delta update (EXT-X-SKIP in place of the oldest
// segments). Parts are listed for the two newest complete segments and the
// current one.
func (m *fmp4Muxer) mediaPlaylistLocked(skip bool) ([]byte, error) {
	skip = skip && m.canSkip()
	if skip && m.deltaPlaylist != nil {
		return m.deltaPlaylist, nil
	}
	if !skip && m.mediaPlaylist != nil {
		return m.mediaPlaylist, nil
	}
	size := m.playlistSize
	if skip {
		size = m.deltaSize
	}
	b := make([]byte, 0, size+256)
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-TARGETDURATION:"...)
	b = strconv.AppendInt(b, int64(m.targetDuration()), 10)
	b = append(b, '\n')
	if m.lowLatency {
		b = append(b, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK="...)
		b = appendSeconds(b, 3*m.partTarget())
		if m.canSkip() {
			b = append(b, ",CAN-SKIP-UNTIL="...)
			b = appendSeconds(b, m.skipUntil())
		}
		b = append(b, "\n#EXT-X-PART-INF:PART-TARGET="...)
		b = appendSeconds(b, m.partTarget())
		b = append(b, '\n')
	} else if m.canSkip() {
		b = append(b, "#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL="...)
		b = appendSeconds(b, m.skipUntil())
		b = append(b, '\n')
	}
	b = append(b, "#EXT-X-MEDIA-SEQUENCE:"...)
	b = strconv.AppendInt(b, int64(m.segments[0].msn), 10)
	b = append(b, '\n')
	if m.discSeq > 0 {
		b = append(b, "#EXT-X-DISCONTINUITY-SEQUENCE:"...)
		b = strconv.AppendInt(b, int64(m.discSeq), 10)
		b = append(b, '\n')
	}
	b = append(b, `#EXT-X-MAP:URI="`...)
	b = append(b, m.initURI()...)
	b = append(b, "\"\n"...)
	first := 0
	if skip {
		if first = m.skippedLocked(); first > 0 {
			b = append(b, "#EXT-X-SKIP:SKIPPED-SEGMENTS="...)
			b = strconv.AppendInt(b, int64(first), 10)
			b = append(b, '\n')
		}
	}
	for i, s := range m.segments[first:] {
		i += first
		if m.lowLatency && i >= len(m.segments)-2 {
			b = append(b, s.textParts...)
		} else {
			b = append(b, s.text...)
		}
	}
	if m.lowLatency && m.cur != nil {
		for _, p := range m.cur.parts {
			b = append(b, p.line...)
		}
		b = append(b, `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="`...)
		b = m.appendPartURI(b, m.cur.msn, len(m.cur.parts))
		b = append(b, "\"\n"...)
	}
	if skip {
		m.deltaSize = max(m.deltaSize, len(b))
		m.deltaPlaylist = b
	} else {
		m.playlistSize = max(m.playlistSize, len(b))
		m.mediaPlaylist = b
	}
	return b, nil
}
