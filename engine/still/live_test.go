package still

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"sync"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/mediatest/clipunits"
	"github.com/onair-studio/onair/engine/picture"
)

func realDecoder() (Decoder, error) { return picture.NewDecoder() }

// keyFrames are the video key frames of a clip, as ingest makes them.
func keyFrames(t testing.TB, c mediatest.Clip) []*media.Unit {
	t.Helper()
	_, units := clipunits.Units(t, c)
	var keys []*media.Unit
	for _, u := range units {
		if u.Kind == media.KindVideo && u.Key {
			keys = append(keys, u)
		}
	}
	return keys
}

// A live key frame becomes a JPEG of the stream's size and colours, at the
// width asked, decoded once however many ask at once.
func TestThumbnailOfAKeyFrame(t *testing.T) {
	keys := keyFrames(t, mediatest.Small)
	if len(keys) < 2 {
		t.Fatalf("the clip has %d key frames", len(keys))
	}
	th := &Thumbnails{NewDecoder: realDecoder}
	b, err := th.Get("s1", keys[1], 0)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the thumbnail is not a JPEG: %v", err)
	}
	if img.Bounds().Dx() != 640 || img.Bounds().Dy() != 360 {
		t.Fatalf("thumbnail of %v, want 640x360", img.Bounds())
	}
	got, want := mediatest.MeanCells(img), mediatest.PatternCells(t, 640, 360, keys[1].PTS)
	if !got.Close(want, 16) { // the pattern's moving parts, and JPEG
		t.Fatalf("colours of a 4×4 grid\n%.0f\nthe pattern's\n%.0f", got, want)
	}

	var wg sync.WaitGroup
	sizes := make([]image.Point, 100)
	errs := make([]error, 100)
	for i := range 100 {
		wg.Go(func() {
			b, err := th.Get("s1", keys[1], 160)
			if err == nil {
				var c image.Config
				c, err = jpeg.DecodeConfig(bytes.NewReader(b))
				sizes[i] = image.Pt(c.Width, c.Height)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i := range 100 {
		if errs[i] != nil || sizes[i] != image.Pt(160, 90) {
			t.Fatalf("request %d: %v, %v", i, sizes[i], errs[i])
		}
	}
	if n := th.Decodes(); n != 2 {
		t.Fatalf("%d decodes for two sizes of one key frame", n)
	}
	if _, err := th.Get("s1", keys[0], 160); err != nil || th.Decodes() != 3 {
		t.Fatalf("another key frame: %v, %d decodes", err, th.Decodes())
	}

	hevc := *keys[1]
	hevc.Tracks = &media.Tracks{Video: &media.VideoParams{Codec: media.H265}}
	if _, err := th.Get("s2", &hevc, 0); !errors.Is(err, ErrCodec) {
		t.Fatalf("an H.265 key frame: %v", err)
	}
	if _, err := th.Get("s2", nil, 0); !errors.Is(err, ErrNoPicture) {
		t.Fatalf("no key frame yet: %v", err)
	}
}

// The pictures of a stream whose newest key frame is a minute old are let
// go when another stream's picture is asked for.
func TestThumbnailsLetIdleStreamsGo(t *testing.T) {
	key := keyFrames(t, mediatest.Small)[0]
	th := &Thumbnails{NewDecoder: realDecoder}
	old, fresh := *key, *key
	old.Received = time.Now().Add(-2 * time.Minute)
	fresh.Received = time.Now()
	for _, id := range []string{"idle", "live"} {
		k := &fresh
		if id == "idle" {
			k = &old
		}
		if _, err := th.Get(id, k, 32); err != nil {
			t.Fatal(err)
		}
	}
	th.mu.Lock()
	_, idleKept := th.streams["idle"]
	_, liveKept := th.streams["live"]
	th.mu.Unlock()
	if idleKept || !liveKept {
		t.Fatalf("kept: idle %v, live %v", idleKept, liveKept)
	}
}
