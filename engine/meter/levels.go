// Package meter measures the sound a live stream brings in: the AAC of its
// audio track is decoded by an FFmpeg child (audio only, while the stream
// is live) and every 100 ms of samples gives, per channel, the peak and
// RMS level in dBFS; ten seconds in a row below the silence floor make the
// stream silent until sound returns.
package meter

import (
	"encoding/binary"
	"math"

	"github.com/onair-studio/onair/engine/livestream"
)

// Floor is the lowest level reported, in dBFS: digital silence and
// anything quieter read as Floor.
const Floor = -90.0

// SilenceBelow is the RMS level under which a window counts as silent:
// the noise of a live microphone in a quiet room is well above it.
const SilenceBelow = -60.0

// measure returns the levels of pcm, interleaved signed 16-bit
// little-endian samples of channels channels.
func measure(pcm []byte, channels int) []livestream.SoundChannel {
	out := make([]livestream.SoundChannel, channels)
	frames := len(pcm) / (2 * channels)
	if frames == 0 {
		for i := range out {
			out[i] = livestream.SoundChannel{Peak: Floor, RMS: Floor}
		}
		return out
	}
	peak := make([]float64, channels)
	sum := make([]float64, channels)
	for f := range frames {
		for c := range channels {
			i := 2 * (f*channels + c)
			v := float64(int16(binary.LittleEndian.Uint16(pcm[i:]))) / 32768
			if a := math.Abs(v); a > peak[c] {
				peak[c] = a
			}
			sum[c] += v * v
		}
	}
	for c := range channels {
		out[c] = livestream.SoundChannel{Peak: dBFS(peak[c]), RMS: dBFS(math.Sqrt(sum[c] / float64(frames)))}
	}
	return out
}

// dBFS is v (0..1 of full scale) in decibels, no lower than Floor.
func dBFS(v float64) float64 {
	if v <= 0 {
		return Floor
	}
	return max(20*math.Log10(v), Floor)
}

// silent reports whether every channel of a window is below SilenceBelow.
func silent(ch []livestream.SoundChannel) bool {
	for _, c := range ch {
		if c.RMS >= SilenceBelow {
			return false
		}
	}
	return true
}
