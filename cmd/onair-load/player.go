package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// samples collects durations.
type samples struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *samples) add(d time.Duration) {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
}

func (s *samples) values() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// player follows one stream's low-latency playlist like a player does.
type player struct {
	client   *http.Client
	base     string // URL prefix of the playlists
	firstPL  time.Duration
	parts    *samples
	segs     *samples
	measure  func() bool
	errors   *counter
	lastSeen int
	// pubStart, when known, is when the publisher sent media time zero;
	// pdt0 is the program date-time of media time zero (the first
	// segment's). Delays are then measured from the publisher's clock.
	pubStart func() time.Time
	pdt0     time.Time
	// fps, when set, makes the player count the video frames it receives
	// and those missing, into frames and dropped.
	fps             float64
	frames, dropped *atomic.Int64
	counter         *frameCounter
}

// delay is how long after its media time end a part or segment appeared.
// With the publisher's clock it covers the whole path (network, ingest
// batching, muxing); otherwise it starts at the server's ingest anchor.
func (p *player) delay(now, end time.Time) time.Duration {
	if p.pubStart != nil && !p.pdt0.IsZero() {
		if ps := p.pubStart(); !ps.IsZero() {
			return now.Sub(ps.Add(end.Sub(p.pdt0)))
		}
	}
	return now.Sub(end)
}

func get(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return b, nil
}

// waitPlayable returns when the stream is playable: multivariant and media
// playlists answered and the init section and first segment fetched.
func (p *player) waitPlayable(ctx context.Context, hlsURI string, since time.Time) (string, error) {
	p.base = hlsURI[:strings.LastIndexByte(hlsURI, '/')+1]
	for {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		b, err := get(cctx, p.client, hlsURI) // blocks until the first segment exists
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			time.Sleep(20 * time.Millisecond) // 404 until the publisher is in
			continue
		}
		pl, err := playlist.Unmarshal(b)
		if err != nil {
			return "", fmt.Errorf("multivariant playlist: %w", err)
		}
		mv, ok := pl.(*playlist.Multivariant)
		if !ok || len(mv.Variants) == 0 {
			return "", fmt.Errorf("not a multivariant playlist")
		}
		mediaURL := p.base + mv.Variants[0].URI
		b, err = get(ctx, p.client, mediaURL)
		if err != nil {
			return "", err
		}
		var m playlist.Media
		if err := m.Unmarshal(b); err != nil {
			return "", fmt.Errorf("media playlist: %w", err)
		}
		if m.Map != nil {
			init, err := get(ctx, p.client, p.base+m.Map.URI)
			if err != nil {
				return "", err
			}
			if p.fps > 0 {
				if p.counter, err = newFrameCounter(init, p.fps, p.frames, p.dropped); err != nil {
					return "", err
				}
			}
		}
		var first *playlist.MediaSegment
		for _, seg := range m.Segments {
			if !seg.Gap { // low-latency playlists start with gap placeholders
				first = seg
				break
			}
		}
		if first == nil {
			continue
		}
		if _, err := get(ctx, p.client, p.base+first.URI); err != nil {
			return "", err
		}
		if m.MediaSequence == 0 && m.Segments[0].DateTime != nil {
			p.pdt0 = *m.Segments[0].DateTime
		}
		p.firstPL = time.Since(since)
		return mediaURL, nil
	}
}

// partRef names a part: its segment's media sequence number and its index.
type partRef struct{ msn, idx int }

func (a partRef) before(b partRef) bool { return a.msn < b.msn || (a.msn == b.msn && a.idx < b.idx) }

// follow fetches every part in order, asking for each next one with a
// blocking playlist reload, and records how long after its media time each
// new part and segment appear.
func (p *player) follow(ctx context.Context, mediaURL string) {
	next := partRef{-1, 0} // the next part to fetch; msn -1: start at the newest
	for ctx.Err() == nil {
		u := mediaURL
		if next.msn >= 0 {
			u = fmt.Sprintf("%s?_HLS_msn=%d&_HLS_part=%d", mediaURL, next.msn, next.idx)
		}
		m, ok := p.reload(ctx, u, next)
		if !ok {
			next.msn = -1
			continue
		}
		lastNum := m.MediaSequence + len(m.Segments) - 1
		parts := listParts(m, lastNum)
		if len(parts) == 0 {
			next = partRef{lastNum + 1, 0}
			continue
		}
		if next.msn < 0 {
			next = parts[len(parts)-1].ref // start at the newest part
		}
		next = p.fetchParts(ctx, parts, next)
		next = advance(next, m, lastNum)
	}
}

// reload fetches the media playlist at u (asking for part next) and
// records, while measuring, how late its newest segment and part arrived.
func (p *player) reload(ctx context.Context, u string, next partRef) (*playlist.Media, bool) {
	b, err := get(ctx, p.client, u)
	now := time.Now()
	if err != nil {
		if ctx.Err() == nil {
			p.errors.inc()
			time.Sleep(100 * time.Millisecond)
		}
		return nil, false
	}
	var m playlist.Media
	if err := m.Unmarshal(b); err != nil || len(m.Segments) == 0 {
		p.errors.inc()
		return nil, false
	}
	last := m.Segments[len(m.Segments)-1]
	lastNum := m.MediaSequence + len(m.Segments) - 1
	if p.measure() && p.lastSeen != 0 && lastNum > p.lastSeen && last.DateTime != nil {
		p.segs.add(p.delay(now, last.DateTime.Add(last.Duration)))
	}
	p.lastSeen = lastNum
	// The newest part is in the segment being written (m.Parts), else
	// it is the last part of the newest complete segment.
	if len(m.Parts) > 0 && last.DateTime != nil && next.msn == lastNum+1 && p.measure() {
		end := last.DateTime.Add(last.Duration)
		for _, pt := range m.Parts {
			end = end.Add(pt.Duration)
		}
		p.parts.add(p.delay(now, end))
	}
	return &m, true
}

// listedPart is a part a playlist lists.
type listedPart struct {
	ref partRef
	uri string
}

// listParts is every part the playlist lists, oldest first.
func listParts(m *playlist.Media, lastNum int) []listedPart {
	var parts []listedPart
	for i, seg := range m.Segments {
		for j, pt := range seg.Parts {
			parts = append(parts, listedPart{partRef{m.MediaSequence + i, j}, pt.URI})
		}
	}
	for j, pt := range m.Parts {
		parts = append(parts, listedPart{partRef{lastNum + 1, j}, pt.URI})
	}
	return parts
}

// fetchParts fetches the listed parts from next on and returns the part
// after the last one fetched.
func (p *player) fetchParts(ctx context.Context, parts []listedPart, next partRef) partRef {
	for _, pt := range parts {
		if pt.ref.before(next) {
			continue
		}
		data, err := get(ctx, p.client, p.base+pt.uri)
		if err != nil {
			if ctx.Err() == nil {
				p.errors.inc()
			}
			break
		}
		if p.counter != nil {
			if err := p.counter.add(data, p.measure()); err != nil {
				p.errors.inc()
			}
		}
		next = partRef{pt.ref.msn, pt.ref.idx + 1}
	}
	return next
}

// advance moves past the last part of a complete segment to the next
// segment; behind the segments whose parts are listed, it starts again at
// the newest (msn -1).
func advance(next partRef, m *playlist.Media, lastNum int) partRef {
	for next.msn >= 0 && next.msn <= lastNum {
		i := next.msn - m.MediaSequence
		if i < 0 || len(m.Segments[i].Parts) == 0 {
			return partRef{-1, 0}
		}
		if next.idx < len(m.Segments[i].Parts) {
			break // a listed part is still to fetch (after an error)
		}
		next = partRef{next.msn + 1, 0}
	}
	return next
}

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) inc() { c.mu.Lock(); c.n++; c.mu.Unlock() }
func (c *counter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
