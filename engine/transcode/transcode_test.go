package transcode

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/ffmpeg"
	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/mediatest/clipunits"
)

// got is what a test saw of each rendition.
type got struct {
	mu     sync.Mutex
	keys   [][]time.Duration // key frame times per rendition
	frames []int
	audio  []int
	size   [][2]int
	states []error
}

func (g *got) unit(i int, u *media.Unit) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch u.Kind {
	case media.KindVideo:
		g.frames[i]++
		g.size[i] = [2]int{u.Tracks.Video.Width, u.Tracks.Video.Height}
		if u.Key {
			g.keys[i] = append(g.keys[i], u.PTS)
		}
	case media.KindAudio:
		g.audio[i]++
	}
}

// The preview clip (640x360 at 30 fps, a key frame every second) made
// into 240p and 180p: each rendition has its height (and the source's
// shape), every picture of the source, the sound, and key frames exactly
// where the source's are — what keeps the renditions' segments aligned.
// (The clip is small so that the test keeps up on a busy machine.)
func TestRenditionsOfThePreviewClip(t *testing.T) {
	bin, err := ffmpeg.Locate("")
	if err != nil {
		t.Fatal(err)
	}
	tracks, units := clipunits.Units(t, mediatest.Preview)
	var srcKeys []time.Duration
	pictures := 0
	for _, u := range units {
		if u.Kind == media.KindVideo {
			pictures++
			if u.Key {
				srcKeys = append(srcKeys, u.PTS)
			}
		}
	}
	g := &got{keys: make([][]time.Duration, 2), frames: make([]int, 2), audio: make([]int, 2), size: make([][2]int, 2)}
	tc := &Transcoder{FFmpeg: bin, Renditions: []livestream.Rendition{{Height: 240, Bitrate: 400_000}, {Height: 180, Bitrate: 200_000}},
		Log: slog.New(slog.DiscardHandler), OnUnit: g.unit,
		OnState: func(err error) { g.mu.Lock(); g.states = append(g.states, err); g.mu.Unlock() }}
	st := &hub.Stream{Logger: slog.New(slog.DiscardHandler)}
	st.StartPublisher(tracks)
	st.AddReader(tc.Reader())
	start := time.Now()
	for _, u := range units {
		time.Sleep(time.Until(start.Add(u.DTS / 2))) // twice real time: FFmpeg keeps up
		st.Publish(u)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		g.mu.Lock()
		n := min(g.frames[0], g.frames[1])
		g.mu.Unlock()
		if n >= pictures-15 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	st.Close()
	tc.Close()
	g.mu.Lock()
	defer g.mu.Unlock()
	t.Logf("frames %v, audio %v, sizes %v, key frames %v / %v of the source's %d", g.frames, g.audio, g.size, len(g.keys[0]), len(g.keys[1]), len(srcKeys))
	for i, want := range [][2]int{{426, 240}, {320, 180}} {
		if g.size[i] != want {
			t.Errorf("rendition %d is %v; want %v", i, g.size[i], want)
		}
		if g.frames[i] < pictures-15 || g.audio[i] < 400 {
			t.Errorf("rendition %d: %d pictures of %d and %d sound frames", i, g.frames[i], pictures, g.audio[i])
		}
		if len(g.keys[i]) < 5 {
			t.Errorf("rendition %d has %d key frames", i, len(g.keys[i]))
		}
		for _, k := range g.keys[i] {
			if !slices.Contains(srcKeys, k) {
				t.Errorf("rendition %d has a key frame at %v, where the source has none", i, k)
			}
		}
	}
	if !slices.Equal(g.keys[0], g.keys[1]) {
		t.Errorf("the renditions' key frames differ: %v and %v", g.keys[0], g.keys[1])
	}
	if len(g.states) != 1 || g.states[0] != nil {
		t.Errorf("states told: %v; want one nil (the renditions came)", g.states)
	}
}

// The probe ends with an encoder that works here and says why; on a
// computer without one of the hardware encoders that is libx264, with
// each hardware encoder FFmpeg offers named with its error.
func TestProbe(t *testing.T) {
	bin, err := ffmpeg.Locate("")
	if err != nil {
		t.Fatal(err)
	}
	c := Probe(t.Context(), bin)
	t.Logf("%s: %s", c.Encoder.Name, c.Why)
	if c.Why == "" || !strings.HasPrefix(c.Why, c.Encoder.Name) {
		t.Errorf("the choice %q does not say why: %q", c.Encoder.Name, c.Why)
	}
	if err := try(t.Context(), bin, c.Encoder); err != nil {
		t.Errorf("the encoder chosen does not encode here: %v", err)
	}
	if err := try(t.Context(), bin, Encoder{Name: "h264_nonesuch"}); err == nil || !strings.Contains(err.Error(), "nonesuch") {
		t.Errorf("an encoder FFmpeg lacks: %v", err)
	}
}
