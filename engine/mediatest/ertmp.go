package mediatest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"sort"
	"time"

	"github.com/bluenviron/gortmplib"
	rtmpcodecs "github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/av1"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// sample is one sample of a fragmented MP4 clip on its track's timeline.
type sample struct {
	track    *gortmplib.Track
	dts, pts time.Duration
	payload  []byte
}

// PublishEnhancedRTMP publishes a fragmented MP4 clip (Clip{MP4: true} or
// Clip{AV1: true}) to rtmpURL (rtmp://host:port/app/KEY) in real time with
// gortmplib's client, which sends HEVC and AV1 as enhanced RTMP (hvc1,
// av01). It returns when the clip has been sent or ctx ends.
func PublishEnhancedRTMP(ctx context.Context, clip, rtmpURL string) error {
	tracks, samples, err := readFMP4(clip)
	if err != nil {
		return err
	}
	u, err := url.Parse(rtmpURL)
	if err != nil {
		return fmt.Errorf("publish URL: %w", err)
	}
	u.Fragment, u.Path = path.Base(u.Path), path.Dir(u.Path) // gortmplib takes the key as the fragment
	c := &gortmplib.Client{URL: u, Publish: true}
	if err := c.Initialize(ctx); err != nil {
		return fmt.Errorf("connecting to %s: %w", u.Host, err)
	}
	defer c.Close()
	w := &gortmplib.Writer{Conn: c, Tracks: tracks}
	if err := w.Initialize(); err != nil {
		return fmt.Errorf("announcing the tracks: %w", err)
	}
	start := time.Now()
	for _, s := range samples {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(start.Add(s.dts))):
		}
		if err := writeSample(w, s); err != nil {
			return fmt.Errorf("sending at %v: %w", s.dts, err)
		}
	}
	return finish(ctx, c.NetConn())
}

// finish ends the publish as an encoder that stops does: it says it sends
// no more, then reads until the server closes, so that nothing sent is
// lost (closing with the server's acknowledgements unread would reset the
// connection and could drop the last seconds still in flight).
func finish(ctx context.Context, nc net.Conn) error {
	if tc, ok := nc.(*net.TCPConn); ok {
		if err := tc.CloseWrite(); err != nil {
			return fmt.Errorf("ending the publish: %w", err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = nc.SetReadDeadline(deadline)
	_, _ = io.Copy(io.Discard, nc) // until the server closes, or the deadline
	return nil
}

func writeSample(w *gortmplib.Writer, s sample) error {
	switch s.track.Codec.(type) {
	case *rtmpcodecs.AV1:
		var tu av1.Bitstream
		if err := tu.Unmarshal(s.payload); err != nil {
			return err
		}
		return w.WriteAV1(s.track, s.pts, tu)
	case *rtmpcodecs.H265:
		var au h264.AVCC
		if err := au.Unmarshal(s.payload); err != nil {
			return err
		}
		return w.WriteH265(s.track, s.pts, s.dts, au)
	case *rtmpcodecs.H264:
		var au h264.AVCC
		if err := au.Unmarshal(s.payload); err != nil {
			return err
		}
		return w.WriteH264(s.track, s.pts, s.dts, au)
	}
	return w.WriteMPEG4Audio(s.track, s.pts, s.payload)
}

// readFMP4 reads a fragmented MP4 file into gortmplib tracks and samples in
// send order. An AV1 key frame without a sequence header gets the init
// section's (gortmplib announces a placeholder configuration).
func readFMP4(file string) ([]*gortmplib.Track, []sample, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	var head, body []byte
	for pos := 0; pos+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[pos:]))
		if size < 8 || pos+size > len(b) {
			return nil, nil, fmt.Errorf("%s: a box of %d bytes at %d", file, size, pos)
		}
		switch string(b[pos+4 : pos+8]) {
		case "ftyp", "moov":
			head = append(head, b[pos:pos+size]...)
		case "moof", "mdat":
			body = append(body, b[pos:pos+size]...)
		}
		pos += size
	}
	var in fmp4.Init
	if err := in.Unmarshal(bytes.NewReader(head)); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	var parts fmp4.Parts
	if err := parts.Unmarshal(body); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	byID := map[int]*gortmplib.Track{}
	scale := map[int]uint32{}
	seqHdr := map[int][]byte{}
	var tracks []*gortmplib.Track
	for _, t := range in.Tracks {
		var c rtmpcodecs.Codec
		switch ic := t.Codec.(type) {
		case *codecs.AV1:
			c, seqHdr[t.ID] = &rtmpcodecs.AV1{}, ic.SequenceHeader
		case *codecs.H265:
			c = &rtmpcodecs.H265{VPS: ic.VPS, SPS: ic.SPS, PPS: ic.PPS}
		case *codecs.H264:
			c = &rtmpcodecs.H264{SPS: ic.SPS, PPS: ic.PPS}
		case *codecs.MPEG4Audio:
			cfg := ic.Config
			c = &rtmpcodecs.MPEG4Audio{Config: &cfg}
		default:
			return nil, nil, fmt.Errorf("%s: track %d: codec %T", file, t.ID, t.Codec)
		}
		byID[t.ID], scale[t.ID] = &gortmplib.Track{Codec: c}, t.TimeScale
		tracks = append(tracks, byID[t.ID])
	}
	var samples []sample
	for _, p := range parts {
		for _, pt := range p.Tracks {
			tr, ok := byID[pt.ID]
			if !ok {
				return nil, nil, fmt.Errorf("%s: a fragment of unknown track %d", file, pt.ID)
			}
			dts := pt.BaseTime
			for _, s := range pt.Samples {
				at := func(ticks int64) time.Duration {
					return time.Duration(ticks) * time.Second / time.Duration(scale[pt.ID])
				}
				payload := s.Payload
				if sh := seqHdr[pt.ID]; sh != nil && !s.IsNonSyncSample && !hasSeqHdr(payload) {
					head, _ := av1.Bitstream{sh}.Marshal()
					payload = append(head, payload...)
				}
				samples = append(samples, sample{track: tr, dts: at(int64(dts)), pts: at(int64(dts) + int64(s.PTSOffset)), payload: payload})
				dts += uint64(s.Duration)
			}
		}
	}
	if len(samples) == 0 {
		return nil, nil, errors.New(file + " has no samples")
	}
	sort.SliceStable(samples, func(i, j int) bool { return samples[i].dts < samples[j].dts })
	return tracks, samples, nil
}

// hasSeqHdr reports whether an AV1 temporal unit carries a sequence header.
func hasSeqHdr(tu []byte) bool {
	var bs av1.Bitstream
	if bs.Unmarshal(tu) != nil {
		return false
	}
	return av1.IsRandomAccess2(bs)
}
