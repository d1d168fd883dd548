package library

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media/mp4frag"
)

// repair finishes a recording a crash left open: the file is cut back to
// its last complete fragment and given its index. It returns the asset
// ready, or damaged with the reason.
func (l *Library) repair(a livestream.Asset) livestream.Asset {
	info, err := finishFile(l.path(a.PublicID))
	if err != nil {
		a.Status, a.Error = livestream.AssetDamaged, err.Error()
		l.Logger.Warn("a recording left by a crash could not be repaired", "asset", a.PublicID, "error", err)
		return a
	}
	a.Status, a.Error = livestream.AssetReady, ""
	fill(&a, info)
	if a.Ended.IsZero() {
		a.Ended = a.Started.Add(a.Duration)
	}
	l.Logger.Info("repaired a recording left by a crash", "asset", a.PublicID, "duration", a.Duration.Round(time.Millisecond))
	return a
}

// finishFile makes a recording whole: cut after its last complete
// fragment and made an ordinary MP4 (mp4frag.Finish).
func finishFile(path string) (*mp4frag.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errors.New("the file is missing")
	}
	if err != nil {
		return nil, fmt.Errorf("opening the file: %w", err)
	}
	defer f.Close()
	return mp4frag.Finish(f)
}

func fill(a *livestream.Asset, info *mp4frag.FileInfo) {
	a.Duration, a.Bytes = info.Duration, info.Complete
	d := info.Tracks.Describe()
	a.Codecs, a.Width, a.Height = d.Codecs, d.Width, d.Height
}

// strayName reads a recording's file name: {public_id}_{YYYYMMDD-HHMMSS},
// the default public id holding the stream's id.
var strayName = regexp.MustCompile(`^(?:live_stream_([0-9a-f]{32})_archive|.+)_(\d{8}-\d{6})(?:-\d+)?$`)

// indexStrays indexes the MP4 files in the folder that the index lacks
// (copied in, or left by an index that was lost).
func (l *Library) indexStrays() error {
	entries, err := os.ReadDir(l.Folder)
	if err != nil {
		return fmt.Errorf("reading the library folder: %w", err)
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".mp4")
		if !ok || !e.Type().IsRegular() || livestream.ValidatePublicID(id) != nil {
			continue
		}
		if _, known := l.assets[id]; known {
			continue
		}
		info, err := finishFile(l.path(id))
		if err != nil {
			l.Logger.Warn("a file in the library folder is not a recording; left alone", "file", e.Name(), "error", err)
			continue
		}
		a := livestream.Asset{PublicID: id, Status: livestream.AssetReady, CreatedAt: time.Now().UTC()}
		fill(&a, info)
		if m := strayName.FindStringSubmatch(id); m != nil {
			a.StreamID = m[1]
			if t, err := time.ParseInLocation(fileTime, m[2], time.Local); err == nil {
				a.Started = t.UTC()
			}
		}
		if fi, err := e.Info(); err == nil {
			a.Ended = fi.ModTime().UTC()
			if a.Started.IsZero() {
				a.Started = a.Ended.Add(-a.Duration)
			}
		}
		if err := l.Repo.PutAsset(a); err != nil {
			return fmt.Errorf("indexing %s: %w", e.Name(), err)
		}
		l.assets[id] = &a
		l.Logger.Info("indexed a recording found in the library folder", "asset", id)
	}
	return nil
}
