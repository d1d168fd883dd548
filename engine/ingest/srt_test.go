package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
	srt "github.com/datarhei/gosrt"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
)

func TestPublishKey(t *testing.T) {
	for id, want := range map[string]string{
		"publish:abc":             "abc",
		"#!::r=abc,m=publish":     "abc",
		"#!::m=publish,r=abc,u=x": "abc",
		"read:abc":                "",
		"publish:":                "",
		"publish:a/b":             "",
		"#!::r=abc,m=request":     "",
		"abc":                     "",
	} {
		got, ok := publishKey(id)
		if (want != "") != ok || (ok && got != want) {
			t.Errorf("%q: %q %v, want %q", id, got, ok, want)
		}
	}
}

// sampleTS is an MPEG-TS program as ffmpeg sends over SRT: H.264 with its
// parameter sets in band, and AAC.
func sampleTS(t testing.TB) []byte {
	t.Helper()
	sps := mustHex("6764001eacd940a02ff970110000030001000003003c0f162d96")
	pps := mustHex("68efbcb0")
	var conf mpeg4audio.AudioSpecificConfig
	if err := conf.Unmarshal(seedAACConfig[2:]); err != nil {
		t.Fatal(err)
	}
	video := &mpegts.Track{Codec: &tscodecs.H264{}}
	audio := &mpegts.Track{Codec: &tscodecs.MPEG4Audio{Config: conf}}
	var buf bytes.Buffer
	w := &mpegts.Writer{W: &buf, Tracks: []*mpegts.Track{video, audio}}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		ts := int64(i) * 3000 // 30 fps at 90 kHz
		au := [][]byte{{0x41, 0x9a, byte(i)}}
		if i%5 == 0 {
			au = [][]byte{sps, pps, {0x65, 0x88, 0x84, byte(i)}}
		}
		if err := w.WriteH264(video, ts+1000, ts, au); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteMPEG4Audio(audio, ts, [][]byte{{0x21, 0x10, byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// tsConn reads a byte slice as an SRT connection would be read.
type tsConn struct{ *bytes.Reader }

func (tsConn) SetReadDeadline(time.Time) error { return nil }

type tsRecorder struct {
	tracks []media.Tracks
	units  []*media.Unit
	closed bool
}

func (r *tsRecorder) StartTracks(t media.Tracks)  { r.tracks = append(r.tracks, t) }
func (r *tsRecorder) WriteUnits(us []*media.Unit) { r.units = append(r.units, us...) }
func (r *tsRecorder) Close()                      { r.closed = true }

func readTS(b []byte) (*tsRecorder, error) {
	rec := &tsRecorder{}
	r := &tsReader{conn: tsConn{bytes.NewReader(b)}, target: rec, publishTimeout: time.Second,
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return rec, r.run()
}

// The tracks start with the in-band parameters (the SPS read for its
// size); key frames carry them; times are on a timeline from zero.
func TestTSReader(t *testing.T) {
	rec, err := readTS(sampleTS(t))
	if !errors.Is(err, io.EOF) && !strings.Contains(fmt.Sprint(err), "EOF") {
		t.Fatalf("read ended with %v, want the end of the input", err)
	}
	if !rec.closed || len(rec.tracks) != 1 {
		t.Fatalf("closed %v, tracks %d", rec.closed, len(rec.tracks))
	}
	tr := rec.tracks[0]
	if tr.Video == nil || tr.Video.Width != 640 || tr.Video.Height != 360 || tr.Audio == nil || tr.Audio.Config.SampleRate == 0 {
		t.Fatalf("tracks %+v", tr)
	}
	var video, audio, keys int
	for _, u := range rec.units {
		switch u.Kind {
		case media.KindVideo:
			video++
			if u.Key {
				keys++
				if len(u.NALUs) < 3 {
					t.Errorf("a key frame without its parameter sets: %d NALUs", len(u.NALUs))
				}
			}
			if u.PTS-u.DTS != 1000*time.Second/90000 {
				t.Errorf("composition offset %v", u.PTS-u.DTS)
			}
		case media.KindAudio:
			audio++
		}
	}
	if video != 10 || keys != 2 || audio < 9 {
		t.Errorf("%d video units (%d keys), %d audio", video, keys, audio)
	}
}

// Whatever an SRT publisher sends, reading it neither panics nor hands
// on a malformed unit.
func FuzzTSReader(f *testing.F) {
	f.Add(sampleTS(f))
	f.Add(sampleTS(f)[:188*3])
	// The start of a real H.265 and AAC program, as ffmpeg sends it.
	hevc, err := os.ReadFile(mediatest.Clip{Width: 320, Height: 180, FPS: 30, Seconds: 2, VideoKbps: 300, AudioKbps: 64, HEVC: true, NoBFrames: true}.Path(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(hevc[:min(len(hevc), 188*200)])
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, _ := readTS(b)
		if !rec.closed {
			t.Fatal("the target was not closed")
		}
		for _, u := range rec.units {
			if (u.Kind == media.KindVideo && len(u.NALUs) == 0) || (u.Kind == media.KindAudio && len(u.Frame) == 0) {
				t.Fatalf("malformed unit %+v", u)
			}
		}
	})
}

// A real SRT client (gosrt's caller) against the listener: the stream id,
// the passphrase and the key decide at the handshake; an admitted
// publisher's MPEG-TS reaches its target.
func TestSRTServerHandshake(t *testing.T) {
	rec := &recorder{}
	var refused []string
	var mu sync.Mutex
	s := &SRTServer{Address: "127.0.0.1:0", Passphrase: "ten chars!!", Authorizer: keys{"good": rec},
		OnRefused: func(_, reason string) { mu.Lock(); refused = append(refused, reason); mu.Unlock() },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	dial := func(streamID, passphrase string) (srt.Conn, error) {
		cfg := srt.DefaultConfig()
		cfg.StreamId, cfg.Passphrase = streamID, passphrase
		return srt.Dial("srt", s.Addr().String(), cfg)
	}
	for _, c := range []struct{ id, pass, why string }{
		{"publish:good", "", "no passphrase"},
		{"publish:good", "wrong one!!", "wrong passphrase"},
		{"read:good", "ten chars!!", "a stream id that does not publish"},
		{"publish:bad", "ten chars!!", "an unknown key"},
	} {
		if conn, err := dial(c.id, c.pass); err == nil {
			conn.Close()
			t.Errorf("%s was admitted", c.why)
		}
	}
	mu.Lock()
	if len(refused) != 3 { // the unknown key is the authorizer's to tell
		t.Errorf("refusals told: %q", refused)
	}
	mu.Unlock()
	conn, err := dial("publish:good", "ten chars!!")
	if err != nil {
		t.Fatalf("the right passphrase and key: %v", err)
	}
	ts := sampleTS(t)
	for len(ts) > 0 {
		n := min(len(ts), 7*188)
		if _, err := conn.Write(ts[:n]); err != nil {
			t.Fatal(err)
		}
		ts = ts[n:]
	}
	deadline := time.Now().Add(5 * time.Second)
	for rec.count() < 10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	conn.Close()
	if n := rec.count(); n < 10 {
		t.Fatalf("%d units reached the target", n)
	}
}

// H.265 over MPEG-TS: the tracks start with VPS, SPS and PPS read for the
// size, and every key frame carries the three.
func TestTSReaderHEVC(t *testing.T) {
	b, err := os.ReadFile(mediatest.Clip{Width: 320, Height: 180, FPS: 30, Seconds: 2, VideoKbps: 300, AudioKbps: 64, HEVC: true, NoBFrames: true}.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := readTS(b)
	if len(rec.tracks) != 1 || rec.tracks[0].Video == nil || rec.tracks[0].Video.Codec != media.H265 || rec.tracks[0].Video.Width != 320 {
		t.Fatalf("tracks %+v", rec.tracks)
	}
	keys, video := 0, 0
	for _, u := range rec.units {
		if u.Kind != media.KindVideo {
			continue
		}
		video++
		if u.Key {
			keys++
			if k := kindOf(media.H265, u.NALUs[0][0]); k != naluVPS || len(u.NALUs) < 4 {
				t.Errorf("a key frame starts with %v, %d NAL units", k, len(u.NALUs))
			}
		}
	}
	if video < 55 || keys < 1 {
		t.Errorf("%d video units, %d key frames", video, keys)
	}
}
