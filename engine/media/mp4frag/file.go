package mp4frag

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/onair-studio/onair/engine/media"
)

// A recording is written as fragmented MP4 (ftyp, moov with mvex, then
// moof + mdat pairs), so that whatever a crash leaves is playable up to its
// last complete fragment. Finish then turns it into an ordinary MP4 in
// place: a complete moov with the sample tables of every fragment is
// appended, and the first moov and the moofs are renamed to free boxes.
// Every player seeks in the result as in any MP4, and the media is never
// copied.

// FileInfo is what Scan found in a recording.
type FileInfo struct {
	// Complete is the size of the file up to the end of its last complete
	// fragment: what is left after cutting a torn write.
	Complete int64
	// Finished tells that the file ends with its complete moov.
	Finished  bool
	Fragments int
	Duration  time.Duration
	Tracks    media.Tracks

	moov     []byte // the first moov's content
	moovAt   int64
	runs     []trackRun
	headers  []int64 // the fragments' moof positions
	scales   map[uint32]uint32
	defaults map[uint32]trackDefaults
	kinds    map[uint32]media.Kind
}

// ErrNoMedia is returned when the file holds no complete fragment.
var ErrNoMedia = errors.New("the file holds no complete fragment of media")

// maxHeader bounds a moov or moof read while scanning.
const maxHeader = 64 << 20

// Scan reads a recording and tells where its last complete fragment ends,
// whether it is finished, how long it plays and what it holds. A fragment
// that is cut short or does not parse ends the scan there.
func Scan(r io.ReaderAt, size int64) (*FileInfo, error) {
	typ, n, err := boxAt(r, 0, size)
	if err != nil || typ != "ftyp" {
		return nil, fmt.Errorf("not an MP4 file written by OnAir Studio (it starts with %q)", typ)
	}
	info := &FileInfo{scales: map[uint32]uint32{}, defaults: map[uint32]trackDefaults{}, kinds: map[uint32]media.Kind{}}
	typ, m, err := boxAt(r, n, size)
	if err != nil || (typ != "moov" && typ != "free") || m > maxHeader {
		return nil, errors.New("the file's initialization section (moov) is missing or cut short")
	}
	if info.moov, err = readContent(r, n, m); err != nil {
		return nil, err
	}
	info.moovAt = n
	if err := info.readInit(); err != nil {
		return nil, err
	}
	pos := n + m
	info.Complete = pos
	ends := map[uint32]uint64{}
	for pos < size {
		typ, hn, err := boxAt(r, pos, size)
		if err != nil {
			break
		}
		if typ == "moov" {
			info.Finished = pos+hn == size && info.Fragments > 0
			break
		}
		if (typ != "moof" && typ != "free") || hn > maxHeader {
			break
		}
		mtyp, dn, err := boxAt(r, pos+hn, size)
		if err != nil || mtyp != "mdat" {
			break
		}
		content, err := readContent(r, pos, hn)
		if err != nil {
			break
		}
		runs, err := parseMoof(content, pos, info.defaults)
		if err != nil || !within(runs, pos+hn, pos+hn+dn) {
			break
		}
		for _, tr := range runs {
			end := tr.baseTime
			for _, s := range tr.samples {
				end += uint64(s.duration)
			}
			ends[tr.track] = max(ends[tr.track], end)
		}
		info.runs = append(info.runs, runs...)
		info.headers = append(info.headers, pos)
		pos += hn + dn
		info.Complete = pos
		info.Fragments++
	}
	for id, end := range ends {
		if ts := info.scales[id]; ts > 0 {
			info.Duration = max(info.Duration, FromTicks(int64(end), int64(ts)))
		}
	}
	if info.Fragments == 0 {
		return info, ErrNoMedia
	}
	return info, nil
}

// within reports whether every run's media lies inside the mdat's content.
func within(runs []trackRun, from, to int64) bool {
	for _, tr := range runs {
		size := int64(0)
		for _, s := range tr.samples {
			size += int64(s.size)
		}
		if tr.offset < from+8 || tr.offset+size > to {
			return false
		}
	}
	return true
}

// readInit reads the tracks of the first moov: their codecs (with
// mediacommon), time scales and trex defaults.
func (info *FileInfo) readInit() error {
	var in fmp4.Init
	if err := in.Unmarshal(bytes.NewReader(appendBox(appendBox(nil, "ftyp", []byte("iso5\x00\x00\x02\x00iso5")), "moov", info.moov))); err != nil {
		return fmt.Errorf("reading the initialization section: %w", err)
	}
	for _, t := range in.Tracks {
		info.scales[uint32(t.ID)] = t.TimeScale
		info.defaults[uint32(t.ID)] = trackDefaults{}
		info.kinds[uint32(t.ID)] = media.KindVideo
		switch c := t.Codec.(type) {
		case *codecs.H264:
			info.Tracks.Video, _ = media.NewH264Params(c.SPS, c.PPS) // a size it cannot read stays unknown
		case *codecs.H265:
			info.Tracks.Video, _ = media.NewH265Params(c.VPS, c.SPS, c.PPS)
		case *codecs.AV1:
			info.Tracks.Video, _ = media.NewAV1Params(c.SequenceHeader)
		case *codecs.MPEG4Audio:
			info.Tracks.Audio = &media.AACParams{Config: c.Config}
			info.kinds[uint32(t.ID)] = media.KindAudio
		default:
			delete(info.kinds, uint32(t.ID))
		}
	}
	// trex defaults apply to the fragments.
	top, err := children(info.moov)
	if err != nil {
		return fmt.Errorf("reading the initialization section: %w", err)
	}
	for _, b := range top {
		if b.typ != "mvex" {
			continue
		}
		boxes, err := children(b.content(info.moov))
		if err != nil {
			return fmt.Errorf("reading the initialization section: %w", err)
		}
		for _, t := range boxes {
			if t.typ == "trex" {
				r := &reader{b: t.content(b.content(info.moov))}
				r.skip(4)
				id := r.u32()
				r.skip(4) // sample description index
				d := trackDefaults{duration: r.u32(), size: r.u32(), flags: r.u32()}
				if !r.bad {
					info.defaults[id] = d
				}
			}
		}
	}
	return nil
}

// Finish makes the recording at f whole and ordinary: it is cut after its
// last complete fragment, its complete moov is appended, and the first moov
// and the moofs become free boxes. A finished file is left as it is.
// Finishing again after a crash during Finish gives the same file.
func Finish(f *os.File) (*FileInfo, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading the file: %w", err)
	}
	info, err := Scan(f, st.Size())
	if err != nil {
		return info, err
	}
	if info.Finished {
		info.Complete = st.Size()
		return info, nil
	}
	if err := f.Truncate(info.Complete); err != nil {
		return nil, fmt.Errorf("cutting the torn end: %w", err)
	}
	moov, err := info.progressiveMoov()
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteAt(moov, info.Complete); err != nil {
		return nil, fmt.Errorf("writing the file's index (moov): %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("writing the file to the disk: %w", err)
	}
	// Only now is the fragmented structure hidden: a crash before this
	// point leaves a fragmented file that plays and is finished again.
	free := []byte("free")
	for _, at := range info.headers {
		if _, err := f.WriteAt(free, at+4); err != nil {
			return nil, fmt.Errorf("finishing the file: %w", err)
		}
	}
	if _, err := f.WriteAt(free, info.moovAt+4); err != nil {
		return nil, fmt.Errorf("finishing the file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("writing the file to the disk: %w", err)
	}
	info.Complete += int64(len(moov))
	info.Finished = true
	return info, nil
}

// readContent reads the content of the box of n bytes at pos.
func readContent(r io.ReaderAt, pos, n int64) ([]byte, error) {
	hdr, err := headerAt(r, pos)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n-hdr)
	if _, err := r.ReadAt(b, pos+hdr); err != nil {
		return nil, fmt.Errorf("reading the file: %w", err)
	}
	return b, nil
}

// headerAt returns the header length of the box at pos.
func headerAt(r io.ReaderAt, pos int64) (int64, error) {
	var h [4]byte
	if _, err := r.ReadAt(h[:], pos); err != nil {
		return 0, err
	}
	if binary.BigEndian.Uint32(h[:]) == 1 {
		return 16, nil
	}
	return 8, nil
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
	if n < 8 || n > size-pos {
		return typ, 0, io.ErrUnexpectedEOF
	}
	return typ, n, nil
}
