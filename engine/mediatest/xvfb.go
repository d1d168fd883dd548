package mediatest

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Xvfb starts a virtual screen (screen as Xvfb takes it, e.g. 1280x800x24)
// for one test on a display it chooses itself (-displayfd), so tests
// running at once never race for one, and waits until it answers. It
// returns the DISPLAY and a stop, also called when the test ends.
func Xvfb(t testing.TB, screen string) (display string, stop func()) {
	t.Helper()
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Fatalf("this test needs Xvfb (apt-get install xvfb): %v", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// -noreset: an X server resets itself when its last client leaves,
	// refusing clients meanwhile; the socket check below is such a client.
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", screen, "-nolisten", "tcp", "-noreset")
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		r.Close()
		w.Close()
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			x.Process.Signal(syscall.SIGTERM) // Xvfb removes its socket
			x.Wait()
			// Open until now: Xvfb may write the display's number and its
			// newline apart, and a write to a closed pipe is fatal to it.
			r.Close()
		})
	}
	t.Cleanup(stop)
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	var d string
	select {
	case d = <-got:
	case <-time.After(15 * time.Second):
		t.Fatal("Xvfb did not start within 15 s")
	}
	if d == "" {
		t.Fatal("Xvfb did not say its display")
	}
	// It says so before it answers clients: wait for its socket.
	for i := 0; ; i++ {
		c, err := net.Dial("unix", "/tmp/.X11-unix/X"+d)
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("Xvfb's display :%s does not answer: %v", d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ":" + d, stop
}
