package still

import (
	"testing"

	"github.com/onair-studio/onair/engine/mediatest"
)

// What one thumbnail costs: decoding a 720p key frame with OpenH264 and
// writing the JPEG, at the stream's size and at the list's width. Each
// iteration uses a new key frame (a cached one costs nothing).
func BenchmarkThumbnail(b *testing.B) {
	keys := keyFrames(b, mediatest.Standard)
	for _, c := range []struct {
		name  string
		width int
	}{{"720p", 0}, {"list", 128}} {
		b.Run(c.name, func(b *testing.B) {
			th := &Thumbnails{NewDecoder: realDecoder}
			i := 0
			for b.Loop() {
				k := *keys[i%len(keys)] // a new key frame each time
				if _, err := th.Get("s", &k, c.width); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
