package mp4frag

import (
	"errors"
)

// trackRun is one track's samples in a fragment, as read back from a file.
type trackRun struct {
	track    uint32
	baseTime uint64
	offset   int64 // of the first sample's media in the file
	samples  []sampleInfo
}

type sampleInfo struct {
	duration uint32
	size     uint32
	cts      int32
	sync     bool
}

// trackDefaults are a track's trex defaults.
type trackDefaults struct {
	duration, size, flags uint32
}

const (
	tfhdBaseDataOffset    = 0x000001
	tfhdSampleDescIndex   = 0x000002
	tfhdDefaultDuration   = 0x000008
	tfhdDefaultSize       = 0x000010
	tfhdDefaultFlags      = 0x000020
	trunDataOffset        = 0x000001
	trunFirstSampleFlags  = 0x000004
	trunSampleDuration    = 0x000100
	trunSampleSize        = 0x000200
	trunSampleFlags       = 0x000400
	trunSampleCTS         = 0x000800
	sampleIsNonSyncSample = 0x00010000
)

var errMoof = errors.New("a fragment header (moof) is malformed")

// parseMoof reads the runs of a moof box (content, without its header)
// that starts at moofStart in the file.
func parseMoof(content []byte, moofStart int64, defaults map[uint32]trackDefaults) ([]trackRun, error) {
	boxes, err := children(content)
	if err != nil {
		return nil, err
	}
	var runs []trackRun
	for _, tb := range boxes {
		if tb.typ != "traf" {
			continue
		}
		trs, err := parseTraf(tb.content(content), moofStart, defaults)
		if err != nil {
			return nil, err
		}
		runs = append(runs, trs...)
	}
	return runs, nil
}

func parseTraf(content []byte, moofStart int64, defaults map[uint32]trackDefaults) ([]trackRun, error) {
	boxes, err := children(content)
	if err != nil {
		return nil, err
	}
	tp := trafParser{base: moofStart, next: -1}
	for _, b := range boxes {
		r := &reader{b: b.content(content)}
		switch b.typ {
		case "tfhd":
			err = tp.tfhd(r, defaults)
		case "tfdt":
			tp.tfdt(r)
		case "trun":
			err = tp.trun(r)
		}
		if err != nil {
			return nil, err
		}
	}
	return tp.out, nil
}

// trafParser is the state of reading one traf's boxes in order.
type trafParser struct {
	track    uint32
	def      trackDefaults
	base     int64
	baseTime uint64
	haveTfhd bool
	// next is where the next run's media starts when it gives no offset
	// (-1: none yet).
	next int64
	out  []trackRun
}

func (tp *trafParser) tfhd(r *reader, defaults map[uint32]trackDefaults) error {
	flags := r.u32() & 0xffffff
	tp.track = r.u32()
	d, ok := defaults[tp.track]
	if !ok {
		return errMoof
	}
	tp.def = d
	if flags&tfhdBaseDataOffset != 0 {
		tp.base = int64(r.u64())
	}
	if flags&tfhdSampleDescIndex != 0 {
		r.skip(4)
	}
	if flags&tfhdDefaultDuration != 0 {
		tp.def.duration = r.u32()
	}
	if flags&tfhdDefaultSize != 0 {
		tp.def.size = r.u32()
	}
	if flags&tfhdDefaultFlags != 0 {
		tp.def.flags = r.u32()
	}
	tp.haveTfhd = true
	return nil
}

func (tp *trafParser) tfdt(r *reader) {
	if r.u8() == 1 {
		r.skip(3)
		tp.baseTime = r.u64()
	} else {
		r.skip(3)
		tp.baseTime = uint64(r.u32())
	}
}

func (tp *trafParser) trun(r *reader) error {
	if !tp.haveTfhd {
		return errMoof
	}
	version := r.u8()
	flags := uint32(r.u8())<<16 | uint32(r.u8())<<8 | uint32(r.u8())
	count := r.u32()
	off := tp.next
	if flags&trunDataOffset != 0 {
		off = tp.base + int64(int32(r.u32()))
	}
	if off < 0 {
		off = tp.base
	}
	first := tp.def.flags
	hasFirst := flags&trunFirstSampleFlags != 0
	if hasFirst {
		first = r.u32()
	}
	per := 0
	for _, f := range []uint32{trunSampleDuration, trunSampleSize, trunSampleFlags, trunSampleCTS} {
		if flags&f != 0 {
			per += 4
		}
	}
	if r.bad || uint64(count)*uint64(per) > uint64(len(r.b)-r.p) || (per == 0 && count > 1<<20) {
		return errMoof
	}
	// Samples without a size, none given nor a default, are empty: a
	// malformed file, which could list millions of them in a few bytes.
	if count > 0 && flags&trunSampleSize == 0 && tp.def.size == 0 {
		return errMoof
	}
	tr := trackRun{track: tp.track, baseTime: tp.baseTime, offset: off, samples: make([]sampleInfo, count)}
	var size int64
	for i := range tr.samples {
		sf := tp.def.flags
		if i == 0 && hasFirst {
			sf = first
		}
		s := tp.sample(r, flags, version, sf)
		tr.samples[i] = s
		size += int64(s.size)
		tp.baseTime += uint64(s.duration)
	}
	if r.bad {
		return errMoof
	}
	tp.next = off + size
	tp.out = append(tp.out, tr)
	return nil
}

// sample reads one trun sample; sf is its flags unless the run gives them.
func (tp *trafParser) sample(r *reader, flags uint32, version uint8, sf uint32) sampleInfo {
	s := sampleInfo{duration: tp.def.duration, size: tp.def.size}
	if flags&trunSampleDuration != 0 {
		s.duration = r.u32()
	}
	if flags&trunSampleSize != 0 {
		s.size = r.u32()
	}
	if flags&trunSampleFlags != 0 {
		sf = r.u32()
	}
	if flags&trunSampleCTS != 0 {
		v := r.u32()
		if version == 0 {
			s.cts = int32(min(v, 1<<31-1))
		} else {
			s.cts = int32(v)
		}
	}
	s.sync = sf&sampleIsNonSyncSample == 0
	return s
}
