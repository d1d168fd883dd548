package studio

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/onair-studio/onair/engine/clip"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/picture"
	"github.com/onair-studio/onair/engine/still"
)

// CodecDir is where Cisco's OpenH264 is kept once fetched (the window
// offers the download where the system has no package of it).
func (s *Studio) CodecDir() string { return filepath.Join(s.cfg.DataDir, "openh264") }

// newDecoder makes an H.264 decoder with the system's OpenH264, or Cisco's
// build when it was fetched before.
func (s *Studio) newDecoder() (still.Decoder, error) {
	if err := picture.LoadDecoder(); err != nil {
		d, ok := picture.CiscoBuild()
		if !ok || picture.LoadFetched(d, s.CodecDir()) != nil {
			return nil, err
		}
	}
	return picture.NewDecoder()
}

// startStills makes the pictures of live streams and recordings: posters
// follow the library (made when a recording is ready, removed with it).
func (s *Studio) startStills() error {
	s.thumbs = &still.Thumbnails{NewDecoder: s.newDecoder}
	s.posters = &still.Posters{Folder: filepath.Join(s.cfg.DataDir, "posters"), File: s.library.Path,
		NewDecoder: s.newDecoder, Logger: s.log.With("component", "posters")}
	return nil
}

// Thumbnail is a JPEG of an active stream's newest key frame (api.Stills).
func (s *Studio) Thumbnail(id string, width int) ([]byte, error) {
	key, live, err := s.engine.LastKey(id)
	switch {
	case err != nil:
		return nil, err
	case !live:
		return nil, fmt.Errorf("%w: live stream %s is idle; its picture is made while it is active", livestream.ErrConflict, id)
	case key == nil:
		return nil, fmt.Errorf("%w: no key frame of live stream %s came yet", still.ErrNoPicture, id)
	}
	return s.thumbs.Get(id, key, width)
}

// Poster is a JPEG of a recording: its poster (at < 0) or its picture at a
// time (api.Stills).
func (s *Studio) Poster(publicID string, at time.Duration, width int) ([]byte, error) {
	if _, err := s.library.Get(publicID); err != nil {
		return nil, err
	}
	if at < 0 {
		return s.posters.Poster(publicID, width)
	}
	return s.posters.At(publicID, at, width)
}

// ThumbnailDecodes counts the key frames decoded for thumbnails.
func (s *Studio) ThumbnailDecodes() uint64 { return s.thumbs.Decodes() }

// Clip cuts a clip out of a recording (api.Clips): checked and indexed at
// once, cut in the background.
func (s *Studio) Clip(source string, start, end time.Duration, publicID string) (livestream.Asset, error) {
	return s.cutter.Clip(clip.Request{Source: source, Start: start, End: end, PublicID: publicID})
}
