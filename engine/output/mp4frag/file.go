package mp4frag

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/onair-studio/onair/engine/media"
)

// KeyEntry locates a fragment that starts with a key frame, for the
// random-access index written when a file is finished.
type KeyEntry struct {
	// Time is the fragment's first DTS in the track's time scale.
	Time uint64
	// Offset is the fragment's moof position in the file.
	Offset uint64
}

// MarshalIndex returns the random-access index (mfra with one tfra for
// trackID and an mfro) that ends a finished file. Players seek with it
// without reading every fragment.
func MarshalIndex(trackID uint32, keys []KeyEntry) []byte {
	const entry = 8 + 8 + 3 // version 1 time and offset, 1-byte traf, trun and sample numbers
	tfraSize := 8 + 4 + 4 + 4 + 4 + entry*len(keys)
	size := 8 + tfraSize + 16
	b := make([]byte, size)
	be := binary.BigEndian
	be.PutUint32(b[0:], uint32(size))
	copy(b[4:], "mfra")
	p := 8
	be.PutUint32(b[p:], uint32(tfraSize))
	copy(b[p+4:], "tfra")
	be.PutUint32(b[p+8:], 1<<24) // version 1
	be.PutUint32(b[p+12:], trackID)
	be.PutUint32(b[p+16:], 0) // 1-byte traf, trun and sample numbers
	be.PutUint32(b[p+20:], uint32(len(keys)))
	p += 24
	for _, k := range keys {
		be.PutUint64(b[p:], k.Time)
		be.PutUint64(b[p+8:], k.Offset)
		b[p+16], b[p+17], b[p+18] = 1, 1, 1
		p += entry
	}
	be.PutUint32(b[p:], 16)
	copy(b[p+4:], "mfro")
	be.PutUint32(b[p+8:], 0)
	be.PutUint32(b[p+12:], uint32(size))
	return b
}

// FileInfo is what Scan found in a fragmented MP4 file.
type FileInfo struct {
	// Complete is the size of the file up to the end of its last complete
	// fragment: what is left after cutting a torn write.
	Complete int64
	// Finished tells that the file ends with its random-access index.
	Finished  bool
	Fragments int
	Duration  time.Duration
	Tracks    media.Tracks
	// KeyTrack and Keys make the random-access index (MarshalIndex).
	KeyTrack uint32
	Keys     []KeyEntry
}

// ErrNoMedia is returned when the file holds no complete fragment.
var ErrNoMedia = errors.New("the file holds no complete fragment of media")

// maxFragment bounds a fragment read while scanning.
const maxFragment = 256 << 20

// Scan reads a fragmented MP4 file written by this package (ftyp, moov,
// then moof + mdat pairs, then perhaps the index) and tells where its
// last complete fragment ends, how long it plays and what it holds. A
// fragment that is cut short or does not parse ends the scan there.
func Scan(r io.ReaderAt, size int64) (*FileInfo, error) {
	head, pos, err := readInit(r, size)
	if err != nil {
		return nil, err
	}
	var in fmp4.Init
	if err := in.Unmarshal(bytes.NewReader(head)); err != nil {
		return nil, fmt.Errorf("reading the initialization section: %w", err)
	}
	info := &FileInfo{Complete: pos}
	scale := map[int]uint32{}
	var video, audio int
	for _, t := range in.Tracks {
		scale[t.ID] = t.TimeScale
		switch c := t.Codec.(type) {
		case *codecs.H264:
			info.Tracks.Video = &media.H264Params{SPS: c.SPS, PPS: c.PPS}
			video = t.ID
		case *codecs.MPEG4Audio:
			info.Tracks.Audio = &media.AACParams{Config: c.Config}
			audio = t.ID
		}
	}
	keyTrack := video
	if keyTrack == 0 {
		keyTrack = audio
	}
	info.KeyTrack = uint32(keyTrack)
	ends := map[int]uint64{}
	for pos < size {
		typ, boxSize, err := boxAt(r, pos, size)
		if err != nil {
			break
		}
		if typ == "mfra" && pos+boxSize == size {
			info.Finished = true
			break
		}
		if typ != "moof" {
			break
		}
		mtyp, mdatSize, err := boxAt(r, pos+boxSize, size)
		if err != nil || mtyp != "mdat" || boxSize+mdatSize > maxFragment {
			break
		}
		frag := make([]byte, boxSize+mdatSize)
		if _, err := r.ReadAt(frag, pos); err != nil {
			break
		}
		var parts fmp4.Parts
		if err := parts.Unmarshal(frag); err != nil || len(parts) != 1 {
			break
		}
		for _, t := range parts[0].Tracks {
			end := t.BaseTime
			for _, s := range t.Samples {
				end += uint64(s.Duration)
			}
			ends[t.ID] = max(ends[t.ID], end)
			if t.ID == keyTrack && len(t.Samples) > 0 && !t.Samples[0].IsNonSyncSample {
				info.Keys = append(info.Keys, KeyEntry{Time: t.BaseTime, Offset: uint64(pos)})
			}
		}
		pos += boxSize + mdatSize
		info.Complete = pos
		info.Fragments++
	}
	for id, end := range ends {
		if ts := scale[id]; ts > 0 {
			info.Duration = max(info.Duration, FromTicks(int64(end), int64(ts)))
		}
	}
	if info.Fragments == 0 {
		return info, ErrNoMedia
	}
	return info, nil
}

// readInit returns the ftyp and moov boxes and where the fragments begin.
func readInit(r io.ReaderAt, size int64) ([]byte, int64, error) {
	typ, n, err := boxAt(r, 0, size)
	if err != nil || typ != "ftyp" {
		return nil, 0, fmt.Errorf("not an MP4 file written by OnAir Studio (it starts with %q)", typ)
	}
	mtyp, m, err := boxAt(r, n, size)
	if err != nil || mtyp != "moov" || n+m > 16<<20 {
		return nil, 0, errors.New("the file's initialization section (moov) is missing or cut short")
	}
	head := make([]byte, n+m)
	if _, err := r.ReadAt(head, 0); err != nil {
		return nil, 0, fmt.Errorf("reading the initialization section: %w", err)
	}
	return head, n + m, nil
}

// boxAt reads the header of the box at pos; the box must fit in the file.
func boxAt(r io.ReaderAt, pos, size int64) (string, int64, error) {
	var h [16]byte
	if pos+8 > size {
		return "", 0, io.ErrUnexpectedEOF
	}
	if _, err := r.ReadAt(h[:8], pos); err != nil {
		return "", 0, err
	}
	n := int64(binary.BigEndian.Uint32(h[:4]))
	typ := string(h[4:8])
	if n == 1 {
		if pos+16 > size {
			return typ, 0, io.ErrUnexpectedEOF
		}
		if _, err := r.ReadAt(h[8:16], pos+8); err != nil {
			return typ, 0, err
		}
		n = int64(binary.BigEndian.Uint64(h[8:16]))
	}
	if n < 8 || pos+n > size {
		return typ, 0, io.ErrUnexpectedEOF
	}
	return typ, n, nil
}
