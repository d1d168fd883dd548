package mp4frag

import (
	"encoding/binary"
	"fmt"
)

// progressiveMoov builds the complete moov of the scanned fragments: the
// first moov's boxes with their durations set, mvex left out, and in each
// track's stbl the codec description kept and the sample tables of every
// fragment's run (one chunk per run) added.
func (info *FileInfo) progressiveMoov() ([]byte, error) {
	top, err := children(info.moov)
	if err != nil {
		return nil, fmt.Errorf("reading the initialization section: %w", err)
	}
	movieScale := uint32(1000)
	for _, b := range top {
		if b.typ == "mvhd" {
			if ts, ok := headerTimescale(b.content(info.moov)); ok && ts > 0 {
				movieScale = ts
			}
		}
	}
	tables := info.tables()
	var movieDur uint64
	for id, t := range tables {
		if ts := info.scales[id]; ts > 0 {
			movieDur = max(movieDur, (t.start+t.duration)*uint64(movieScale)/uint64(ts))
		}
	}
	var out []byte
	for _, b := range top {
		c := b.content(info.moov)
		switch b.typ {
		case "mvhd":
			out = appendBox(out, "mvhd", withDuration(c, 16, 24, movieDur))
		case "trak":
			trak, err := info.trak(c, tables, movieScale)
			if err != nil {
				return nil, err
			}
			out = appendBox(out, "trak", trak)
		case "mvex":
		default:
			out = append(out, info.moov[b.start:b.end]...)
		}
	}
	return appendBox(nil, "moov", out), nil
}

// table is one track's samples, gathered from its runs.
type table struct {
	start    uint64 // decode time of the first sample
	duration uint64
	samples  []sampleInfo
	chunks   []chunk
}

type chunk struct {
	offset  int64
	samples uint32
}

func (info *FileInfo) tables() map[uint32]*table {
	ts := map[uint32]*table{}
	for _, tr := range info.runs {
		t := ts[tr.track]
		if t == nil {
			t = &table{start: tr.baseTime}
			ts[tr.track] = t
		}
		if len(tr.samples) == 0 {
			continue
		}
		t.samples = append(t.samples, tr.samples...)
		t.chunks = append(t.chunks, chunk{offset: tr.offset, samples: uint32(len(tr.samples))})
		for _, s := range tr.samples {
			t.duration += uint64(s.duration)
		}
	}
	return ts
}

// rewrite copies the boxes of content, but for those edit replaces: it
// returns the bytes to put instead and true, or false to keep the box.
func rewrite(content []byte, edit func(typ string, c []byte) ([]byte, bool, error)) ([]byte, error) {
	boxes, err := children(content)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, b := range boxes {
		repl, ok, err := edit(b.typ, b.content(content))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, repl...)
		} else {
			out = append(out, content[b.start:b.end]...)
		}
	}
	return out, nil
}

// nested rewrites the content of a container box.
func nested(typ string, c []byte, edit func(typ string, c []byte) ([]byte, bool, error)) ([]byte, bool, error) {
	inner, err := rewrite(c, edit)
	if err != nil {
		return nil, false, err
	}
	return appendBox(nil, typ, inner), true, nil
}

func (info *FileInfo) trak(content []byte, tables map[uint32]*table, movieScale uint32) ([]byte, error) {
	boxes, err := children(content)
	if err != nil {
		return nil, err
	}
	var id uint32
	for _, b := range boxes {
		if b.typ == "tkhd" {
			c := b.content(content)
			if len(c) > 24 && c[0] == 1 {
				id = binary.BigEndian.Uint32(c[20:])
			} else if len(c) > 16 {
				id = binary.BigEndian.Uint32(c[12:])
			}
		}
	}
	t := tables[id]
	if t == nil {
		t = &table{}
	}
	scale := uint64(info.scales[id])
	if scale == 0 {
		return nil, fmt.Errorf("track %d has no time scale", id)
	}
	inMovie := func(d uint64) uint64 { return d * uint64(movieScale) / scale }
	return rewrite(content, func(typ string, c []byte) ([]byte, bool, error) {
		switch typ {
		case "tkhd":
			out := appendBox(nil, "tkhd", withDuration(c, 20, 28, inMovie(t.start+t.duration)))
			if t.start > 0 { // the track starts later than the file: an empty edit first
				out = appendEdits(out, inMovie(t.start), inMovie(t.duration))
			}
			return out, true, nil
		case "edts":
			return nil, true, nil
		case "mdia":
			return nested("mdia", c, t.mdia)
		}
		return nil, false, nil
	})
}

// mdia sets the media duration and rewrites the sample table.
func (t *table) mdia(typ string, c []byte) ([]byte, bool, error) {
	switch typ {
	case "mdhd":
		return appendBox(nil, "mdhd", withDuration(c, 16, 24, t.duration)), true, nil
	case "minf":
		return nested("minf", c, func(typ string, c []byte) ([]byte, bool, error) {
			if typ != "stbl" {
				return nil, false, nil
			}
			// The codec description stays; the sample tables are made anew.
			inner, err := children(c)
			if err != nil {
				return nil, false, err
			}
			var stbl []byte
			for _, x := range inner {
				if x.typ == "stsd" {
					stbl = append(stbl, c[x.start:x.end]...)
				}
			}
			return appendBox(nil, "stbl", t.sampleTables(stbl)), true, nil
		})
	}
	return nil, false, nil
}

// sampleTables appends stts, ctts, stss, stsc, stsz and co64 to stbl.
func (t *table) sampleTables(stbl []byte) []byte {
	be := binary.BigEndian
	full := func(version byte) []byte { return []byte{version, 0, 0, 0} }
	u32 := be.AppendUint32

	// stts: runs of equal durations.
	var stts []byte
	n := uint32(0)
	for i := 0; i < len(t.samples); {
		j := i
		for j < len(t.samples) && t.samples[j].duration == t.samples[i].duration {
			j++
		}
		stts = u32(u32(stts, uint32(j-i)), t.samples[i].duration)
		n++
		i = j
	}
	stbl = appendBox(stbl, "stts", full(0), u32(nil, n), stts)

	// ctts: runs of equal composition offsets, when there are any.
	offsets, negative := false, false
	for _, s := range t.samples {
		offsets = offsets || s.cts != 0
		negative = negative || s.cts < 0
	}
	if offsets {
		var ctts []byte
		n = 0
		for i := 0; i < len(t.samples); {
			j := i
			for j < len(t.samples) && t.samples[j].cts == t.samples[i].cts {
				j++
			}
			ctts = u32(u32(ctts, uint32(j-i)), uint32(t.samples[i].cts))
			n++
			i = j
		}
		version := byte(0)
		if negative {
			version = 1
		}
		stbl = appendBox(stbl, "ctts", full(version), u32(nil, n), ctts)
	}

	// stss: the sync samples, unless every sample is one.
	var stss []byte
	n = 0
	for i, s := range t.samples {
		if s.sync {
			stss = u32(stss, uint32(i+1))
			n++
		}
	}
	if int(n) != len(t.samples) {
		stbl = appendBox(stbl, "stss", full(0), u32(nil, n), stss)
	}

	// stsc: chunks (one per run) grouped by their sample count.
	var stsc []byte
	n = 0
	for i, c := range t.chunks {
		if i == 0 || c.samples != t.chunks[i-1].samples {
			stsc = u32(u32(u32(stsc, uint32(i+1)), c.samples), 1)
			n++
		}
	}
	stbl = appendBox(stbl, "stsc", full(0), u32(nil, n), stsc)

	stsz := make([]byte, 0, 4*len(t.samples))
	for _, s := range t.samples {
		stsz = u32(stsz, s.size)
	}
	stbl = appendBox(stbl, "stsz", full(0), u32(u32(nil, 0), uint32(len(t.samples))), stsz)

	co64 := make([]byte, 0, 8*len(t.chunks))
	for _, c := range t.chunks {
		co64 = be.AppendUint64(co64, uint64(c.offset))
	}
	return appendBox(stbl, "co64", full(0), u32(nil, uint32(len(t.chunks))), co64)
}

// appendEdits appends an edts whose list first waits empty for delay, then
// plays the media from its start for dur (both in the movie's time scale).
func appendEdits(dst []byte, delay, dur uint64) []byte {
	be := binary.BigEndian
	var elst []byte
	elst = append(elst, 1, 0, 0, 0)
	elst = be.AppendUint32(elst, 2)
	elst = be.AppendUint64(elst, delay)
	elst = be.AppendUint64(elst, ^uint64(0)) // media time -1: empty
	elst = be.AppendUint32(elst, 1<<16)
	elst = be.AppendUint64(elst, dur)
	elst = be.AppendUint64(elst, 0)
	elst = be.AppendUint32(elst, 1<<16)
	return appendBox(dst, "edts", appendBox(nil, "elst", elst))
}

// withDuration returns a copy of a full box's content (mvhd, tkhd, mdhd)
// with its duration set; at0 and at1 are the duration's offsets in version
// 0 (32 bits) and version 1 (64 bits).
func withDuration(c []byte, at0, at1 int, d uint64) []byte {
	c = append([]byte(nil), c...)
	if len(c) == 0 {
		return c
	}
	if c[0] == 1 {
		if len(c) >= at1+8 {
			binary.BigEndian.PutUint64(c[at1:], d)
		}
		return c
	}
	if len(c) >= at0+4 {
		binary.BigEndian.PutUint32(c[at0:], uint32(min(d, 0xffffffff)))
	}
	return c
}

// headerTimescale reads the time scale of an mvhd or mdhd.
func headerTimescale(c []byte) (uint32, bool) {
	switch {
	case len(c) >= 16 && c[0] == 0:
		return binary.BigEndian.Uint32(c[12:]), true
	case len(c) >= 24 && c[0] == 1:
		return binary.BigEndian.Uint32(c[20:]), true
	}
	return 0, false
}
