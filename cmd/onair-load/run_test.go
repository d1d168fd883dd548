package main

import (
	"strings"
	"testing"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

const llPlaylist = `#EXTM3U
#EXT-X-VERSION:9
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.66000
#EXT-X-PART-INF:PART-TARGET=0.22000
#EXT-X-MEDIA-SEQUENCE:4
#EXT-X-MAP:URI="ab_init.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-26T15:00:00.1Z
#EXTINF:2.00000,
ab_seg4.mp4
#EXT-X-PROGRAM-DATE-TIME:2026-11-26T15:00:02.1Z
#EXT-X-PART:DURATION=0.20000,URI="ab_part5_0.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.20000,URI="ab_part5_1.mp4"
#EXTINF:0.40000,
ab_seg5.mp4
#EXT-X-PART:DURATION=0.20000,URI="ab_part6_0.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.20000,URI="ab_part6_1.mp4"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="ab_part6_2.mp4"
`

// newestURI finds what a full parse finds: the newest part, or the newest
// segment.
func TestNewestURI(t *testing.T) {
	var m playlist.Media
	if err := m.Unmarshal([]byte(llPlaylist)); err != nil {
		t.Fatal(err)
	}
	if got, ok := newestURI([]byte(llPlaylist), true); !ok || got != m.Parts[len(m.Parts)-1].URI {
		t.Errorf("newest part %q, %v; want %q", got, ok, m.Parts[len(m.Parts)-1].URI)
	}
	if got, ok := newestURI([]byte(llPlaylist), false); !ok || got != m.Segments[len(m.Segments)-1].URI {
		t.Errorf("newest segment %q, %v; want %q", got, ok, m.Segments[len(m.Segments)-1].URI)
	}
	for _, bad := range []string{"", "not a playlist", "#EXTM3U\n#EXT-X-PART:DURATION=0.2\n"} {
		if got, ok := newestURI([]byte(bad), true); ok {
			t.Errorf("newestURI(%q) = %q", bad, got)
		}
	}
}

// newestURI reads what a server sends: any input gives an answer or a
// refusal, never a panic, and an answer is one clean token.
func FuzzNewestURI(f *testing.F) {
	f.Add([]byte(llPlaylist), true)
	f.Add([]byte(llPlaylist), false)
	f.Add([]byte("#EXTM3U\n#EXT-X-PART:URI=\"\n"), true)
	f.Fuzz(func(t *testing.T, pl []byte, parts bool) {
		uri, ok := newestURI(pl, parts)
		if !ok {
			return
		}
		if uri == "" || strings.ContainsAny(uri, "\r\n") {
			t.Fatalf("newestURI gave %q", uri)
		}
		if parts && strings.Contains(string(pl), "#EXT-X-PART:") {
			if strings.Contains(uri, `"`) {
				t.Fatalf("a part URI with a quote: %q", uri)
			}
		} else if uri[0] == '#' {
			t.Fatalf("a tag taken for a segment URI: %q", uri)
		}
	})
}
