package preview

import (
	"github.com/pion/rtp"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/opus"
)

// onSound hands the stream's audio to the Opus encoder while a viewer
// listens: FFmpeg starts with the first listener and ends with the last
// (or with the feed). On the reader's goroutine.
func (f *feed) onSound(u *media.Unit) {
	if f.ffmpeg == "" {
		return
	}
	if f.listeners.Load() == 0 {
		if f.opus != nil {
			f.opus.Close()
			f.opus = nil
		}
		return
	}
	if f.opus == nil {
		f.opus = opus.New(f.ffmpeg, f.log.With("component", "preview sound"), f.sendSound)
	}
	f.opus.Unit(u)
}

// closeSound ends the encoder once the reader has stopped.
func (f *feed) closeSound() {
	if f.opus != nil {
		f.opus.Close()
		f.opus = nil
	}
}

// sendSound sends one Opus packet to every listening viewer. On the
// encoder's goroutine. Sound is not queued per viewer as pictures are: a
// packet is small and its write only queues it on the UDP socket.
func (f *feed) sendSound(payload []byte, samples uint32) {
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: f.soundSeq, Timestamp: f.soundTime}, Payload: payload}
	f.soundSeq++
	f.soundTime += samples
	f.mu.Lock()
	tracks := f.soundTo[:0]
	for _, v := range f.viewers {
		if v.sound != nil {
			tracks = append(tracks, v.sound)
		}
	}
	f.soundTo = tracks
	f.mu.Unlock()
	for _, t := range tracks {
		_ = t.WriteRTP(p) // a closing connection: its session ends
	}
}
