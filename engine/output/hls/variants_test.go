package hls

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest/clipunits"
)

func copyUnits(us []*media.Unit) []*media.Unit { return clipunits.Copy(us) }

// Every selectable variant serves a playable playlist through Output.
func TestVariants(t *testing.T) {
	tr, units := clipUnits(t)
	for _, name := range []string{VariantLowLatency, VariantFMP4, VariantMPEGTS} {
		t.Run(name, func(t *testing.T) {
			variant, err := ParseVariant(name)
			if err != nil {
				t.Fatal(err)
			}
			s := &hub.Stream{Logger: quiet()}
			o := &Output{Variant: variant, Dir: t.TempDir(), Logger: quiet()}
			o.Start(s)
			srv := httptest.NewServer(o)
			defer func() {
				srv.Close()
				o.Close()
				s.Close()
			}()
			s.StartPublisher(tr)
			for i := 0; i < len(units); i += 30 { // in batches, as ingest hands them over
				end := min(i+30, len(units))
				cp := copyUnits(units[i:end])
				s.PublishBatch(cp)
				time.Sleep(2 * time.Millisecond)
			}
			get := func(path string) []byte {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/"+path, nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK || len(b) == 0 {
					t.Fatalf("GET %s: %d %q", path, resp.StatusCode, b)
				}
				return b
			}
			pl, err := playlist.Unmarshal(get("index.m3u8"))
			if err != nil {
				t.Fatal(err)
			}
			mv := pl.(*playlist.Multivariant)
			mediaText := get(mv.Variants[0].URI)
			var m playlist.Media
			if err := m.Unmarshal(mediaText); err != nil {
				t.Fatalf("media playlist: %v\n%s", err, mediaText)
			}
			var seg *playlist.MediaSegment
			for _, sg := range m.Segments {
				if !sg.Gap {
					seg = sg
					break
				}
			}
			if seg == nil {
				t.Fatalf("no segment:\n%s", mediaText)
			}
			data := get(seg.URI)
			hasParts := strings.Contains(string(mediaText), "#EXT-X-PART:")
			switch name {
			case VariantMPEGTS:
				if data[0] != 0x47 {
					t.Fatalf("MPEG-TS segment starts with %#x", data[0])
				}
			case VariantFMP4:
				if hasParts || string(data[4:8]) != "moof" {
					t.Fatalf("fMP4: parts=%v, segment starts with %q", hasParts, data[4:8])
				}
			case VariantLowLatency:
				if !hasParts || string(data[4:8]) != "moof" {
					t.Fatalf("low-latency: parts=%v, segment starts with %q", hasParts, data[4:8])
				}
			}
		})
	}
}

// The MPEG-TS variant cannot carry AV1: the output says which variants can.
func TestMPEGTSVariantRefusesAV1(t *testing.T) {
	_, err := newGohlslibMuxer(media.Tracks{Video: &media.VideoParams{Codec: media.AV1}}, gohlslib.MuxerVariantMPEGTS, 7, time.Second, 200*time.Millisecond, nil)
	if err == nil || !strings.Contains(err.Error(), "lowlatency or fmp4") {
		t.Fatalf("an AV1 stream in the MPEG-TS variant: %v", err)
	}
}
