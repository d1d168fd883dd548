package still

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"image/jpeg"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/media/mp4frag"
)

// ErrTime tells that a picture was asked at a time the recording does not
// have.
var ErrTime = errors.New("the time is outside the recording")

// posterAt is how far into a recording its poster is taken (or half way
// through a shorter one): past the first seconds, which are often black.
const posterAt = 3 * time.Second

// maxDecoded bounds the access units decoded for one picture (from the key
// frame before the time asked): ten seconds at 60 frames a second.
const maxDecoded = 600

// Posters are recordings' pictures: one kept per recording (made when it
// is ready, or at the first request), others decoded from the file at the
// time asked.
type Posters struct {
	// Folder keeps the posters, a JPEG per recording. Required.
	Folder string
	// File returns the path of a recording's file; an error when the
	// recording is unknown or its file is not on this computer.
	File func(publicID string) (string, error)
	// NewDecoder makes the H.264 decoder. Required.
	NewDecoder NewDecoder
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	once  sync.Once
	slots chan struct{} // decodes at once: the computer's media comes first

	mu      sync.Mutex
	closed  bool
	running sync.WaitGroup // posters made in the background
}

// decoding is how many pictures of recordings are decoded at once.
const decoding = 2

func (p *Posters) path(publicID string) string {
	return filepath.Join(p.Folder, publicID+".jpg")
}

// Poster returns the recording's kept poster, width pixels wide (0: as
// kept, the video's size); it is made first when there is none.
func (p *Posters) Poster(publicID string, width int) ([]byte, error) {
	b, err := os.ReadFile(p.path(publicID))
	if errors.Is(err, fs.ErrNotExist) {
		b, err = p.Make(publicID)
	}
	if err != nil {
		return nil, err
	}
	if width == 0 {
		return b, nil
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("reading the poster of %s: %w", publicID, err)
	}
	return encode(img, width)
}

// Make makes the recording's poster and keeps it.
func (p *Posters) Make(publicID string) ([]byte, error) {
	b, err := p.at(publicID, -1, 0)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(p.Folder, 0o700); err != nil {
		return nil, fmt.Errorf("making the posters folder: %w", err)
	}
	// A file of its own, renamed into place: a request and the library's
	// event may make the same poster at once.
	f, err := os.CreateTemp(p.Folder, publicID+".*.part")
	if err != nil {
		return nil, fmt.Errorf("keeping the poster of %s: %w", publicID, err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p.path(publicID))
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("keeping the poster of %s: %w", publicID, err)
	}
	return b, nil
}

// At returns the recording's picture at a time from its start (the last
// picture shown at or before it), width pixels wide (0: the video's size).
func (p *Posters) At(publicID string, at time.Duration, width int) ([]byte, error) {
	if at < 0 {
		return nil, fmt.Errorf("%w: the time is negative", ErrTime)
	}
	return p.at(publicID, at, width)
}

// at decodes the picture at a time (negative: the poster's time).
func (p *Posters) at(publicID string, at time.Duration, width int) ([]byte, error) {
	path, err := p.File(publicID)
	if err != nil {
		return nil, err
	}
	p.once.Do(func() { p.slots = make(chan struct{}, decoding) })
	p.slots <- struct{}{}
	defer func() { <-p.slots }()
	f, info, err := mp4frag.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", publicID, err)
	}
	defer f.Close()
	if err := checkCodec(&info.Tracks); err != nil {
		return nil, err
	}
	samples := info.Samples(media.KindVideo)
	if len(samples) == 0 {
		return nil, ErrNoPicture
	}
	if at < 0 {
		at = min(posterAt, info.Duration/2)
	}
	if at > info.Duration {
		return nil, fmt.Errorf("%w: it is %.3f s long", ErrTime, info.Duration.Seconds())
	}
	last := 0 // the last sample decoded before the time
	for i, s := range samples {
		if s.DTS > at {
			break
		}
		last = i
	}
	first := last
	for first > 0 && !samples[first].Key {
		first--
	}
	first = max(first, last-maxDecoded)
	aus := make([][]byte, 0, last-first+1)
	for _, s := range samples[first : last+1] {
		b, err := mp4frag.ReadSample(f, s)
		if err != nil {
			return nil, err
		}
		var nalus h264.AVCC
		if err := nalus.Unmarshal(b); err != nil {
			return nil, fmt.Errorf("reading a picture of %s: %w", publicID, err)
		}
		au, err := annexB(info.Tracks.Video, nalus)
		if err != nil {
			return nil, err
		}
		aus = append(aus, au)
	}
	img, err := decodeLast(p.NewDecoder, aus)
	if err != nil {
		return nil, fmt.Errorf("decoding a picture of %s: %w", publicID, err)
	}
	return encode(img, width)
}

// Remove deletes a recording's poster.
func (p *Posters) Remove(publicID string) {
	if err := os.Remove(p.path(publicID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		p.logger().Warn("deleting a recording's poster failed", "asset", publicID, "error", err)
	}
}

// OnEvent follows the library: a recording that is ready gets its poster
// (in the background), a deleted one loses it.
func (p *Posters) OnEvent(ev livestream.Event) {
	switch {
	case ev.Asset == nil:
	case ev.Type == livestream.EventAssetReady && ev.Asset.Status == livestream.AssetReady:
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.closed {
			return // made at its first request next time
		}
		p.running.Go(func() {
			if _, err := p.Make(ev.Asset.PublicID); err != nil && !errors.Is(err, ErrCodec) {
				p.logger().Warn("making a recording's poster failed", "asset", ev.Asset.PublicID, "error", err)
			}
		})
	case ev.Type == livestream.EventAssetDeleted:
		p.Remove(ev.Asset.PublicID)
	}
}

// Close waits for the posters being made in the background; the library's
// later events make none (a missing poster is made at its first request).
func (p *Posters) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.running.Wait()
}

func (p *Posters) logger() *slog.Logger { return cmp.Or(p.Logger, slog.Default()) }
