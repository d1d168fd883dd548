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
	var (
		track    uint32
		def      trackDefaults
		base     = moofStart
		baseTime uint64
		haveTfhd bool
		out      []trackRun
	)
	next := int64(-1) // where the next run's media starts when it gives no offset
	for _, b := range boxes {
		r := &reader{b: b.content(content)}
		switch b.typ {
		case "tfhd":
			flags := r.u32() & 0xffffff
			track = r.u32()
			d, ok := defaults[track]
			if !ok {
				return nil, errMoof
			}
			def = d
			if flags&tfhdBaseDataOffset != 0 {
				base = int64(r.u64())
			}
			if flags&tfhdSampleDescIndex != 0 {
				r.skip(4)
			}
			if flags&tfhdDefaultDuration != 0 {
				def.duration = r.u32()
			}
			if flags&tfhdDefaultSize != 0 {
				def.size = r.u32()
			}
			if flags&tfhdDefaultFlags != 0 {
				def.flags = r.u32()
			}
			haveTfhd = true
		case "tfdt":
			if r.u8() == 1 {
				r.skip(3)
				baseTime = r.u64()
			} else {
				r.skip(3)
				baseTime = uint64(r.u32())
			}
		case "trun":
			if !haveTfhd {
				return nil, errMoof
			}
			version := r.u8()
			flags := uint32(r.u8())<<16 | uint32(r.u8())<<8 | uint32(r.u8())
			count := r.u32()
			off := next
			if flags&trunDataOffset != 0 {
				off = base + int64(int32(r.u32()))
			}
			if off < 0 {
				off = base
			}
			first := def.flags
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
				return nil, errMoof
			}
			tr := trackRun{track: track, baseTime: baseTime, offset: off, samples: make([]sampleInfo, count)}
			var size int64
			for i := range tr.samples {
				s := sampleInfo{duration: def.duration, size: def.size}
				sf := def.flags
				if i == 0 && hasFirst {
					sf = first
				}
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
				tr.samples[i] = s
				size += int64(s.size)
				baseTime += uint64(s.duration)
			}
			if r.bad {
				return nil, errMoof
			}
			next = off + size
			out = append(out, tr)
		}
	}
	return out, nil
}
