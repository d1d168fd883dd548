// Package clip cuts clips out of recordings without re-encoding: from the
// key frame at or before the start asked to the end, the audio trimmed to
// match, written as a recording is (fragments synced as they go) and
// finished into an ordinary MP4. A clip that a stop interrupts is cut
// again at the next start: it is never left half made.
package clip

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/media/mp4frag"
)

// Library is what clips need of the asset library (library.Library).
type Library interface {
	Get(publicID string) (livestream.Asset, error)
	Path(publicID string) (string, error)
	CreateClip(publicID, streamID string, c livestream.AssetClip) (*os.File, livestream.Asset, error)
	ReopenClip(publicID string) (*os.File, error)
	Finish(a livestream.Asset) error
	Pending() []livestream.Asset
}

// MaxLength is the longest clip.
const MaxLength = 24 * time.Hour

// Fragment lengths of a clip's file, as a recording's.
const (
	minFrag = time.Second
	maxFrag = 4 * time.Second
)

// Request is a clip to cut.
type Request struct {
	Source     string
	Start, End time.Duration
	// PublicID names the clip; empty: the source's id with the range.
	PublicID string
}

// Cutter cuts clips, one at a time, in the background.
type Cutter struct {
	// Library is required.
	Library Library
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	mu     sync.Mutex // one clip is cut at a time
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

// Start cuts again the clips a stop interrupted.
func (c *Cutter) Start(ctx context.Context) {
	c.ctx, c.cancel = context.WithCancel(ctx)
	for _, a := range c.Library.Pending() {
		c.log().Info("cutting a clip a stop interrupted again", "asset", a.PublicID)
		f, err := c.Library.ReopenClip(a.PublicID)
		if err != nil {
			c.fail(a, err)
			continue
		}
		c.background(f, a)
	}
}

// Close stops cutting and waits: a clip being cut stays processing and is
// cut again at the next Start.
func (c *Cutter) Close() {
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
}

// Clip checks the request, indexes the clip (processing, with the start it
// really gets: the key frame at or before the one asked) and cuts it in
// the background; asset.ready follows.
func (c *Cutter) Clip(r Request) (livestream.Asset, error) {
	src, err := c.Library.Get(r.Source)
	if err != nil {
		return livestream.Asset{}, err
	}
	if src.Status != livestream.AssetReady {
		return livestream.Asset{}, fmt.Errorf("%w: asset %s is %s; clips are cut from ready recordings", livestream.ErrConflict, r.Source, src.Status)
	}
	if err := checkRange(r.Start, r.End, src.Duration); err != nil {
		return livestream.Asset{}, err
	}
	if r.PublicID == "" {
		r.PublicID = fmt.Sprintf("%s_clip_%d-%d", r.Source, r.Start.Milliseconds(), r.End.Milliseconds())
	}
	path, err := c.Library.Path(r.Source)
	if err != nil {
		return livestream.Asset{}, fmt.Errorf("%w: %w", livestream.ErrConflict, err)
	}
	start, err := keyStart(path, r.Start)
	if err != nil {
		return livestream.Asset{}, err
	}
	f, a, err := c.Library.CreateClip(r.PublicID, src.StreamID, livestream.AssetClip{Source: r.Source, Start: start, RequestedStart: r.Start, End: r.End})
	if err != nil {
		return livestream.Asset{}, err
	}
	c.background(f, a)
	return a, nil
}

// checkRange refuses a range the recording does not have.
func checkRange(start, end, length time.Duration) error {
	switch {
	case start < 0:
		return &livestream.ValidationError{Field: "start", Message: "must be 0 or more seconds"}
	case end <= start:
		return &livestream.ValidationError{Field: "end", Message: "must be after start"}
	case end-start > MaxLength:
		return &livestream.ValidationError{Field: "end", Message: "a clip is at most a day long"}
	case start >= length:
		return &livestream.ValidationError{Field: "start", Message: fmt.Sprintf("is beyond the recording's length (%.3f s)", length.Seconds())}
	case end > length+time.Millisecond:
		return &livestream.ValidationError{Field: "end", Message: fmt.Sprintf("is beyond the recording's length (%.3f s)", length.Seconds())}
	}
	return nil
}

func (c *Cutter) background(f *os.File, a livestream.Asset) {
	c.wg.Go(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.ctx.Err() != nil {
			f.Close() // cut again at the next start
			return
		}
		a, err := cut(c.ctx, f, a, c.Library)
		if c.ctx.Err() != nil {
			return // stopped: the clip stays processing
		}
		if err != nil {
			c.fail(a, err)
			return
		}
		a.Status, a.Ended = livestream.AssetReady, time.Now()
		if err := c.Library.Finish(a); err != nil {
			c.log().Warn("indexing a clip", "asset", a.PublicID, "error", err)
			return
		}
		c.log().Info("clip ready", "asset", a.PublicID, "duration", a.Duration.Round(time.Millisecond))
	})
}

func (c *Cutter) fail(a livestream.Asset, err error) {
	c.log().Warn("cutting a clip failed", "asset", a.PublicID, "error", err)
	a.Status, a.Error, a.Ended = livestream.AssetDamaged, err.Error(), time.Now()
	if err := c.Library.Finish(a); err != nil {
		c.log().Warn("indexing a clip that failed", "asset", a.PublicID, "error", err)
	}
}

func (c *Cutter) log() *slog.Logger { return cmp.Or(c.Logger, slog.Default()) }

// source is a recording opened for cutting.
type source struct {
	f     *os.File
	info  *mp4frag.FileInfo
	video []mp4frag.SampleRef
	audio []mp4frag.SampleRef
}

func open(path string) (*source, error) {
	f, info, err := mp4frag.Open(path)
	if err != nil {
		return nil, err
	}
	return &source{f: f, info: info, video: info.Samples(media.KindVideo), audio: info.Samples(media.KindAudio)}, nil
}

// first is the index of the video key frame shown at or before at (the
// first key frame when none is), or -1 without video.
func (s *source) first(at time.Duration) int {
	k := -1
	for i, v := range s.video { // B-frames: times are not in order, read them all
		if v.Key && (k < 0 || v.PTS <= at) {
			k = i
		}
	}
	return k
}

// keyStart is where a clip asked to start at really starts.
func keyStart(path string, at time.Duration) (time.Duration, error) {
	s, err := open(path)
	if err != nil {
		return 0, err
	}
	defer s.f.Close()
	if k := s.first(at); k >= 0 {
		return s.video[k].PTS, nil
	}
	return at, nil
}

// cut writes the clip into f and closes it; the asset's figures are set.
func cut(ctx context.Context, f *os.File, a livestream.Asset, lib Library) (livestream.Asset, error) {
	path, err := lib.Path(a.Clip.Source)
	if err != nil {
		f.Close()
		return a, err
	}
	s, err := open(path)
	if err != nil {
		f.Close()
		return a, err
	}
	defer s.f.Close()
	units := s.units(a.Clip.RequestedStart, a.Clip.End)
	if len(units) == 0 {
		f.Close()
		return a, errors.New("the range holds no media")
	}
	w, err := mp4frag.NewWriter(f, s.info.Tracks, units[0].Unit, minFrag, maxFrag)
	if err != nil {
		f.Close()
		return a, err
	}
	for _, u := range units {
		if ctx.Err() != nil {
			f.Close()
			return a, ctx.Err()
		}
		if err := s.load(u); err != nil {
			return a, errors.Join(err, w.Finish(true))
		}
		if _, err := w.Write(u.Unit); err != nil {
			return a, errors.Join(err, w.Finish(true))
		}
		u.drop()
	}
	if err := w.Finish(false); err != nil {
		return a, err
	}
	in := w.Init()
	a.Duration, a.Bytes, a.Codecs, a.Width, a.Height = w.Duration(), w.Size(), in.Codecs, in.Width, in.Height
	return a, nil
}

// unit is a sample to copy, read from the file when its turn comes.
type unit struct {
	*media.Unit
	ref mp4frag.SampleRef
}

func (u *unit) drop() { u.NALUs, u.Frame = nil, nil }

// units are the samples of the clip from the key frame at or before start
// to end, video and audio in the order of their decoding times. Audio
// starts with the first video picture shown.
func (s *source) units(start, end time.Duration) []*unit {
	var out []*unit
	from := start
	if k := s.first(start); k >= 0 {
		from = s.video[k].PTS
		for _, v := range s.video[k:] {
			if v.DTS >= end {
				break
			}
			out = append(out, &unit{Unit: &media.Unit{Kind: media.KindVideo, DTS: v.DTS, PTS: v.PTS, Key: v.Key}, ref: v})
		}
	}
	for _, v := range s.audio {
		if v.PTS >= from && v.PTS < end {
			out = append(out, &unit{Unit: &media.Unit{Kind: media.KindAudio, DTS: v.DTS, PTS: v.PTS, Key: true}, ref: v})
		}
	}
	// The file's zero is its first unit's time: video first at equal times.
	slices.SortStableFunc(out, func(a, b *unit) int { return cmp.Compare(a.DTS, b.DTS) })
	return out
}

// load reads a unit's media from the source.
func (s *source) load(u *unit) error {
	b, err := mp4frag.ReadSample(s.f, u.ref)
	if err != nil {
		return err
	}
	if u.Kind == media.KindAudio || s.info.Tracks.Video.Codec == media.AV1 {
		u.Frame = b
		return nil
	}
	var n h264.AVCC // H.265 samples are length-prefixed the same way
	if err := n.Unmarshal(b); err != nil {
		return fmt.Errorf("reading a picture of the recording: %w", err)
	}
	u.NALUs = n
	return nil
}
