package main

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

// xev's MapNotify lines as it prints them on Debian 12 (x11-utils 7.7).
func TestMappedWindow(t *testing.T) {
	for _, c := range []struct {
		line, want string
		ok         bool
	}{
		{"    event 0x50d, window 0x600020, override NO", "0x600020", true},
		{"    event 0x50d, window 0x1a00003, override YES", "0x1a00003", true},
		{"    parent 0x50d, window 0x600001, (0,0), width 1, height 1", "0x600001", true},
		{"MapNotify event, serial 18, synthetic NO, window 0x50d,", "0x50d", true},
		{"    event 0x50d, override NO", "", false},
		{"", "", false},
	} {
		got, ok := mappedWindow(c.line)
		if got != c.want || ok != c.ok {
			t.Errorf("mappedWindow(%q) = %q, %v; want %q, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}

// The window scenario's clock is the X server's own word that a window was
// mapped (no polling), and only the started program's window counts: on a
// virtual screen of its own, a program's window is seen mapped, and its
// owner checked by _NET_WM_PID.
func TestWatchMapsTimesTheStartedWindow(t *testing.T) {
	for _, tool := range []string{"xev", "xprop"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing (apt-get install x11-utils): %v", tool, err)
		}
	}
	display, _ := mediatest.Xvfb(t, "640x480x24")
	t.Setenv("DISPLAY", display)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	maps, err := watchMaps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer maps.close()
	// xev without -root is a program with a window of its own (and no
	// _NET_WM_PID).
	prog := exec.Command("xev", "-name", "onair-load test")
	start := time.Now()
	if err := prog.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { prog.Process.Kill(); prog.Wait() }()
	var m mapped
	select {
	case m = <-maps.maps:
	case <-time.After(10 * time.Second):
		t.Fatal("no window seen mapped within 10 s")
	}
	if d := m.at.Sub(start); d <= 0 || d > 10*time.Second {
		t.Fatalf("the window was seen mapped %v after the start", d)
	}
	out, err := exec.Command("xprop", "-id", m.window, "WM_NAME").Output()
	if err != nil || !strings.Contains(string(out), "onair-load test") {
		t.Fatalf("the window seen (%s) is not the program's: %s %v", m.window, out, err)
	}
	pid := prog.Process.Pid
	if err := m.ownedBy(ctx, pid); err == nil {
		t.Fatal("a window without _NET_WM_PID was taken as the program's")
	}
	if out, err := exec.Command("xprop", "-id", m.window, "-f", "_NET_WM_PID", "32c", "-set", "_NET_WM_PID", strconv.Itoa(pid)).CombinedOutput(); err != nil {
		t.Fatalf("setting _NET_WM_PID: %v %s", err, out)
	}
	if err := m.ownedBy(ctx, pid); err != nil {
		t.Fatalf("the program's own window: %v", err)
	}
	if err := m.ownedBy(ctx, pid+1); err == nil {
		t.Fatal("the window was taken as another process's")
	}
}
