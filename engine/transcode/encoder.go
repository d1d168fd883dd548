package transcode

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"time"
)

// Encoder is an H.264 encoder FFmpeg offers and how it is run.
type Encoder struct {
	// Name is FFmpeg's name of it, e.g. libx264 or h264_nvenc.
	Name string
	// Input are options before the input (a device to open).
	Input []string
	// Filter goes before each rendition's scaling, e.g. "format=nv12,hwupload,"
	// (ending with a comma).
	Filter string
	// Options follow -c:v.
	Options []string
}

// Software is libx264, fast and without delay: what every FFmpeg has.
// Key frames come only where the source has them (no scene cuts, a long
// interval of its own), B-frames never.
func Software() Encoder {
	return Encoder{Name: "libx264", Options: []string{"-preset", "veryfast", "-tune", "zerolatency", "-bf", "0", "-sc_threshold", "0", "-g", "1000"}}
}

// hardware are the hardware H.264 encoders tried, in order, and how each
// is run: NVIDIA, Intel (Quick Sync), VA-API (Intel and AMD on Linux),
// Apple, AMD (Windows).
func hardware() []Encoder {
	return []Encoder{
		{Name: "h264_nvenc", Options: []string{"-preset", "p3", "-tune", "ll", "-bf", "0", "-g", "1000"}},
		{Name: "h264_qsv", Options: []string{"-preset", "veryfast", "-bf", "0", "-g", "1000"}},
		{Name: "h264_vaapi", Input: []string{"-vaapi_device", "/dev/dri/renderD128"}, Filter: "format=nv12,hwupload,",
			Options: []string{"-bf", "0", "-g", "1000"}},
		{Name: "h264_videotoolbox", Options: []string{"-realtime", "1", "-bf", "0", "-g", "1000"}},
		{Name: "h264_amf", Options: []string{"-usage", "lowlatency", "-bf", "0", "-g", "1000"}},
	}
}

// Choice is the encoder the renditions use and why.
type Choice struct {
	Encoder Encoder
	// Why says what was tried: the hardware encoder that worked, or why
	// none did.
	Why string
}

// Probe finds the encoder for renditions: the first hardware encoder
// that FFmpeg at bin offers and that encodes a second of a test picture
// here, else libx264. Each try is bounded to 10 s.
func Probe(ctx context.Context, bin string) Choice {
	out, err := exec.CommandContext(ctx, bin, "-hide_banner", "-encoders").Output()
	if err != nil {
		return Choice{Encoder: Software(), Why: "libx264 (software): FFmpeg did not list its encoders: " + err.Error()}
	}
	var tried []string
	for _, e := range hardware() {
		if !bytes.Contains(out, []byte(" "+e.Name+" ")) {
			continue
		}
		if err := try(ctx, bin, e); err != nil {
			tried = append(tried, e.Name+": "+err.Error())
			continue
		}
		return Choice{Encoder: e, Why: e.Name + " (hardware): it encoded a test second on this computer"}
	}
	if len(tried) == 0 {
		return Choice{Encoder: Software(), Why: "libx264 (software): this FFmpeg has no hardware H.264 encoder"}
	}
	return Choice{Encoder: Software(), Why: "libx264 (software): no hardware encoder works here (" + strings.Join(tried, "; ") + ")"}
}

// try encodes one second of a test picture with e.
func try(ctx context.Context, bin string, e Encoder) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	args := append([]string{"-hide_banner", "-loglevel", "error", "-nostats"}, e.Input...)
	args = append(args, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-t", "1",
		"-vf", e.Filter+"scale=-2:240", "-c:v", e.Name)
	args = append(args, e.Options...)
	args = append(args, "-f", "null", "-")
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if lines := strings.Split(strings.TrimSpace(stderr.String()), "\n"); lines[0] != "" {
			line := lines[0]
			if strings.HasPrefix(line, "[") { // FFmpeg's "[h264_nvenc @ 0x5563…] " before its words
				if i := strings.Index(line, "] "); i > 0 {
					line = line[i+2:]
				}
			}
			return errors.New(strings.TrimSpace(line))
		}
		return err
	}
	return nil
}
