package simulcast

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"

	"github.com/onair-studio/onair/engine/media"
)

// push is one connection to the destination.
type push struct {
	o      *Output
	c      *gortmplib.Client
	buf    *batchConn
	w      *gortmplib.Writer
	video  *gortmplib.Track
	audio  *gortmplib.Track
	tracks *media.Tracks

	// written on the hub reader's goroutine
	needKey      bool
	replayed     bool // the units kept while disconnected went first
	base         time.Duration
	keyAt        time.Time // when the first key frame went out
	lastDeadline time.Time

	live    atomic.Bool
	readErr chan error
}

var errTracksChanged = errors.New("the encoder changed its settings; reconnecting with the new ones")

// dial connects, publishes and sends the codec headers.
func dial(ctx context.Context, o *Output, tracks *media.Tracks) (*push, error) {
	dctx, cancel := context.WithTimeout(ctx, o.dialTimeout)
	defer cancel()
	var connected atomic.Bool
	var bc *batchConn
	var mend *mendReader
	d := &net.Dialer{}
	// TCP, then the batching below TLS, then TLS for rtmps://, then the
	// mender of the server's answers, then gortmplib.
	open := func(ctx context.Context, network, addr string, secure bool) (net.Conn, error) {
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		connected.Store(true)
		bc = &batchConn{Conn: nc}
		var conn net.Conn = bc
		if secure {
			cfg := &tls.Config{}
			if o.f.TLSConfig != nil {
				cfg = o.f.TLSConfig.Clone()
			}
			if cfg.ServerName == "" {
				cfg.ServerName = o.dest.Hostname()
			}
			conn = tls.Client(bc, cfg)
		}
		mend = newMendReader(conn)
		return &mendConn{Conn: conn, r: mend}, nil
	}
	c := &gortmplib.Client{
		URL: o.dest, Publish: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return open(ctx, network, addr, false)
		},
	}
	if o.dest.Scheme == "rtmps" {
		c.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return open(ctx, network, addr, true)
		}
	}
	if err := c.Initialize(dctx); err != nil {
		if ctx.Err() == nil && dctx.Err() != nil {
			err = context.DeadlineExceeded // gortmplib closes the connection when dctx ends
		}
		return nil, o.explainDial(ctx, err, connected.Load())
	}
	p := &push{o: o, c: c, buf: bc, tracks: tracks, needKey: true, readErr: make(chan error, 1)}
	var ts []*gortmplib.Track
	if v := tracks.Video; v != nil {
		var c codecs.Codec = &codecs.H264{SPS: v.SPS, PPS: v.PPS}
		switch v.Codec { // enhanced RTMP (hvc1, av01)
		case media.H265:
			c = &codecs.H265{VPS: v.VPS, SPS: v.SPS, PPS: v.PPS}
		case media.AV1:
			c = &codecs.AV1{}
		}
		p.video = &gortmplib.Track{Codec: c}
		ts = append(ts, p.video)
	}
	if a := tracks.Audio; a != nil {
		cfg := a.Config
		p.audio = &gortmplib.Track{Codec: &codecs.MPEG4Audio{Config: &cfg}}
		ts = append(ts, p.audio)
	}
	p.w = &gortmplib.Writer{Conn: c, Tracks: ts}
	_ = c.NetConn().SetWriteDeadline(time.Now().Add(o.writeTimeout))
	if err := p.w.Initialize(); err != nil {
		c.Close()
		return nil, p.explain(err)
	}
	mend.passOn()
	if mend.Mended > 0 {
		o.log.Debug("mended the destination's answers", "commands", mend.Mended)
	}
	bc.batch(true) // media goes out once per batch (flush)
	o.wg.Go(p.readLoop)
	return p, nil
}

// writeVideo sends one video unit in its codec's message.
func (p *push) writeVideo(u *media.Unit) error {
	switch p.tracks.Video.Codec {
	case media.H265:
		return p.w.WriteH265(p.video, u.PTS-p.base, u.DTS-p.base, u.NALUs)
	case media.AV1:
		var tu av1.Bitstream // the writer puts the temporal delimiter and sizes back
		if err := tu.Unmarshal(u.Frame); err != nil {
			return fmt.Errorf("reading an AV1 temporal unit: %w", err)
		}
		return p.w.WriteAV1(p.video, u.PTS-p.base, tu)
	}
	return p.w.WriteH264(p.video, u.PTS-p.base, u.DTS-p.base, u.NALUs)
}

// flush sends the batch's bytes.
func (p *push) flush() error {
	if err := p.buf.flush(); err != nil {
		return p.explain(err)
	}
	return nil
}

// readLoop reads and drops what the destination sends (acknowledgements,
// pings) so that a closed connection is seen at once. It reads the TCP
// connection itself, below gortmplib and TLS: gortmplib's reader answers
// pings through the writer the media goes through, which is not safe from
// another goroutine; RTMP servers do not require the answers.
func (p *push) readLoop() {
	b := make([]byte, 4096)
	for {
		if _, err := p.buf.Read(b); err != nil { // batchConn reads its connection directly
			p.readErr <- p.explain(err)
			return
		}
	}
}

func (p *push) close() { p.c.Close() }

// accepted reports whether the destination has been taking media for a
// second since the first key frame.
func (p *push) accepted() bool {
	return p.live.Load()
}

// write sends one unit, from the first key frame on, with timestamps that
// start at zero for the destination.
func (p *push) write(u *media.Unit) error {
	if u.Tracks != p.tracks && !u.Tracks.SameAs(*p.tracks) {
		return errTracksChanged
	}
	if p.needKey {
		if p.video != nil && (u.Kind != media.KindVideo || !u.Key) {
			return nil
		}
		p.needKey = false
		p.base = u.DTS
		p.keyAt = time.Now()
	}
	if u.DTS < p.base {
		return nil
	}
	now := time.Now()
	if now.Sub(p.lastDeadline) > time.Second/2 {
		p.lastDeadline = now
		_ = p.c.NetConn().SetWriteDeadline(now.Add(p.o.writeTimeout))
	}
	var err error
	switch {
	case u.Kind == media.KindVideo && p.video != nil:
		err = p.writeVideo(u)
	case u.Kind == media.KindAudio && p.audio != nil:
		err = p.w.WriteMPEG4Audio(p.audio, u.PTS-p.base, u.Frame)
	}
	if err != nil {
		return p.explain(err)
	}
	if p.buf.pending() > maxBatch {
		if err := p.flush(); err != nil {
			return err
		}
	}
	if !p.live.Load() && now.Sub(p.keyAt) >= time.Second {
		p.live.Store(true)
	}
	return nil
}

// explainDial says in plain words why connecting or publishing failed.
func (o *Output) explainDial(ctx context.Context, err error, connected bool) error {
	var dns *net.DNSError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var record tls.RecordHeaderError
	switch {
	case ctx.Err() != nil:
		return errClosed
	case errors.As(err, &dns):
		return fmt.Errorf("cannot find %s (DNS: %s)", o.dest.Hostname(), dns.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("connection refused by %s", o.where)
	case errors.As(err, &unknown):
		return errors.New("TLS: certificate signed by unknown authority")
	case errors.As(err, &host):
		return fmt.Errorf("TLS: the certificate is not for %s", o.dest.Hostname())
	case errors.As(err, &invalid):
		return fmt.Errorf("TLS: the certificate is not valid: %s", o.scrub(invalid.Error()))
	case errors.As(err, &record):
		return fmt.Errorf("TLS: %s does not speak TLS (use rtmp:// instead of rtmps://?)", o.where)
	case isTimeout(err) && !connected:
		return fmt.Errorf("%s did not answer within %v", o.where, o.dialTimeout)
	case isTimeout(err):
		return fmt.Errorf("%s accepted the connection but did not answer within %v (not an RTMP server, or it hangs)", o.where, o.dialTimeout)
	case isClosed(err):
		return fmt.Errorf("%s closed the connection: stream key rejected?", o.where)
	case strings.Contains(err.Error(), "bad result"):
		return fmt.Errorf("%s refused to publish: is the stream key right? (%s)", o.where, o.scrub(err.Error()))
	}
	if connected {
		return fmt.Errorf("%s refused the stream: stream key rejected? (%s)", o.where, o.scrub(err.Error()))
	}
	return fmt.Errorf("connecting to %s: %s", o.where, o.scrub(err.Error()))
}

// explain says in plain words why a connection that was up failed. Before
// it took media, a hang-up most likely means the key was refused — or, for
// H.265 and AV1, that the destination does not take enhanced RTMP.
func (p *push) explain(err error) error {
	o, early := p.o, !p.live.Load()
	switch {
	case errors.Is(err, errTracksChanged):
		return err
	case isTimeout(err):
		return fmt.Errorf("%s stopped taking media for %v (a slow network, or it hangs); reconnecting", o.where, o.writeTimeout)
	case isClosed(err) && early && p.tracks.Video != nil && p.tracks.Video.Codec != media.H264:
		name := map[media.VideoCodec]string{media.H265: "H.265", media.AV1: "AV1"}[p.tracks.Video.Codec]
		return fmt.Errorf("the destination closed the connection as the %s video began: it may not take %s (enhanced RTMP) — send it H.264, or check the stream key (%s)", name, name, o.where)
	case isClosed(err) && early:
		return fmt.Errorf("the destination closed the connection: stream key rejected? (%s)", o.where)
	case isClosed(err):
		return fmt.Errorf("the destination closed the connection (%s); reconnecting", o.where)
	}
	return fmt.Errorf("sending to %s: %s", o.where, o.scrub(err.Error()))
}

// scrub removes the stream key from a message.
func (o *Output) scrub(s string) string {
	if k := o.dest.Fragment; k != "" {
		s = strings.ReplaceAll(s, k, "****")
	}
	return s
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}
