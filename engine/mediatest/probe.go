package mediatest

import (
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Probe is what ffprobe reads in a media file.
type Probe struct {
	Duration float64
	Streams  []ProbeStream
}

// ProbeStream is one stream of a probed file.
type ProbeStream struct {
	Codec  string
	Width  int
	Height int
}

// Codecs returns the streams' codec names in order.
func (p Probe) Codecs() []string {
	var c []string
	for _, s := range p.Streams {
		c = append(c, s.Codec)
	}
	return c
}

// ProbeFile runs ffprobe on path (a file or URL).
func ProbeFile(t testing.TB, path string) Probe {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries",
		"format=duration:stream=codec_name,width,height", "-of", "json", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", path, err, out)
	}
	var v struct {
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
		Streams []struct {
			Codec  string `json:"codec_name"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("ffprobe output: %v: %s", err, out)
	}
	p := Probe{}
	p.Duration, _ = strconv.ParseFloat(v.Format.Duration, 64)
	for _, s := range v.Streams {
		p.Streams = append(p.Streams, ProbeStream{Codec: s.Codec, Width: s.Width, Height: s.Height})
	}
	return p
}

// DecodeErrors decodes every frame of path with ffmpeg and returns what it
// reported as errors (empty: the file decodes cleanly).
func DecodeErrors(t testing.TB, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil && len(out) == 0 {
		return err.Error()
	}
	return string(out)
}

// PacketTimes returns the presentation times, in seconds, of the packets of
// the first stream of kind ("v" or "a") in path, in file order.
func PacketTimes(t testing.TB, path, kind string) []float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", kind+":0",
		"-show_entries", "packet=dts_time", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe packets of %s: %v", path, err)
	}
	var ts []float64
	for f := range strings.FieldsSeq(string(out)) {
		if v, err := strconv.ParseFloat(f, 64); err == nil {
			ts = append(ts, v)
		}
	}
	return ts
}

// VideoSize is the first video stream's size (zeros without one).
func (p Probe) VideoSize() (width, height int) {
	for _, s := range p.Streams {
		if s.Width > 0 {
			return s.Width, s.Height
		}
	}
	return 0, 0
}
