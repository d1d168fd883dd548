package player

import (
	"fmt"
	"sync"
	"time"

	"github.com/ebitengine/oto/v3"
)

// Output is the computer's sound output (its default device, through
// ebitengine/oto: ALSA on Linux, WASAPI on Windows, Core Audio on macOS)
// as a Speaker. A process opens one (oto allows one); it is opened at the
// first Open.
type Output struct {
	once sync.Once
	err  error
	pl   *oto.Player

	mu      sync.Mutex
	buf     []byte // PCM not played yet
	playing bool
}

const (
	bytesPerSecond = SampleRate * 2 * 2
	// startAfter is the sound gathered before it plays, and what is kept
	// when it runs late: the decoder's output comes in bursts.
	startAfter = bytesPerSecond * 60 / 1000 &^ 3
	// mostLate is the most sound kept unplayed: past it the oldest goes,
	// so that the sound stays with the picture.
	mostLate = bytesPerSecond * 250 / 1000 &^ 3
)

// Open opens the sound output (once; later calls return the first's
// error).
func (o *Output) Open() error {
	o.once.Do(func() {
		ctx, ready, err := oto.NewContext(&oto.NewContextOptions{SampleRate: SampleRate, ChannelCount: 2,
			Format: oto.FormatSignedInt16LE, BufferSize: 40 * time.Millisecond})
		if err != nil {
			o.err = fmt.Errorf("opening the computer's sound output: %w", err)
			return
		}
		<-ready
		o.pl = ctx.NewPlayer(outputReader{o})
		o.pl.SetBufferSize(bytesPerSecond * 40 / 1000 &^ 3)
	})
	return o.err
}

// Write queues PCM to play; the sound starts once a little is gathered.
func (o *Output) Write(p []byte) (int, error) {
	if err := o.Open(); err != nil {
		return 0, err
	}
	o.mu.Lock()
	o.buf = append(o.buf, p...)
	if len(o.buf) > mostLate {
		o.buf = append(o.buf[:0], o.buf[len(o.buf)-startAfter:]...)
	}
	start := !o.playing && len(o.buf) >= startAfter
	if start {
		o.playing = true
	}
	o.mu.Unlock()
	if start {
		o.pl.Play()
	}
	return len(p), nil
}

// Reset stops the sound and drops what was not played.
func (o *Output) Reset() {
	if o.Open() != nil {
		return
	}
	o.mu.Lock()
	o.buf = o.buf[:0]
	stop := o.playing
	o.playing = false
	o.mu.Unlock()
	if stop {
		o.pl.Pause()
	}
}

// outputReader is what oto plays: the queued PCM, and silence when there
// is none (a late packet is a gap, not the end).
type outputReader struct{ o *Output }

func (r outputReader) Read(p []byte) (int, error) {
	r.o.mu.Lock()
	n := copy(p, r.o.buf)
	r.o.buf = append(r.o.buf[:0], r.o.buf[n:]...)
	r.o.mu.Unlock()
	clear(p[n:])
	return len(p), nil
}
