// Package mp4frag writes fragmented MP4: the initialization section of a
// publisher's tracks, the timeline that turns media units into samples with
// durations, and fragments (moof + mdat) marshalled in one allocation of
// exactly their size. The HLS output cuts its parts with it and the archive
// output records its files with it.
package mp4frag

import (
	"encoding/binary"
)

// Sample is one sample of a fragment.
type Sample struct {
	Duration uint32
	// CTSOffset is PTS - DTS, in the track's time scale.
	CTSOffset int32
	Key       bool
	// NALUs of a video sample, written length-prefixed (AVCC).
	NALUs [][]byte
	// Frame of an audio sample.
	Frame []byte
}

// Size returns the sample's size in the fragment's mdat.
func (s *Sample) Size() int {
	if s.NALUs == nil {
		return len(s.Frame)
	}
	n := 0
	for _, b := range s.NALUs {
		n += 4 + len(b)
	}
	return n
}

// Run is one track's samples in a fragment.
type Run struct {
	ID       uint32
	Video    bool
	BaseTime uint64
	Samples  []Sample
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

func (r *Run) trafSize() int {
	per := 8
	if r.Video {
		per = 16
	}
	return 8 + 16 + 20 + 20 + per*len(r.Samples)
}

// Marshal writes one fragment (moof + mdat) into a buffer of exactly the
// right size, in one allocation, with no reflection: this is the hot path
// of the HLS output.
func Marshal(seq uint32, runs []*Run) []byte {
	moofSize, dataSize := sizes(runs)
	b := make([]byte, moofSize+8+dataSize)
	writeHeader(b, seq, runs, moofSize, dataSize)
	p := moofSize + 8
	be := binary.BigEndian
	for _, t := range runs {
		for i := range t.Samples {
			s := &t.Samples[i]
			if s.NALUs == nil {
				p += copy(b[p:], s.Frame)
				continue
			}
			for _, n := range s.NALUs {
				be.PutUint32(b[p:], uint32(len(n)))
				p += 4 + copy(b[p+4:], n)
			}
		}
	}
	return b
}

// MarshalHeader writes a fragment's moof and mdat header only; the media
// (MediaBuffers) follows it in the file.
func MarshalHeader(seq uint32, runs []*Run) []byte {
	moofSize, dataSize := sizes(runs)
	b := make([]byte, moofSize+8)
	writeHeader(b, seq, runs, moofSize, dataSize)
	return b
}

// MediaBuffers appends to bufs the media of runs in the order of the mdat,
// as slices of the samples' own memory, with the NALUs' length prefixes in
// one small new buffer: written after MarshalHeader (with writev), a
// fragment goes to a file without being copied.
func MediaBuffers(bufs [][]byte, runs []*Run) [][]byte {
	n := 0
	for _, t := range runs {
		for i := range t.Samples {
			n += len(t.Samples[i].NALUs)
		}
	}
	prefixes := make([]byte, 4*n)
	for _, t := range runs {
		for i := range t.Samples {
			s := &t.Samples[i]
			if s.NALUs == nil {
				bufs = append(bufs, s.Frame)
				continue
			}
			for _, nalu := range s.NALUs {
				p := prefixes[:4:4]
				prefixes = prefixes[4:]
				binary.BigEndian.PutUint32(p, uint32(len(nalu)))
				bufs = append(bufs, p, nalu)
			}
		}
	}
	return bufs
}

// sizes returns the sizes of a fragment's moof and of its media.
func sizes(runs []*Run) (moofSize, dataSize int) {
	moofSize = 8 + 16
	for _, t := range runs {
		moofSize += t.trafSize()
		for i := range t.Samples {
			dataSize += t.Samples[i].Size()
		}
	}
	return moofSize, dataSize
}

// writeHeader writes the moof and the mdat box header into b.
func writeHeader(b []byte, seq uint32, runs []*Run, moofSize, dataSize int) {
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
	for _, t := range runs {
		p = box(p, t.trafSize(), "traf")
		p = box(p, 16, "tfhd")
		be.PutUint32(b[p:], tfhdFlags)
		be.PutUint32(b[p+4:], t.ID)
		p += 8
		p = box(p, 20, "tfdt")
		be.PutUint32(b[p:], 1<<24) // version 1
		be.PutUint64(b[p+4:], t.BaseTime)
		p += 12
		per := 8
		flags := uint32(trunAudioFlags)
		if t.Video {
			per, flags = 16, trunVideoFlags
		}
		p = box(p, 20+per*len(t.Samples), "trun")
		be.PutUint32(b[p:], 1<<24|flags) // version 1: signed composition offsets
		be.PutUint32(b[p+4:], uint32(len(t.Samples)))
		be.PutUint32(b[p+8:], uint32(dataPos)) // relative to the moof
		p += 12
		for i := range t.Samples {
			s := &t.Samples[i]
			size := s.Size()
			be.PutUint32(b[p:], s.Duration)
			be.PutUint32(b[p+4:], uint32(size))
			p += 8
			if t.Video {
				f := uint32(flagsNonSync)
				if s.Key {
					f = flagsSync
				}
				be.PutUint32(b[p:], f)
				be.PutUint32(b[p+4:], uint32(s.CTSOffset))
				p += 8
			}
			dataPos += size
		}
	}
	box(moofSize, 8+dataSize, "mdat")
}
