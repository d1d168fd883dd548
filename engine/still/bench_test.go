package still

import (
	"testing"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/mediatest/clipunits"
)

// What one thumbnail costs: decoding a 720p key frame with OpenH264 and
// writing the JPEG, at the stream's size and at the list's width. Each
// iteration uses a new key frame (a cached one costs nothing).
func BenchmarkThumbnail(b *testing.B) {
	_, units := clipunits.Units(b, mediatest.Standard)
	var keys []*media.Unit
	for _, u := range units {
		if u.Kind == media.KindVideo && u.Key {
			keys = append(keys, u)
		}
	}
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
