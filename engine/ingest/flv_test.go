package ingest

import (
	"bytes"
	"testing"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
)

func readTags(t testing.TB, path string) []mediatest.Tag {
	t.Helper()
	tags, err := mediatest.ReadFLV(path)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

func TestDepacketizeRealClip(t *testing.T) {
	tags := readTags(t, mediatest.Small.Path(t))
	var d Depacketizer
	var video, audio, keys int
	var lastDTS = map[media.Kind]int64{}
	for i, tg := range tags {
		var u *media.Unit
		var err error
		if tg.Video {
			u, err = d.Video(tg.Timestamp, bytes.Clone(tg.Body))
		} else {
			u, err = d.Audio(tg.Timestamp, bytes.Clone(tg.Body))
		}
		if err != nil {
			t.Fatalf("tag %d: %v", i, err)
		}
		if u == nil {
			continue
		}
		if int64(u.DTS) < lastDTS[u.Kind] {
			t.Fatalf("tag %d: DTS goes back", i)
		}
		lastDTS[u.Kind] = int64(u.DTS)
		switch u.Kind {
		case media.KindVideo:
			video++
			if u.Key {
				keys++
				if u.NALUs[0][0]&0x1f != 7 || u.NALUs[1][0]&0x1f != 8 {
					t.Fatalf("key frame %d does not start with SPS, PPS", i)
				}
			}
		case media.KindAudio:
			audio++
		}
	}
	tr := d.Tracks()
	if tr.Video == nil || tr.Audio == nil {
		t.Fatal("tracks not found")
	}
	if w, h := tr.Video.Width, tr.Video.Height; w != 640 || h != 360 {
		t.Errorf("size %dx%d", w, h)
	}
	c := mediatest.Small
	if video != c.FPS*c.Seconds {
		t.Errorf("video units %d, want %d", video, c.FPS*c.Seconds)
	}
	if keys != c.Seconds/2 {
		t.Errorf("key frames %d, want %d", keys, c.Seconds/2)
	}
	if want := c.Seconds * 48000 / 1024; audio < want-2 || audio > want+2 {
		t.Errorf("audio units %d, want about %d", audio, want)
	}
}

// BenchmarkDepacketize converts the real clip's tags, as one publisher's
// ingest does; ns/op and allocs/op are per tag.
func BenchmarkDepacketize(b *testing.B) {
	tags := readTags(b, mediatest.Small.Path(b))
	var d Depacketizer
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		tg := &tags[i%len(tags)]
		i++
		if tg.Video {
			d.Video(tg.Timestamp, tg.Body)
		} else {
			d.Audio(tg.Timestamp, tg.Body)
		}
	}
}
