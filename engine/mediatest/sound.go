package mediatest

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

// AACFrames encodes lavfi source src (e.g. "sine=frequency=440:duration=3")
// to mono 48 kHz AAC-LC with ffmpeg and returns its frames.
func AACFrames(t testing.TB, src string) [][]byte {
	t.Helper()
	RequireTools(t)
	out := filepath.Join(t.TempDir(), "a.aac")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", src,
		"-c:a", "aac", "-b:a", "96k", "-ac", "1", "-ar", "48000", "-f", "adts", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("encoding %s: %v %s", src, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var pkts mpeg4audio.ADTSPackets
	if err := pkts.Unmarshal(b); err != nil {
		t.Fatalf("reading the ADTS ffmpeg wrote: %v", err)
	}
	frames := make([][]byte, len(pkts))
	for i, p := range pkts {
		frames[i] = p.AU
	}
	return frames
}

// DecodeOpusRTP writes Opus RTP packets (48 kHz) into an Ogg file with
// pion's writer, decodes it with ffmpeg and returns mono 48 kHz samples.
func DecodeOpusRTP(t testing.TB, pkts []*rtp.Packet) []int16 {
	t.Helper()
	dir := t.TempDir()
	ogg := filepath.Join(dir, "a.ogg")
	w, err := oggwriter.New(ogg, 48000, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if err := w.WriteRTP(p); err != nil {
			t.Fatalf("writing Opus into Ogg: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pcm := filepath.Join(dir, "a.pcm")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", ogg, "-f", "s16le", "-ac", "1", "-ar", "48000", pcm)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("decoding the Opus received: %v %s", err, b)
	}
	b, err := os.ReadFile(pcm)
	if err != nil {
		t.Fatal(err)
	}
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

// ToneHz is the frequency of a steady tone in samples at rate, from its
// upward zero crossings (the first and last tenth left out: the encoder's
// start and end); 0 when there is no tone.
func ToneHz(samples []int16, rate int) float64 {
	s := samples[len(samples)/10 : len(samples)-len(samples)/10]
	first, last, n := -1, -1, 0
	for i := 1; i < len(s); i++ {
		if s[i-1] < 0 && s[i] >= 0 {
			if first < 0 {
				first = i
			}
			last = i
			n++
		}
	}
	if n < 2 {
		return 0
	}
	return float64(n-1) * float64(rate) / float64(last-first)
}

// ChildFFmpegs are this process's FFmpeg children (Linux /proc).
func ChildFFmpegs(t testing.TB) []int { return FFmpegsOf(t, os.Getpid(), "") }

// FFmpegsOf are the FFmpeg children of process ppid whose command line
// contains arg ("": any), living (Linux /proc).
func FFmpegsOf(t testing.TB, ppid int, arg string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc here")
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || !strings.Contains(s[:i], "(ffmpeg") {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) < 2 || fields[0] == "Z" || fields[1] != strconv.Itoa(ppid) {
			continue
		}
		if arg != "" {
			cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if !strings.Contains(string(cmdline), arg) {
				continue
			}
		}
		pids = append(pids, pid)
	}
	return pids
}
