package hls

import (
	"encoding/binary"
)

// fmp4Sample is one sample of a part.
type fmp4Sample struct {
	duration uint32
	ctsOff   int32 // PTS - DTS, in the track's time scale
	key      bool
	nalus    [][]byte // video: written length-prefixed (AVCC)
	frame    []byte   // audio
}

func (s *fmp4Sample) size() int {
	if s.nalus == nil {
		return len(s.frame)
	}
	n := 0
	for _, b := range s.nalus {
		n += 4 + len(b)
	}
	return n
}

// fmp4Track is one track's run of samples in a part.
type fmp4Track struct {
	id       uint32
	video    bool
	baseTime uint64
	samples  []fmp4Sample
}

// trun flags: data offset, then per sample duration, size, flags and
// composition time offset (video) or duration and size (audio).
const (
	trunVideoFlags = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800
	trunAudioFlags = 0x000001 | 0x000100 | 0x000200
	tfhdFlags      = 0x020000 // default-base-is-moof
	flagsSync      = 0x02000000
	flagsNonSync   = 0x01010000
)

func (t *fmp4Track) trafSize() int {
	per := 8
	if t.video {
		per = 16
	}
	return 8 + 16 + 20 + 20 + per*len(t.samples)
}

// marshalPart writes one fMP4 part (moof + mdat) into a buffer of exactly
// the right size, in one allocation, with no reflection: this is the hot
// path of the HLS output.
func marshalPart(seq uint32, tracks []*fmp4Track) []byte {
	moofSize := 8 + 16
	dataSize := 0
	for _, t := range tracks {
		moofSize += t.trafSize()
		for i := range t.samples {
			dataSize += t.samples[i].size()
		}
	}
	b := make([]byte, moofSize+8+dataSize)
	be := binary.BigEndian

	box := func(pos, size int, typ string) int {
		be.PutUint32(b[pos:], uint32(size))
		copy(b[pos+4:], typ)
		return pos + 8
	}
	p := box(0, moofSize, "moof")
	p = box(p, 16, "mfhd")
	be.PutUint32(b[p:], 0) // version, flags
	be.PutUint32(b[p+4:], seq)
	p += 8

	dataPos := moofSize + 8 // first byte of media in mdat
	for _, t := range tracks {
		p = box(p, t.trafSize(), "traf")
		p = box(p, 16, "tfhd")
		be.PutUint32(b[p:], tfhdFlags)
		be.PutUint32(b[p+4:], t.id)
		p += 8
		p = box(p, 20, "tfdt")
		be.PutUint32(b[p:], 1<<24) // version 1
		be.PutUint64(b[p+4:], t.baseTime)
		p += 12
		per := 8
		flags := uint32(trunAudioFlags)
		if t.video {
			per, flags = 16, trunVideoFlags
		}
		p = box(p, 20+per*len(t.samples), "trun")
		be.PutUint32(b[p:], 1<<24|flags) // version 1: signed composition offsets
		be.PutUint32(b[p+4:], uint32(len(t.samples)))
		be.PutUint32(b[p+8:], uint32(dataPos)) // relative to the moof
		p += 12
		for i := range t.samples {
			s := &t.samples[i]
			size := s.size()
			be.PutUint32(b[p:], s.duration)
			be.PutUint32(b[p+4:], uint32(size))
			p += 8
			if t.video {
				f := uint32(flagsNonSync)
				if s.key {
					f = flagsSync
				}
				be.PutUint32(b[p:], f)
				be.PutUint32(b[p+4:], uint32(s.ctsOff))
				p += 8
			}
			// media
			if s.nalus == nil {
				copy(b[dataPos:], s.frame)
			} else {
				q := dataPos
				for _, n := range s.nalus {
					be.PutUint32(b[q:], uint32(len(n)))
					copy(b[q+4:], n)
					q += 4 + len(n)
				}
			}
			dataPos += size
		}
	}
	box(moofSize, 8+dataSize, "mdat")
	return b
}
