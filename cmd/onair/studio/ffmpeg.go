package studio

import (
	"context"
	"errors"
	"fmt"

	"github.com/onair-studio/onair/engine/ffmpeg"
	"github.com/onair-studio/onair/engine/transcode"
)

// findFFmpeg returns the FFmpeg of the sound meters and the preview's
// sound, "" when they are off (--ffmpeg off, or none found: said in the
// log and in Settings).
func (s *Studio) findFFmpeg() string {
	if s.cfg.FFmpeg == "off" {
		s.ffmpegErr = errors.New("turned off (--ffmpeg off)")
		return ""
	}
	p, err := ffmpeg.Locate(s.cfg.FFmpeg)
	if err != nil {
		s.ffmpegErr = fmt.Errorf("no sound meters and a silent preview: %w", err)
		s.log.Warn("live streams' sound is not measured nor previewed", "error", err)
		return ""
	}
	s.ffmpegPath = p
	s.probeEncoder(p)
	return p
}

// probeEncoder chooses the renditions' encoder in the background (a try
// of each hardware encoder takes a fraction of a second); libx264 until
// then.
func (s *Studio) probeEncoder(bin string) {
	s.encoderMu.Lock()
	s.choice = transcode.Choice{Encoder: transcode.Software(), Why: "libx264 (software), while the hardware encoders are tried"}
	s.encoderMu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	s.probing = cancel
	s.probeWG.Go(func() {
		c := transcode.Probe(ctx, bin)
		if ctx.Err() != nil {
			return
		}
		s.encoderMu.Lock()
		s.choice = c
		s.encoderMu.Unlock()
		s.log.Info("renditions' encoder chosen", "encoder", c.Encoder.Name, "why", c.Why)
	})
}

// encoder is the renditions' encoder (hls.Factory.Encoder).
func (s *Studio) encoder() transcode.Encoder {
	s.encoderMu.Lock()
	defer s.encoderMu.Unlock()
	return s.choice.Encoder
}

// EncoderChoice is the renditions' encoder and why it was chosen.
func (s *Studio) EncoderChoice() transcode.Choice {
	s.encoderMu.Lock()
	defer s.encoderMu.Unlock()
	return s.choice
}
