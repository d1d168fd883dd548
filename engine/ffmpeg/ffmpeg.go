// Package ffmpeg runs FFmpeg as a child process for the media work the
// studio leaves to it (decoding the sound that comes in, for the meters):
// the program found where the settings say or on the PATH, its standard
// input and output the caller's, the last line of its standard error kept
// as the reason it ended, and a backoff for starting it again.
package ffmpeg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// ErrMissing is returned by Locate when there is no FFmpeg to run.
var ErrMissing = errors.New("FFmpeg is not installed: install it (Debian and Ubuntu: sudo apt install ffmpeg; " +
	"macOS: brew install ffmpeg; Windows: winget install Gyan.FFmpeg) or give its path with --ffmpeg")

// Locate returns the FFmpeg to run: path when it is set (a file, or a name
// looked up on the PATH), else "ffmpeg" on the PATH.
func Locate(path string) (string, error) {
	if path == "" {
		path = "ffmpeg"
	}
	p, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("finding FFmpeg (%s): %w", path, ErrMissing)
	}
	return p, nil
}

// Child is one running FFmpeg.
type Child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	tail   tailWriter
	done   chan struct{}
	err    error
}

// Start runs bin with args. The child ends when ctx does (it is killed),
// when its input is closed and it has finished, or by Kill.
func Start(ctx context.Context, bin string, args ...string) (*Child, error) {
	c := &Child{done: make(chan struct{})}
	c.cmd = exec.CommandContext(ctx, bin, args...)
	c.cmd.Stderr = &c.tail
	c.cmd.WaitDelay = 2 * time.Second // a child that keeps its pipes open is not waited for longer
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("starting FFmpeg: %w", err)
	}
	// Standard output through a pipe of our own, not StdoutPipe: Wait
	// (below, as soon as the child ends) would close that one under a
	// reader that has not read everything yet.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("starting FFmpeg: %w", err)
	}
	c.cmd.Stdout, c.stdout = pw, pr
	err = c.cmd.Start()
	pw.Close() // the child has its copy
	if err != nil {
		pr.Close()
		return nil, fmt.Errorf("starting FFmpeg (%s): %w", bin, err)
	}
	go func() {
		err := c.cmd.Wait()
		if err != nil {
			if line := c.tail.last(); line != "" {
				err = fmt.Errorf("%w: %s", err, line)
			}
		}
		c.err = err
		close(c.done)
		// Reading ends at EOF once the child's end is closed; the reader
		// may still be reading what is left, so the read end is closed by
		// Close, not here.
	}()
	return c, nil
}

// Stdin is the child's standard input; closing it lets FFmpeg finish.
func (c *Child) Stdin() io.Writer { return c.stdin }

// Stdout is the child's standard output. It must be read, or the child
// stops when the pipe is full.
func (c *Child) Stdout() io.Reader { return c.stdout }

// CloseInput closes the child's standard input.
func (c *Child) CloseInput() error { return c.stdin.Close() }

// Close releases the read end of standard output (after reading is done).
func (c *Child) Close() error { return c.stdout.Close() }

// Kill ends the child at once.
func (c *Child) Kill() {
	if c.cmd.Process != nil {
		_ = c.cmd.Process.Kill()
	}
}

// Done is closed once the child has ended.
func (c *Child) Done() <-chan struct{} { return c.done }

// Err is why the child ended (with the last line FFmpeg wrote to standard
// error), nil when it exited with status 0; valid once Done is closed.
func (c *Child) Err() error {
	<-c.done
	return c.err
}

// PID is the child's process ID.
func (c *Child) PID() int { return c.cmd.Process.Pid }

// tailWriter keeps the last non-empty line written to it.
type tailWriter struct {
	mu   sync.Mutex
	buf  []byte // the line being written
	line string // the last complete line
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	for {
		i := bytes.IndexByte(t.buf, '\n')
		if i < 0 {
			break
		}
		if l := strings.TrimSpace(string(t.buf[:i])); l != "" {
			t.line = l
		}
		t.buf = t.buf[i+1:]
	}
	if len(t.buf) > 4096 { // a line without end: keep its start
		t.line, t.buf = strings.TrimSpace(string(t.buf[:4096])), t.buf[:0]
	}
	return len(p), nil
}

func (t *tailWriter) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if l := strings.TrimSpace(string(t.buf)); l != "" {
		return l
	}
	return t.line
}

// Backoff spaces the starts of a child that keeps ending: Min after the
// first end, doubling up to Max; Reset after it has run well.
type Backoff struct {
	Min, Max time.Duration
	next     time.Duration
}

// Next returns how long to wait before the next start.
func (b *Backoff) Next() time.Duration {
	if b.next == 0 {
		b.next = b.Min
	}
	d := b.next
	b.next = min(2*b.next, b.Max)
	return d
}

// Reset starts the spacing over.
func (b *Backoff) Reset() { b.next = 0 }
