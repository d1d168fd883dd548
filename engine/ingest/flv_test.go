package ingest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	flv "github.com/yutopp/go-flv"
	flvtag "github.com/yutopp/go-flv/tag"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
)

// tagBodies reads an FLV file into its raw tag bodies, as RTMP carries them.
type rawTag struct {
	video bool
	ts    uint32
	body  []byte
}

func readTags(t testing.TB, path string) []rawTag {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec, err := flv.NewDecoder(f)
	if err != nil {
		t.Fatal(err)
	}
	var tags []rawTag
	for {
		var tag flvtag.FlvTag
		if err := dec.Decode(&tag); err != nil {
			if errors.Is(err, io.EOF) {
				return tags
			}
			t.Fatal(err)
		}
		var body []byte
		switch d := tag.Data.(type) {
		case *flvtag.VideoData:
			hdr := []byte{byte(d.FrameType)<<4 | byte(d.CodecID), byte(d.AVCPacketType),
				byte(d.CompositionTime >> 16), byte(d.CompositionTime >> 8), byte(d.CompositionTime)}
			rest, _ := io.ReadAll(d.Data)
			body = append(hdr, rest...)
			tags = append(tags, rawTag{video: true, ts: tag.Timestamp, body: body})
		case *flvtag.AudioData:
			hdr := []byte{byte(d.SoundFormat)<<4 | byte(d.SoundRate)<<2 | byte(d.SoundSize)<<1 | byte(d.SoundType), byte(d.AACPacketType)}
			rest, _ := io.ReadAll(d.Data)
			body = append(hdr, rest...)
			tags = append(tags, rawTag{ts: tag.Timestamp, body: body})
		}
		tag.Close()
	}
}

func TestDepacketizeRealClip(t *testing.T) {
	tags := readTags(t, mediatest.Small.Path(t))
	var d Depacketizer
	var video, audio, keys int
	var lastDTS = map[media.Kind]int64{}
	for i, tg := range tags {
		var u *media.Unit
		var err error
		if tg.video {
			u, err = d.Video(tg.ts, bytes.Clone(tg.body))
		} else {
			u, err = d.Audio(tg.ts, bytes.Clone(tg.body))
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
	if w, h := tr.Video.Size(); w != 640 || h != 360 {
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
