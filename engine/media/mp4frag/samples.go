package mp4frag

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/shareopen"
)

// SampleRef is where one sample of a recording is and when it plays, as
// Scan found it: enough to read it back (ReadSample) without reading the
// rest of the file.
type SampleRef struct {
	DTS, PTS time.Duration
	// Duration is how long the sample lasts on its track.
	Duration time.Duration
	Offset   int64
	Size     uint32
	Key      bool
}

// Samples lists the samples of the recording's track of kind, in decoding
// order (nil when there is no such track).
func (info *FileInfo) Samples(kind media.Kind) []SampleRef {
	var id uint32
	for tid, k := range info.kinds {
		if k == kind {
			id = tid
		}
	}
	scale := int64(info.scales[id])
	if id == 0 || scale <= 0 {
		return nil
	}
	var out []SampleRef
	for _, tr := range info.runs {
		if tr.track != id {
			continue
		}
		t, off := int64(tr.baseTime), tr.offset
		for _, s := range tr.samples {
			out = append(out, SampleRef{DTS: FromTicks(t, scale), PTS: FromTicks(t+int64(s.cts), scale),
				Duration: FromTicks(int64(s.duration), scale), Offset: off, Size: s.size, Key: s.sync})
			t += int64(s.duration)
			off += int64(s.size)
		}
	}
	return out
}

// maxSample bounds one sample read back (a 4K key frame is a few MB).
const maxSample = 64 << 20

// ReadSample reads a sample's bytes from the recording.
func ReadSample(r io.ReaderAt, s SampleRef) ([]byte, error) {
	if s.Size > maxSample {
		return nil, fmt.Errorf("a sample of %d bytes at %d is larger than a recording's sample can be", s.Size, s.Offset)
	}
	b := make([]byte, s.Size)
	if _, err := r.ReadAt(b, s.Offset); err != nil {
		return nil, fmt.Errorf("reading a sample at %d of the recording: %w", s.Offset, err)
	}
	return b, nil
}

// Open opens a recording for reading (shared with its writer on every
// system) and scans it; the caller closes the file.
func Open(path string) (*os.File, *FileInfo, error) {
	f, err := shareopen.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the recording: %w", err)
	}
	st, err := f.Stat()
	if err == nil {
		var info *FileInfo
		if info, err = Scan(f, st.Size()); err == nil {
			return f, info, nil
		}
	}
	f.Close()
	return nil, nil, fmt.Errorf("reading the recording: %w", err)
}
