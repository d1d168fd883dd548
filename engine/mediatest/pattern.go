package mediatest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/png" // ffmpeg's picture of the pattern
	"os/exec"
	"testing"
	"time"
)

// Cells are the mean colours (red, green, blue, 0–255) of a 4×4 grid over
// a picture: the clips' test pattern (testsrc2) has bars and gradients
// that differ from cell to cell, so swapped channels, a shifted picture or
// the wrong moment show where the whole picture's mean would not.
type Cells [16][3]float64

// MeanCells measures img's grid.
func MeanCells(img image.Image) (c Cells) {
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

// Close reports whether two grids differ by at most tol in every channel
// of every cell.
func (c Cells) Close(o Cells, tol float64) bool {
	for i := range c {
		for k := range 3 {
			if d := c[i][k] - o[i][k]; d > tol || d < -tol {
				return false
			}
		}
	}
	return true
}

// PatternCells is the grid of ffmpeg's own test pattern (what the clips
// are encoded from) at a time, at a size.
func PatternCells(t testing.TB, w, h int, at time.Duration) Cells {
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
		t.Fatalf("reading ffmpeg's picture of the test pattern: %v", err)
	}
	return MeanCells(img)
}
