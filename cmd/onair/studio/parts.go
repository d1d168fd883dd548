package studio

import (
	"errors"
	"time"

	"github.com/onair-studio/onair/api"
	"github.com/onair-studio/onair/engine/livestream"
)

// Parts tells which parts of the studio run. The store, HTTP and RTMP are
// required (the studio does not start without them); SRT and the preview
// are optional, and say why they are off.
func (s *Studio) Parts() []livestream.Part {
	parts := []livestream.Part{
		{Name: "store", Up: s.store != nil, Required: true, Address: s.cfg.DataDir},
		{Name: "http", Up: s.httpLn != nil, Required: true, Address: s.httpURL},
		{Name: "rtmp", Up: s.rtmpLn != nil, Required: true, Address: s.rtmpURL},
	}
	srt := livestream.Part{Name: "srt", Up: s.srt != nil, Address: s.srtURL}
	switch {
	case s.srtErr != nil:
		srt.Reason = s.srtErr.Error()
	case !s.boot.SRT.On():
		srt.Reason = livestream.PartTurnedOff
	}
	s.previewMu.Lock()
	preview := livestream.Part{Name: "preview", Up: s.preview != nil}
	if s.previewErr != nil {
		preview.Reason = s.previewErr.Error()
	}
	s.previewMu.Unlock()
	meters := livestream.Part{Name: "ffmpeg", Up: s.ffmpegPath != "", Address: s.ffmpegPath}
	if s.ffmpegErr != nil {
		meters.Reason = s.ffmpegErr.Error()
	}
	encoder := livestream.Part{Name: "encoder", Up: s.ffmpegPath != ""}
	if encoder.Up {
		c := s.EncoderChoice()
		encoder.Address, encoder.Detail = c.Encoder.Name, c.Why
	} else if s.ffmpegErr != nil {
		encoder.Reason = "no renditions: " + s.ffmpegErr.Error()
	}
	parts = append(parts, srt, preview, meters, encoder)
	if s.tlsErr != nil {
		parts = append(parts, livestream.Part{Name: "remote", Reason: s.tlsErr.Error()})
	}
	return parts
}

// PreviewError says why the preview is not running (nil: it runs).
func (s *Studio) PreviewError() error {
	s.previewMu.Lock()
	defer s.previewMu.Unlock()
	return s.previewErr
}

// previewForAPI is the preview as the API takes it, at each request (a
// retry may start it): no preview is a nil interface, not a nil pointer in
// one.
func (s *Studio) previewForAPI() api.Preview {
	if p := s.Preview(); p != nil {
		return p
	}
	return nil
}

// previewViewers counts a stream's preview viewers (0 without a preview).
func (s *Studio) previewViewers(id string) int {
	p := s.Preview()
	if p == nil {
		return 0
	}
	return p.Viewers(id)
}

// completeSample adds to a stream's history sample what the engine does not
// know: the preview's viewers, and OBS's congestion while OBS on this
// computer streams to this stream (as last read for whoever watches OBS:
// the sampler itself never makes the studio read OBS).
func (s *Studio) completeSample(id string, smp *livestream.Sample) {
	if p := s.Preview(); p != nil {
		smp.PreviewViewers = p.Viewers(id)
	}
	m := s.obsForSamples.Load()
	if m == nil {
		return
	}
	snap := m.Last()
	if snap.Err != nil || !snap.Status.Streaming || time.Since(snap.At) > 3*time.Second {
		return
	}
	st, err := s.engine.Get(id)
	if err != nil || (snap.Status.Server != st.InputURI && snap.Status.Server != st.SRTURI) {
		return
	}
	c := snap.Status.Congestion
	smp.OBSCongestion = &c
}

// FFmpeg is the FFmpeg of the sound meters and the preview's sound, or
// why there is none.
func (s *Studio) FFmpeg() (string, error) {
	if s.ffmpegPath == "" {
		if s.ffmpegErr != nil {
			return "", s.ffmpegErr
		}
		return "", errors.New("FFmpeg is not set up")
	}
	return s.ffmpegPath, nil
}
