// Package archive is the archive output: a hub reader that records each
// session of a live stream to a fragmented MP4 file in the asset library
// as the stream goes. Every fragment is synced to the disk, so a crash or
// power loss keeps everything up to the last complete fragment; closing
// the output finishes the file with its random-access index.
package archive

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/onair-studio/onair/engine/diskfree"
	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/output"
)

// Library is where recordings go: the asset library.
type Library interface {
	// Dir is the folder holding the files.
	Dir() string
	// Create opens a new file for a recording of stream streamID under
	// publicID that began at began, and indexes it as recording.
	Create(streamID, publicID string, began time.Time) (*os.File, livestream.Asset, error)
	// Progress tells the figures of a recording in progress.
	Progress(a livestream.Asset)
	// Finish indexes a recording that ended: ready, or damaged when
	// a.Error is set.
	Finish(a livestream.Asset) error
	// Discard removes a recording that holds no media.
	Discard(a livestream.Asset) error
}

// Defaults of the factory.
const (
	DefaultMinFree     = 500 << 20
	DefaultMinFragment = 500 * time.Millisecond
	DefaultMaxFragment = time.Second
	// spaceCheckEvery is how often the free space is read while recording.
	spaceCheckEvery = 5 * time.Second
)

// Factory makes the archive output of each session.
type Factory struct {
	// Library receives the recordings. Required.
	Library Library
	// MinFree is the free space, in bytes, below which recording stops
	// (status errored). It defaults to DefaultMinFree.
	MinFree uint64
	// FreeSpace reads the free space of the disk holding a folder. It
	// defaults to the operating system's.
	FreeSpace func(dir string) (uint64, error)
	// MinFragment is the shortest fragment: a key frame after it starts
	// the next. It defaults to DefaultMinFragment.
	MinFragment time.Duration
	// MaxFragment ends a fragment without waiting for a key frame: at most
	// this much media waits in memory, and a crash loses at most this
	// much. It defaults to DefaultMaxFragment.
	MaxFragment time.Duration
}

// New implements output.Factory.
func (f *Factory) New(p output.Params) (output.Output, error) {
	if f.Library == nil {
		return nil, errors.New("archive: no library")
	}
	publicID := cmp.Or(p.Output.PublicID, livestream.DefaultArchivePublicID(p.StreamID))
	if err := livestream.ValidatePublicID(publicID); err != nil {
		return nil, err
	}
	o := &Output{
		f: f, streamID: p.StreamID, publicID: publicID, began: p.SessionStart,
		log: p.Logger, report: p.Report,
		minFree:   cmp.Or(f.MinFree, DefaultMinFree),
		freeSpace: f.FreeSpace,
		minFrag:   cmp.Or(f.MinFragment, DefaultMinFragment),
		maxFrag:   cmp.Or(f.MaxFragment, DefaultMaxFragment),
	}
	if o.freeSpace == nil {
		o.freeSpace = diskfree.Free
	}
	return o, nil
}

// Output records one session. Everything but Start and Close runs on its
// hub reader's goroutine.
type Output struct {
	f         *Factory
	streamID  string
	publicID  string
	began     time.Time
	log       *slog.Logger
	report    output.Report
	minFree   uint64
	freeSpace func(string) (uint64, error)
	minFrag   time.Duration
	maxFrag   time.Duration

	stream *hub.Stream
	reader *hub.Reader

	tracks    *media.Tracks
	cur       *file
	files     int
	stopped   bool // errored: nothing more is recorded this session
	live      bool
	lastCheck time.Time
}

// Start implements output.Output: the file is made when media arrives.
func (o *Output) Start(s *hub.Stream) {
	if o.log == nil {
		o.log = slog.Default()
	}
	o.stream = s
	// A deeper queue than the default rides out a slow disk for ~30 s.
	o.reader = &hub.Reader{Name: "archive", QueueSize: 2048, OnUnit: o.write}
	s.AddReader(o.reader)
}

// Close implements output.Output: the reader is detached and the file
// finished.
func (o *Output) Close() {
	if o.stream != nil {
		o.stream.RemoveReader(o.reader)
	}
	o.finish(false)
}

func (o *Output) write(u *media.Unit) {
	if o.stopped {
		return
	}
	if u.Tracks != o.tracks {
		if o.cur != nil && !u.Tracks.SameAs(*o.tracks) {
			// New codec parameters cannot continue the file: a new one begins.
			o.log.Info("the encoder changed its settings; the recording continues in a new file")
			o.finish(false)
		}
		o.tracks = u.Tracks
	}
	if o.cur == nil {
		if o.tracks.Video != nil && (u.Kind != media.KindVideo || !u.Key) {
			return // a file starts with a key frame
		}
		if err := o.checkSpace(); err != nil {
			o.stop(err)
			return
		}
		if err := o.begin(u); err != nil {
			o.stop(err)
			return
		}
	}
	wrote, err := o.cur.Write(u)
	if err != nil {
		o.finish(true)
		o.stop(fmt.Errorf("%w; the recording was kept up to the last complete second", err))
		return
	}
	if !wrote {
		return
	}
	o.f.Library.Progress(o.progress())
	if !o.live {
		o.live = true
		o.report(livestream.OutputBroadcasting, nil)
	}
	if time.Since(o.lastCheck) >= spaceCheckEvery {
		if err := o.checkSpace(); err != nil {
			o.finish(false)
			o.stop(err)
		}
	}
}

// begin opens a new file in the library.
func (o *Output) begin(u *media.Unit) error {
	began := o.began
	if o.files > 0 || began.IsZero() {
		began = time.Now()
	}
	f, a, err := o.f.Library.Create(o.streamID, o.publicID, began)
	if err != nil {
		return fmt.Errorf("starting the recording: %w", err)
	}
	w, err := newFile(f, *o.tracks, u, o.minFrag, o.maxFrag)
	if err != nil {
		f.Close()
		a.Status, a.Error = livestream.AssetDamaged, err.Error()
		if ferr := o.f.Library.Finish(a); ferr != nil {
			o.log.Warn("indexing a failed recording", "error", ferr)
		}
		return fmt.Errorf("starting the recording: %w", err)
	}
	w.asset = a
	o.cur = w
	o.files++
	o.log.Info("recording", "asset", a.PublicID)
	return nil
}

func (o *Output) progress() livestream.Asset {
	o.cur.fillAsset()
	return o.cur.asset
}

// finish ends the current file, if any, and indexes it.
func (o *Output) finish(failed bool) {
	w := o.cur
	if w == nil {
		return
	}
	o.cur = nil
	err := w.finish(failed)
	a := w.asset
	a.Ended = time.Now()
	if w.Fragments() == 0 {
		if err := o.f.Library.Discard(a); err != nil {
			o.log.Warn("removing an empty recording", "asset", a.PublicID, "error", err)
		}
		return
	}
	a.Status = livestream.AssetReady
	if err != nil {
		o.log.Warn("finishing the recording", "asset", a.PublicID, "error", err)
	}
	if err := o.f.Library.Finish(a); err != nil {
		o.log.Warn("indexing the recording", "asset", a.PublicID, "error", err)
	}
	o.log.Info("recording finished", "asset", a.PublicID, "duration", a.Duration.Round(time.Millisecond), "bytes", a.Bytes)
}

// checkSpace refuses to record when the library's disk is nearly full.
func (o *Output) checkSpace() error {
	o.lastCheck = time.Now()
	// When the space cannot be read, recording goes on: a write error
	// would stop it.
	if free, err := o.freeSpace(o.f.Library.Dir()); err == nil && free < o.minFree {
		return fmt.Errorf("the disk holding the library has %s free, less than the %s recording needs; recording stopped (free some space, then switch recording off and on)",
			megabytes(free), megabytes(o.minFree))
	}
	return nil
}

// stop ends recording for this session with an error status.
func (o *Output) stop(err error) {
	o.stopped, o.live = true, false
	o.log.Warn("recording stopped", "error", err)
	o.report(livestream.OutputErrored, err)
}

func megabytes(b uint64) string {
	return fmt.Sprintf("%d MB", b/1_000_000)
}

// Counts implements output.Counter.
func (o *Output) Counts() output.Counts {
	if o.reader == nil {
		return output.Counts{}
	}
	return output.Counts{Dropped: o.reader.Dropped()}
}
