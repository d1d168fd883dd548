package archive_test

import (
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/library"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/mediatest/clipunits"
	"github.com/onair-studio/onair/engine/output"
	"github.com/onair-studio/onair/engine/output/archive"
	"github.com/onair-studio/onair/store"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// rig is a library on a real store in a temp folder, and a factory.
type rig struct {
	lib     *library.Library
	st      *store.Store
	factory *archive.Factory
	mu      sync.Mutex
	reports []string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{st: st, lib: &library.Library{Folder: filepath.Join(dir, "library"), Repo: st, Logger: quiet()}}
	if err := r.lib.Start(); err != nil {
		t.Fatal(err)
	}
	r.factory = &archive.Factory{Library: r.lib}
	return r
}

func (r *rig) output(t *testing.T, began time.Time) output.Output {
	t.Helper()
	o, err := r.factory.New(output.Params{
		StreamID: "0123456789abcdef0123456789abcdef", Output: livestream.NewOutput(livestream.OutputArchive, "0123456789abcdef0123456789abcdef", began),
		SessionStart: began, Logger: quiet(),
		Report: func(st livestream.OutputStatus, err error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			msg := string(st)
			if err != nil {
				msg += ": " + err.Error()
			}
			r.reports = append(r.reports, msg)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (r *rig) lastReport() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reports) == 0 {
		return ""
	}
	return r.reports[len(r.reports)-1]
}

// publish hands units to the hub in batches of 30, as ingest does.
func publish(s *hub.Stream, tr media.Tracks, units []*media.Unit) {
	s.StartPublisher(tr)
	units = clipunits.Copy(units)
	for i := 0; i < len(units); i += 30 {
		s.PublishBatch(units[i:min(i+30, len(units))])
	}
}

func onlyAsset(t *testing.T, lib *library.Library) livestream.Asset {
	t.Helper()
	items, total, _ := lib.List(nil, 10, "")
	if total != 1 {
		t.Fatalf("%d assets, want 1: %+v", total, items)
	}
	return items[0]
}

// A session recorded through the hub plays whole: ffprobe reads H.264 and
// AAC for the clip's length, ffmpeg decodes it without an error, and the
// index holds its figures.
func TestRecordingPlays(t *testing.T) {
	mediatest.RequireTools(t)
	r := newRig(t)
	tr, units := clipunits.Units(t, mediatest.Small)
	s := &hub.Stream{Logger: quiet()}
	began := time.Date(2026, 12, 1, 10, 11, 12, 0, time.Local)
	o := r.output(t, began)
	o.Start(s)
	publish(s, tr, units)
	o.Close()
	s.Close()

	a := onlyAsset(t, r.lib)
	if want := "live_stream_0123456789abcdef0123456789abcdef_archive_20261201-101112"; a.PublicID != want {
		t.Errorf("public id %q, want %q", a.PublicID, want)
	}
	if a.Status != livestream.AssetReady || a.Width != 640 || a.Height != 360 || len(a.Codecs) != 2 {
		t.Errorf("asset %+v", a)
	}
	path, _ := r.lib.Path(a.PublicID)
	fi, err := os.Stat(path)
	if err != nil || fi.Size() != a.Bytes {
		t.Errorf("file %v %v, index says %d bytes", fi, err, a.Bytes)
	}
	p := mediatest.ProbeFile(t, path)
	if got := strings.Join(p.Codecs(), ","); got != "h264,aac" {
		t.Errorf("codecs %s", got)
	}
	sent := float64(mediatest.Small.Seconds)
	if math.Abs(p.Duration-sent) > 0.5 || math.Abs(a.Duration.Seconds()-p.Duration) > 0.1 {
		t.Errorf("duration: ffprobe %.3f s, index %.3f s, sent %.0f s", p.Duration, a.Duration.Seconds(), sent)
	}
	if errs := mediatest.DecodeErrors(t, path); errs != "" {
		t.Errorf("decoding: %s", errs)
	}
	if got := r.lastReport(); got != "broadcasting" {
		t.Errorf("last status %q", got)
	}
}

// A publisher that comes back with the same tracks continues the same
// file; its timestamps stay increasing without a gap.
func TestReconnectContinuesTheFile(t *testing.T) {
	mediatest.RequireTools(t)
	r := newRig(t)
	tr, units := clipunits.Units(t, mediatest.Small)
	s := &hub.Stream{Logger: quiet()}
	o := r.output(t, time.Now())
	o.Start(s)
	half := len(units) / 2
	publish(s, tr, units[:half])
	publish(s, tr, units) // the encoder reconnects and starts over
	o.Close()
	s.Close()

	a := onlyAsset(t, r.lib)
	path, _ := r.lib.Path(a.PublicID)
	p := mediatest.ProbeFile(t, path)
	if want := 1.5 * float64(mediatest.Small.Seconds); math.Abs(p.Duration-want) > 0.6 {
		t.Errorf("duration %.3f s, want about %.1f s", p.Duration, want)
	}
	ts := mediatest.PacketTimes(t, path, "v")
	for i := 1; i < len(ts); i++ {
		if d := ts[i] - ts[i-1]; d <= 0 || d > 0.2 {
			t.Fatalf("video DTS %.3f → %.3f at packet %d", ts[i-1], ts[i], i)
		}
	}
	if errs := mediatest.DecodeErrors(t, path); errs != "" {
		t.Errorf("decoding: %s", errs)
	}
}

// Recording refuses to fill the disk: below the free-space threshold the
// output is errored, says how much is left, and the hub's other readers
// go on.
func TestLowDiskStopsRecording(t *testing.T) {
	r := newRig(t)
	r.factory.MinFree = math.MaxUint64 // more than any disk has
	tr, units := clipunits.Units(t, mediatest.Small)
	s := &hub.Stream{Logger: quiet()}
	var got int
	other := &hub.Reader{QueueSize: 4096, OnUnit: func(*media.Unit) { got++ }}
	s.AddReader(other)
	o := r.output(t, time.Now())
	o.Start(s)
	publish(s, tr, units)
	o.Close()
	s.RemoveReader(other)
	s.Close()
	if rep := r.lastReport(); !strings.HasPrefix(rep, "errored: the disk holding the library has ") || !strings.Contains(rep, "MB free") {
		t.Errorf("status %q", rep)
	}
	if got < len(units)*9/10 {
		t.Errorf("the other reader got %d of %d units", got, len(units))
	}
	if _, total, _ := r.lib.List(nil, 10, ""); total != 0 {
		t.Errorf("%d assets after a refused recording", total)
	}
}
