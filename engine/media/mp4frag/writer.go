package mp4frag

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/writev"
)

// Writer writes one recording as it goes: the initialization section, then
// fragments of minFrag to maxFrag (ending at key frames where they can),
// each followed by an fsync, so a crash loses at most the fragment being
// built. Finish makes it an ordinary MP4.
type Writer struct {
	f       *os.File
	init    *Init
	leading *Track
	base    time.Duration // the session time of the file's zero
	minFrag time.Duration
	maxFrag time.Duration

	seq       uint32
	size      int64 // bytes written and synced
	fragStart time.Duration
	fragOpen  bool // samples are gathered for the next fragment
	duration  time.Duration
	bufs      [][]byte // a fragment's pieces, reused
}

// NewWriter writes the initialization section of t to f; u is the file's
// first unit (a key frame when there is video): its DTS is the file's zero.
func NewWriter(f *os.File, t media.Tracks, u *media.Unit, minFrag, maxFrag time.Duration) (*Writer, error) {
	in, err := NewInit(t)
	if err != nil {
		return nil, err
	}
	w := &Writer{f: f, init: in, base: u.DTS, minFrag: minFrag, maxFrag: maxFrag, leading: in.Video}
	if w.leading == nil {
		w.leading = in.Audio
	}
	if _, err := f.Write(in.Bytes); err != nil {
		return nil, fmt.Errorf("writing the recording's header: %w", err)
	}
	w.size = int64(len(in.Bytes))
	return w, nil
}

// Write adds a unit; it reports whether a fragment went to the disk. Units
// before the file's zero are left out.
func (w *Writer) Write(u *media.Unit) (bool, error) {
	var t *Track
	switch u.Kind {
	case media.KindVideo:
		t = w.init.Video
	case media.KindAudio:
		t = w.init.Audio
	}
	if t == nil || u.DTS < w.base {
		return false, nil
	}
	v := *u
	v.DTS -= w.base
	v.PTS -= w.base
	dts, s := t.Sample(&v)
	if t != w.leading {
		t.Complete(dts)
		t.Hold(dts, s)
		return false, nil
	}
	t.Complete(dts)
	wrote := false
	if w.fragOpen && ((s.Key && v.DTS-w.fragStart >= w.minFrag) || v.DTS-w.fragStart >= w.maxFrag) {
		if err := w.flush(); err != nil {
			return false, err
		}
		wrote = true
	}
	if !w.fragOpen {
		w.fragOpen, w.fragStart = true, v.DTS
	}
	t.Hold(dts, s)
	return wrote, nil
}

// flush writes the gathered samples as one fragment and syncs the file.
func (w *Writer) flush() error {
	var runs []*Run
	for _, t := range w.init.Tracks() {
		r := t.Run()
		if r == nil {
			continue
		}
		runs = append(runs, r)
		w.duration = max(w.duration, FromTicks(t.RunEnd(), t.Timescale))
	}
	w.fragOpen = false
	if len(runs) == 0 {
		return nil
	}
	w.seq++
	// The header, then the media straight from the units: nothing is copied.
	w.bufs = MediaBuffers(append(w.bufs[:0], MarshalHeader(w.seq, runs)), runs)
	n, err := writev.Write(w.f, w.bufs)
	clear(w.bufs) // drop the references to the units
	for _, t := range w.init.Tracks() {
		t.Reset()
	}
	if err != nil {
		return fmt.Errorf("writing the recording: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("writing the recording to the disk: %w", err)
	}
	w.size += n
	return nil
}

// Finish writes what is gathered and makes the file an ordinary MP4
// (Finish), then closes it. After a failed write (failed) it cuts the file
// back to its last complete fragment first.
func (w *Writer) Finish(failed bool) error {
	var errs []error
	if failed {
		errs = append(errs, w.f.Truncate(w.size))
	} else {
		for _, t := range w.init.Tracks() {
			t.Finish()
		}
		errs = append(errs, w.flush())
	}
	if w.seq > 0 {
		info, err := Finish(w.f)
		if err != nil {
			errs = append(errs, fmt.Errorf("finishing the recording: %w", err))
		} else {
			w.size = info.Complete
		}
	}
	errs = append(errs, w.f.Close())
	return errors.Join(errs...)
}

// Duration is how long the written media plays.
func (w *Writer) Duration() time.Duration { return w.duration }

// Size is the bytes written and synced.
func (w *Writer) Size() int64 { return w.size }

// Fragments is how many fragments were written.
func (w *Writer) Fragments() uint32 { return w.seq }

// Init is the file's initialization section (codecs and picture size).
func (w *Writer) Init() *Init { return w.init }
