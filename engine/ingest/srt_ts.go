package ingest

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/netlimit"
)

// deadlineReader is what the MPEG-TS reader reads: an SRT connection.
type deadlineReader interface {
	io.Reader
	SetReadDeadline(time.Time) error
}

// tsReader turns one publisher's MPEG-TS into media units for its target.
type tsReader struct {
	conn           deadlineReader
	target         Target
	publishTimeout time.Duration
	log            *slog.Logger

	depack    Depacketizer
	times     mpegts.TimeDecoder
	wantVideo bool
	wantAudio bool
	started   bool
	pending   []*media.Unit // before every track has its parameters
	batch     []*media.Unit
	bad       *netlimit.RateLog
}

// errNoMedia: the program carries neither H.264 nor AAC.
var errNoMedia = errors.New("the MPEG-TS stream has no H.264 or H.265 video and no AAC audio: set the encoder to one of them and AAC")

// run reads until the connection ends; it closes the target.
func (r *tsReader) run() error {
	defer r.target.Close()
	r.bad = &netlimit.RateLog{Every: 5 * time.Second, Logger: r.log}
	_ = r.conn.SetReadDeadline(time.Now().Add(r.publishTimeout))
	tr := &mpegts.Reader{R: r.conn}
	if err := tr.Initialize(); err != nil {
		return fmt.Errorf("reading the MPEG-TS program table: %w", err)
	}
	if err := r.follow(tr); err != nil {
		return err
	}
	tr.OnDecodeError(func(err error) { r.bad.Add("dropping MPEG-TS data the studio cannot read", "error", err) })
	for {
		if err := tr.Read(); err != nil {
			return err
		}
		r.flush()
	}
}

// follow hands each H.264 and AAC track's data to the depacketizer.
func (r *tsReader) follow(tr *mpegts.Reader) error {
	for _, t := range tr.Tracks() {
		switch c := t.Codec.(type) {
		case *tscodecs.H264, *tscodecs.H265:
			if r.wantVideo {
				continue // one video track
			}
			r.wantVideo = true
			if _, ok := c.(*tscodecs.H265); ok {
				tr.OnDataH265(t, func(pts, dts int64, au [][]byte) error { return r.video(media.H265, pts, dts, au) })
			} else {
				tr.OnDataH264(t, func(pts, dts int64, au [][]byte) error { return r.video(media.H264, pts, dts, au) })
			}
		case *tscodecs.MPEG4Audio:
			if r.wantAudio {
				continue
			}
			r.wantAudio = true
			conf := c.Config
			tr.OnDataMPEG4Audio(t, func(pts int64, aus [][]byte) error {
				for _, u := range r.depack.AACFrames(conf, r.at(pts), aus) {
					r.add(u)
				}
				return nil
			})
		default:
			r.log.Warn("ignoring an MPEG-TS track the studio does not take", "codec", fmt.Sprintf("%T", c))
		}
	}
	if !r.wantVideo && !r.wantAudio {
		return errNoMedia
	}
	return nil
}

// video takes one access unit.
func (r *tsReader) video(codec media.VideoCodec, pts, dts int64, au [][]byte) error {
	u, err := r.depack.AccessUnit(codec, r.at(pts), r.at(dts), au)
	if err != nil {
		r.bad.Add("dropping video the studio cannot read yet", "error", err)
		return nil
	}
	r.add(u)
	return nil
}

// at turns a 90 kHz MPEG-TS time into the publisher's timeline (from its
// first timestamp, across the 33-bit wrap).
func (r *tsReader) at(ts int64) time.Duration {
	return time.Duration(r.times.Decode(ts)) * time.Second / 90000
}

// add queues a unit; before every track has its parameters it is kept
// (bounded), and the tracks start once they have.
func (r *tsReader) add(u *media.Unit) {
	if u == nil {
		return
	}
	if !r.started {
		t := r.depack.Tracks()
		if (r.wantVideo && t.Video == nil) || (r.wantAudio && t.Audio == nil) {
			if len(r.pending) >= maxPending {
				r.pending = r.pending[1:]
			}
			r.pending = append(r.pending, u)
			return
		}
		r.started = true
		_ = r.depack.TakeChanged()
		_ = r.conn.SetReadDeadline(time.Time{})
		r.target.StartTracks(t)
		r.batch = append(r.batch, r.pending...)
		r.pending = nil
	} else if r.depack.TakeChanged() {
		r.flush()
		r.target.StartTracks(r.depack.Tracks())
	}
	r.batch = append(r.batch, u)
}

func (r *tsReader) flush() {
	if len(r.batch) == 0 {
		return
	}
	r.target.WriteUnits(r.batch)
	clear(r.batch)
	r.batch = r.batch[:0]
}
