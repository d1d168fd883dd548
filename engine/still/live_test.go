package still

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png" // ffmpeg's picture of the pattern
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/mediatest/clipunits"
	"github.com/onair-studio/onair/engine/picture"
)

func realDecoder() (Decoder, error) { return picture.NewDecoder() }

// cells is the mean colour of each of a 4×4 grid over the picture: the
// test pattern's bars and gradients differ from cell to cell, so swapped
// channels or a shifted picture show where the whole picture's mean would
// not.
type cells [16][3]float64

func meanColours(img image.Image) (c cells) {
	b := img.Bounds()
	var n [16]float64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			i := 4*((y-b.Min.Y)*4/b.Dy()) + (x-b.Min.X)*4/b.Dx()
			r, g, bl, _ := img.At(x, y).RGBA()
			c[i][0] += float64(r >> 8)
			c[i][1] += float64(g >> 8)
			c[i][2] += float64(bl >> 8)
			n[i]++
		}
	}
	for i := range c {
		for k := range 3 {
			c[i][k] /= n[i]
		}
	}
	return c
}

// patternMean is the mean colour of ffmpeg's own testsrc2 picture at a
// time: what the clips are encoded from.
func patternMean(t *testing.T, w, h int, at time.Duration) cells {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
		fmt.Sprintf("testsrc2=size=%dx%d:rate=30", w, h), "-ss", fmt.Sprintf("%.3f", at.Seconds()),
		"-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg drawing the test pattern: %v", err)
	}
	img, _, err := image.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return meanColours(img)
}

// closeTo reports whether two grids' colours differ by at most tol in
// any channel of any cell.
func closeTo(a, b cells, tol float64) bool {
	for i := range a {
		for k := range 3 {
			if d := a[i][k] - b[i][k]; d > tol || d < -tol {
				return false
			}
		}
	}
	return true
}

// A live key frame becomes a JPEG of the stream's size and colours, at the
// width asked, decoded once however many ask at once.
func TestThumbnailOfAKeyFrame(t *testing.T) {
	_, units := clipunits.Units(t, mediatest.Small)
	var keys []*media.Unit
	for _, u := range units {
		if u.Kind == media.KindVideo && u.Key {
			keys = append(keys, u)
		}
	}
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
	got, want := meanColours(img), patternMean(t, 640, 360, keys[1].PTS)
	if !closeTo(got, want, 16) { // the pattern's moving parts, and JPEG
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
