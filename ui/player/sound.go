package player

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"

	"github.com/onair-studio/onair/engine/ffmpeg"
)

// Sound plays a preview's sound: FFmpeg decodes the Opus the studio sends
// (handed to it as Ogg, with pion's writer) to PCM for Out.
type Sound struct {
	// FFmpeg is the FFmpeg that decodes. Required.
	FFmpeg string
	// Out receives 48 kHz, two-channel, 16-bit little-endian PCM.
	// Required.
	Out Speaker
}

// Speaker plays PCM: 48 kHz, two channels, 16-bit little-endian.
type Speaker interface {
	io.Writer
	// Reset drops what is not played yet (the sound stopped).
	Reset()
}

// SampleRate is the rate of the PCM a Speaker is given.
const SampleRate = 48000

// play decodes pkts until they end or ctx does.
func (s *Sound) play(ctx context.Context, pkts <-chan *rtp.Packet) error {
	c, err := ffmpeg.Start(ctx, s.FFmpeg, "-hide_banner", "-loglevel", "error", "-nostats",
		"-fflags", "nobuffer", "-probesize", "32", "-analyzeduration", "0", "-f", "ogg", "-i", "pipe:0",
		"-f", "s16le", "-acodec", "pcm_s16le", "-ar", "48000", "-ac", "2", "-flush_packets", "1", "pipe:1")
	if err != nil {
		return err
	}
	var copied sync.WaitGroup
	var copyErr error // the speaker's, set before copied is done
	copied.Go(func() {
		if _, err := io.Copy(s.Out, c.Stdout()); err != nil {
			copyErr = err
			c.Kill() // the loop below sees FFmpeg end
		}
	})
	defer func() {
		_ = c.CloseInput()
		c.Kill()
		<-c.Done()
		copied.Wait()
		_ = c.Close()
		s.Out.Reset()
	}()
	ogg, err := oggwriter.NewWith(c.Stdin(), SampleRate, 2)
	if err != nil {
		return fmt.Errorf("starting the sound's decoder: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.Done():
			copied.Wait()
			if copyErr != nil {
				return fmt.Errorf("playing the sound: %w", copyErr)
			}
			if err := c.Err(); err != nil {
				return fmt.Errorf("decoding the sound: FFmpeg ended: %w", err)
			}
			return errors.New("decoding the sound: FFmpeg ended")
		case p, ok := <-pkts:
			if !ok {
				return nil
			}
			if err := ogg.WriteRTP(p); err != nil {
				return fmt.Errorf("decoding the sound: %w", err)
			}
		}
	}
}
