package ui

import (
	"strings"
	"testing"

	"github.com/onair-studio/onair/engine/livestream"
)

// The public playback address from Settings: a wrong one is refused under
// its field and not saved; a right one is saved and is at once the start
// of every stream's HLS address.
func TestPublicPlaybackAddress(t *testing.T) {
	h := newHarness(t)
	st, err := h.eng.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}})
	if err != nil {
		t.Fatal(err)
	}
	h.tap("Settings")
	var c *publicCard
	h.ui(func() { c = h.v.settings.public })
	h.typeInto(c.url.entry, "cdn.example.com")
	h.ui(func() { c.submit() })
	h.ui(func() {
		if !strings.Contains(c.url.err.Text, "https://cdn.example.com") {
			t.Errorf("a wrong address says %q", c.url.err.Text)
		}
	})
	if set, _ := h.st.LoadSettings(); set.PublicURL != "" {
		t.Fatalf("a wrong address was saved: %q", set.PublicURL)
	}
	h.typeInto(c.url.entry, "https://cdn.example.com")
	h.ui(func() { c.submit() })
	h.eventually("saved", func() bool { return h.shows("HLS addresses now begin with https://cdn.example.com") })
	got, _ := h.eng.Get(st.ID)
	for _, o := range got.Outputs {
		if o.Type == livestream.OutputHLS && o.URI != "https://cdn.example.com/hls/"+st.ID+"/index.m3u8" {
			t.Fatalf("HLS address %s", o.URI)
		}
	}
	if set, _ := h.st.LoadSettings(); set.PublicURL != "https://cdn.example.com" {
		t.Fatalf("saved %q", set.PublicURL)
	}
}
