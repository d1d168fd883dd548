package library_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/library"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/mediatest/clipunits"
	"github.com/onair-studio/onair/engine/output"
	"github.com/onair-studio/onair/engine/output/archive"
	"github.com/onair-studio/onair/store"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

const streamID = "0123456789abcdef0123456789abcdef"

func open(t *testing.T, dir string) (*library.Library, *store.Store) {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	lib := &library.Library{Folder: filepath.Join(dir, "library"), Repo: st, Logger: quiet()}
	if err := lib.Start(); err != nil {
		t.Fatal(err)
	}
	return lib, st
}

// record makes a finished recording of the small clip.
func record(t *testing.T, lib *library.Library, began time.Time) livestream.Asset {
	t.Helper()
	tr, units := clipunits.Units(t, mediatest.Small)
	o, err := (&archive.Factory{Library: lib}).New(output.Params{StreamID: streamID,
		Output: livestream.NewOutput(livestream.OutputArchive, streamID, began), SessionStart: began,
		Logger: quiet(), Report: func(livestream.OutputStatus, error) {}})
	if err != nil {
		t.Fatal(err)
	}
	s := &hub.Stream{Logger: quiet()}
	o.Start(s)
	s.StartPublisher(tr)
	us := clipunits.Copy(units)
	for i := 0; i < len(us); i += 30 {
		s.PublishBatch(us[i:min(i+30, len(us))])
	}
	o.Close()
	s.Close()
	items, _, _ := lib.List(nil, 1, "")
	return items[0]
}

// A recording a crash left open (index says recording, the file ends in
// the middle of a fragment and has no index) is cut back and finished at
// the next start, and decodes cleanly.
func TestRepairAfterCrash(t *testing.T) {
	mediatest.RequireTools(t)
	dir := t.TempDir()
	lib, st := open(t, dir)
	a := record(t, lib, time.Now())
	path, _ := lib.Path(a.PublicID)
	// What a crash leaves: no index at the end, half a fragment, and the
	// asset still recording.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := len(b) * 2 / 3
	if err := os.WriteFile(path, b[:cut], 0o600); err != nil {
		t.Fatal(err)
	}
	a.Status = livestream.AssetRecording
	if err := st.PutAsset(a); err != nil {
		t.Fatal(err)
	}
	st.Close()

	lib, st = open(t, dir)
	defer st.Close()
	got, err := lib.Get(a.PublicID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != livestream.AssetReady || got.Error != "" {
		t.Fatalf("after repair: %+v", got)
	}
	// Once events lead somewhere, the repaired recording is announced, once.
	var events []livestream.Event
	lib.OnEvent = func(ev livestream.Event) { events = append(events, ev) }
	lib.AnnounceRepaired()
	lib.AnnounceRepaired()
	if len(events) != 1 || events[0].Type != livestream.EventAssetReady || events[0].AssetID != a.PublicID {
		t.Errorf("events after a repair: %+v, want one asset.ready", events)
	}
	fi, _ := os.Stat(path)
	if fi.Size() != got.Bytes || got.Bytes >= int64(cut)+1000 {
		t.Errorf("size %d, index %d, cut at %d", fi.Size(), got.Bytes, cut)
	}
	p := mediatest.ProbeFile(t, path)
	if p.Duration < 5 || p.Duration > 9 || got.Duration.Seconds() < p.Duration-0.1 || got.Duration.Seconds() > p.Duration+0.1 {
		t.Errorf("duration: ffprobe %.3f s, index %v", p.Duration, got.Duration)
	}
	if errs := mediatest.DecodeErrors(t, path); errs != "" {
		t.Errorf("decoding the repaired file: %s", errs)
	}
}

// A file with no media, or not an MP4 at all, is marked damaged with the
// reason, and kept.
func TestRepairTellsWhyItFailed(t *testing.T) {
	dir := t.TempDir()
	lib, st := open(t, dir)
	f, a, err := lib.Create(streamID, "show", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("not a video")
	f.Close()
	st.Close()
	lib, st = open(t, dir)
	defer st.Close()
	got, _ := lib.Get(a.PublicID)
	if got.Status != livestream.AssetDamaged || !strings.Contains(got.Error, "not an MP4 file") {
		t.Errorf("%+v", got)
	}
}

// Recordings copied into the folder, or left by a lost index, are indexed
// at start; the stream id and start come from the file name.
func TestStrayFilesIndexed(t *testing.T) {
	mediatest.RequireTools(t)
	dir := t.TempDir()
	lib, st := open(t, dir)
	a := record(t, lib, time.Date(2026, 11, 30, 20, 0, 1, 0, time.Local))
	path, _ := lib.Path(a.PublicID)
	if err := st.DeleteAsset(a.PublicID); err != nil { // the index forgets it
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "library", "notes.mp4"), []byte("hello"), 0o600)
	st.Close()

	lib, st = open(t, dir)
	defer st.Close()
	items, total, _ := lib.List(nil, 10, "")
	if total != 1 {
		t.Fatalf("%d assets: %+v", total, items)
	}
	got := items[0]
	if got.PublicID != a.PublicID || got.StreamID != streamID || !got.Started.Equal(a.Started) || got.Status != livestream.AssetReady {
		t.Errorf("indexed %+v, recorded %+v", got, a)
	}
	if d := got.Duration - a.Duration; d < -10*time.Millisecond || d > 10*time.Millisecond {
		t.Errorf("duration %v, recorded %v", got.Duration, a.Duration)
	}
	if _, err := os.Stat(path); err != nil {
		t.Error(err)
	}
}

// Names are never reused: a second recording in the same second gets a
// number; lists are newest first and page without repeats; a stream
// filter applies; deleting removes the file; a recording in progress
// cannot be deleted.
func TestNamesListsAndDeletes(t *testing.T) {
	dir := t.TempDir()
	lib, st := open(t, dir)
	defer st.Close()
	base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.Local)
	var ids []string
	for i := range 5 {
		began := base.Add(time.Duration(i/2) * time.Minute) // two per minute
		sid := streamID
		if i == 4 {
			sid = strings.Repeat("f", 32)
		}
		f, a, err := lib.Create(sid, "show", began)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		ids = append(ids, a.PublicID)
		if i < 4 {
			a.Status = livestream.AssetReady
			if err := lib.Finish(a); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ids[0] != "show_20261201-090000" || ids[1] != "show_20261201-090000-2" {
		t.Errorf("names %v", ids)
	}
	var seen []string
	var after *livestream.AssetPosition
	for {
		items, total, more := lib.List(after, 2, "")
		if total != 5 {
			t.Fatalf("total %d", total)
		}
		for _, a := range items {
			seen = append(seen, a.PublicID)
		}
		if !more {
			break
		}
		last := items[len(items)-1]
		after = &livestream.AssetPosition{Started: last.Started, PublicID: last.PublicID}
	}
	if want := []string{ids[4], ids[2], ids[3], ids[0], ids[1]}; strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Errorf("order %v, want %v", seen, want)
	}
	if _, total, _ := lib.List(nil, 10, streamID); total != 4 {
		t.Errorf("stream filter: %d", total)
	}
	if err := lib.Delete(ids[4]); err == nil || !strings.Contains(err.Error(), "still recording") {
		t.Errorf("deleting a recording in progress: %v", err)
	}
	path, _ := lib.Path(ids[0])
	if err := lib.Delete(ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("file still there: %v", err)
	}
	if _, err := lib.Get(ids[0]); err == nil {
		t.Error("deleted asset still listed")
	}
	for _, bad := range []string{"../onair", "..%2f", "/etc/passwd", "a\x00b", `a\b`, "a/b", ".hidden", ""} {
		if _, err := lib.Get(bad); err == nil {
			t.Errorf("Get(%q) accepted", bad)
		}
		if err := lib.Delete(bad); err == nil {
			t.Errorf("Delete(%q) accepted", bad)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "onair.db")); err != nil {
		t.Errorf("the store next to the library: %v", err)
	}
}
