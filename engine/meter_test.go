package engine_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine"
	"github.com/onair-studio/onair/engine/ffmpeg"
	"github.com/onair-studio/onair/engine/ingest"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/store"
)

// The sound of at most MaxMeters live sessions is measured at once; the
// others say why they have no levels, and the meter is free again when
// its session ends.
func TestMetersBoundedAtOnce(t *testing.T) {
	bin, err := ffmpeg.Locate("")
	if err != nil {
		t.Skip(err)
	}
	clip := mediatest.Small.Path(t)
	st, err := store.Open(filepath.Join(t.TempDir(), "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng := &engine.Service{Repo: st, RTMPURL: "rtmp://x/live", HTTPURL: "http://x", Outputs: hlsOnly(), Logger: quiet(),
		FFmpeg: bin, MaxMeters: 1}
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	rtm := &ingest.Server{Address: "127.0.0.1:0", Authorizer: eng, Logger: quiet()}
	if err := rtm.Start(); err != nil {
		t.Fatal(err)
	}
	defer rtm.Close()
	a, b := create(t, eng, 60), create(t, eng, 60)
	pa := mediatest.Publish(t, clip, "rtmp://"+rtm.Addr().String()+"/live/"+a.Input.StreamKey, true)
	defer pa.Stop()
	waitSound := func(id, what string, ok func(channels int, errText string) bool) {
		t.Helper()
		for end := time.Now().Add(20 * time.Second); ; {
			s, live, _ := eng.Stats(id)
			if live && s.Sound != nil && ok(len(s.Sound.Channels), s.Sound.Error) {
				return
			}
			if time.Now().After(end) {
				t.Fatalf("%s: stats.Sound %+v", what, s.Sound)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitSound(a.ID, "the first stream measured", func(n int, e string) bool { return n > 0 && e == "" })
	pb := mediatest.Publish(t, clip, "rtmp://"+rtm.Addr().String()+"/live/"+b.Input.StreamKey, true)
	defer pb.Stop()
	waitSound(b.ID, "the second stream not measured, and why", func(n int, e string) bool {
		return n == 0 && strings.Contains(e, "at most 1 live streams")
	})
}
