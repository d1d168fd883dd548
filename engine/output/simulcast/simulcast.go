// Package simulcast is the simulcast output: one per destination, a hub
// reader that pushes the stream over RTMP or RTMPS (gortmplib's client) to
// another platform. A destination that is down, slow or hung never stalls
// anything else: every write has a deadline, the hub reader's bounded
// queue drops to the next key frame when the destination falls behind,
// and a lost connection is tried again with capped exponential backoff.
// Its status tells the truth: broadcasting only while media is accepted.
package simulcast

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/output"
)

// Defaults of the factory.
const (
	DefaultDialTimeout  = 10 * time.Second
	DefaultWriteTimeout = 5 * time.Second
	DefaultMinBackoff   = time.Second
	DefaultMaxBackoff   = 30 * time.Second
	// DefaultQueueSize is how many units a destination may lag behind
	// (about 4 s of 30 fps video with audio) before it drops to the next
	// key frame.
	DefaultQueueSize = 256
)

// Factory makes one output per simulcast destination.
type Factory struct {
	// TLSConfig verifies RTMPS servers; nil uses the system's roots.
	TLSConfig *tls.Config
	// DialTimeout bounds connecting, the handshake and the publish. It
	// defaults to DefaultDialTimeout.
	DialTimeout time.Duration
	// WriteTimeout bounds one write: a destination that reads nothing for
	// this long is disconnected. It defaults to DefaultWriteTimeout.
	WriteTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before trying again. They
	// default to DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// QueueSize defaults to DefaultQueueSize.
	QueueSize int
}

// New implements output.Factory.
func (f *Factory) New(p output.Params) (output.Output, error) {
	u, err := destination(p.Output.URI, p.Output.StreamKey)
	if err != nil {
		return nil, err
	}
	return &Output{
		f: f, dest: u, where: hostPort(u), log: p.Logger, report: p.Report,
		dialTimeout:  cmp.Or(f.DialTimeout, DefaultDialTimeout),
		writeTimeout: cmp.Or(f.WriteTimeout, DefaultWriteTimeout),
		minBackoff:   cmp.Or(f.MinBackoff, DefaultMinBackoff),
		maxBackoff:   cmp.Or(f.MaxBackoff, DefaultMaxBackoff),
		queue:        cmp.Or(f.QueueSize, DefaultQueueSize),
	}, nil
}

// destination is the URL gortmplib connects to: the uri with the stream
// key as its fragment.
func destination(uri, key string) (*url.URL, error) {
	if err := livestream.ValidatePushURI(uri); err != nil {
		return nil, err
	}
	u, err := url.Parse(strings.TrimSuffix(uri, "/"))
	if err != nil {
		return nil, err
	}
	u.Fragment = key
	return u, nil
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "rtmps" {
		return u.Hostname() + ":443"
	}
	return u.Hostname() + ":1935"
}

// Output pushes a session to one destination.
type Output struct {
	f            *Factory
	dest         *url.URL
	where        string // host:port, for messages (never the key)
	log          *slog.Logger
	report       output.Report
	dialTimeout  time.Duration
	writeTimeout time.Duration
	minBackoff   time.Duration
	maxBackoff   time.Duration
	queue        int

	stream *hub.Stream
	reader *hub.Reader
	cancel context.CancelFunc
	wg     sync.WaitGroup

	cur    atomic.Pointer[push] // the connection media goes to; nil while there is none
	failed chan error           // the current push's first failure

	// gop holds the units since the last key frame while no connection is
	// up (the hub reader's goroutine only): a new connection starts with
	// them, so a destination that connects as the stream starts gets it
	// from its first frame, and one that comes back resumes at once.
	gop []*media.Unit
}

// maxGOP bounds the units kept for a new connection (about 8 s).
const maxGOP = 512

// Start implements output.Output.
func (o *Output) Start(s *hub.Stream) {
	if o.log == nil {
		o.log = slog.Default()
	}
	o.stream = s
	o.failed = make(chan error, 1)
	o.reader = &hub.Reader{Name: "simulcast " + o.where, QueueSize: o.queue, OnUnit: o.write, OnBatch: o.flush}
	s.AddReader(o.reader)
	ctx, cancel := context.WithCancel(context.Background())
	o.cancel = cancel
	o.wg.Go(func() { o.run(ctx) })
}

// Close implements output.Output.
func (o *Output) Close() {
	if o.cancel == nil {
		return
	}
	o.cancel()
	o.stream.RemoveReader(o.reader)
	if p := o.cur.Swap(nil); p != nil {
		p.close()
	}
	o.wg.Wait()
}

// write hands a unit to the current connection (the hub reader's goroutine).
func (o *Output) write(u *media.Unit) {
	p := o.cur.Load()
	if p == nil {
		o.keep(u)
		return
	}
	if !p.replayed {
		p.replayed = true
		gop := o.gop
		o.gop = nil
		for _, g := range gop {
			if !o.send(p, g) {
				o.keep(u)
				return
			}
		}
	}
	if !o.send(p, u) {
		o.keep(u)
	}
}

// flush sends what the batch's units left in the connection's buffer.
func (o *Output) flush() {
	if p := o.cur.Load(); p != nil {
		if err := p.flush(); err != nil {
			o.lost(p, err)
		}
	}
}

// send writes u to p; on failure p stops being the connection.
func (o *Output) send(p *push, u *media.Unit) bool {
	err := p.write(u)
	if err == nil {
		return true
	}
	o.lost(p, err)
	return false
}

// lost makes p stop being the connection, telling the loop why.
func (o *Output) lost(p *push, err error) {
	if o.cur.CompareAndSwap(p, nil) {
		select {
		case o.failed <- err:
		default:
		}
	}
}

// keep adds u to the units since the last key frame.
func (o *Output) keep(u *media.Unit) {
	switch {
	case u.Kind == media.KindVideo && u.Key:
		clear(o.gop)
		o.gop = append(o.gop[:0], u)
	case len(o.gop) > 0 && len(o.gop) < maxGOP:
		o.gop = append(o.gop, u)
	case u.Tracks != nil && u.Tracks.Video == nil && len(o.gop) < maxGOP:
		o.gop = append(o.gop, u) // audio only: the newest audio
	}
}

// run connects, waits for the connection to fail, and tries again after
// a backoff, until the output closes.
func (o *Output) run(ctx context.Context) {
	backoff := o.minBackoff
	var lastErr error
	for ctx.Err() == nil {
		tracks := o.waitTracks(ctx)
		if tracks == nil {
			return
		}
		o.report(livestream.OutputStarting, lastErr)
		p, err := dial(ctx, o, tracks)
		if ctx.Err() != nil {
			if p != nil {
				p.close()
			}
			return
		}
		if err == nil {
			started := time.Now()
			o.cur.Store(p)
			err = o.watch(ctx, p)
			if p := o.cur.Swap(nil); p != nil {
				p.close()
			}
			if ctx.Err() != nil {
				return
			}
			if time.Since(started) > o.maxBackoff {
				backoff = o.minBackoff // it had been working: try again soon
			}
		}
		lastErr = err
		o.log.Warn("simulcast destination failed", "destination", o.where, "error", err, "retry_in", backoff.Round(time.Millisecond))
		o.report(livestream.OutputErrored, err)
		// Jitter of ±20 %, so destinations that failed together do not
		// come back together.
		wait := time.Duration(float64(backoff) * (0.8 + 0.4*rand.Float64()))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(backoff*2, o.maxBackoff)
	}
}

// waitTracks waits for a publisher's tracks.
func (o *Output) waitTracks(ctx context.Context) *media.Tracks {
	for {
		if t := o.stream.Tracks(); t != nil {
			return t
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// watch reports broadcasting once media is accepted and waits for the
// connection to fail (or the output to close).
func (o *Output) watch(ctx context.Context, p *push) error {
	select {
	case err := <-o.failed: // a failure of an older connection
		_ = err
	default:
	}
	live := false
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-o.failed:
			return err
		case err := <-p.readErr:
			return err
		case <-tick.C:
			if !live && p.accepted() {
				live = true
				o.report(livestream.OutputBroadcasting, nil)
				o.log.Info("simulcast destination broadcasting", "destination", o.where)
			}
		}
	}
}

var errClosed = errors.New("the output closed")

// Counts implements output.Counter.
func (o *Output) Counts() output.Counts {
	if o.reader == nil {
		return output.Counts{}
	}
	return output.Counts{Dropped: o.reader.Dropped()}
}
