package ffmpeg

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestLocate(t *testing.T) {
	_, err := Locate("/nonexistent/ffmpeg")
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "sudo apt install ffmpeg") {
		t.Errorf("a missing FFmpeg: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 5 * time.Second}
	var got []time.Duration
	for range 5 {
		got = append(got, b.Next())
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits %v; want %v", got, want)
		}
	}
	b.Reset()
	if d := b.Next(); d != time.Second {
		t.Errorf("after Reset: %v", d)
	}
}

// A child that fails says why with FFmpeg's last line; one that works
// passes its input through.
func TestChild(t *testing.T) {
	bin, err := Locate("")
	if err != nil {
		t.Skip(err)
	}
	c, err := Start(context.Background(), bin, "-hide_banner", "-f", "nosuchformat", "-i", "pipe:0", "-f", "null", "-")
	if err != nil {
		t.Fatal(err)
	}
	_ = c.CloseInput()
	defer c.Close()
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "nosuchformat") {
		t.Errorf("a failing FFmpeg ended with %v; want its last line naming the format", err)
	}
	c, err = Start(context.Background(), bin, "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", "8000", "-ac", "1", "-i", "pipe:0", "-f", "s16le", "pipe:1")
	if err != nil {
		t.Fatal(err)
	}
	in := make([]byte, 16000) // one second of silence
	go func() { _, _ = c.Stdin().Write(in); _ = c.CloseInput() }()
	time.Sleep(200 * time.Millisecond) // the child ends before everything is read
	out, _ := io.ReadAll(c.Stdout())
	_ = c.Close()
	if err := c.Err(); err != nil || len(out) != len(in) {
		t.Errorf("passing PCM through: %d bytes out of %d, %v", len(out), len(in), err)
	}
}

// The pacer hands out slots Every apart, from now on.
func TestPacer(t *testing.T) {
	p := &Pacer{Every: 100 * time.Millisecond}
	t0 := time.Now()
	for i := range 5 {
		if got, want := p.Slot(t0), t0.Add(time.Duration(i)*100*time.Millisecond); !got.Equal(want) {
			t.Errorf("slot %d: %v after t0; want %v", i, got.Sub(t0), want.Sub(t0))
		}
	}
	later := t0.Add(10 * time.Second)
	if got := p.Slot(later); !got.Equal(later) {
		t.Errorf("after a quiet time the slot is %v after the call; want at once", got.Sub(later))
	}
}
