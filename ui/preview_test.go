package ui

import (
	"errors"
	"image"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onair-studio/onair/cmd/onair/studio"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/ui/player"
)

// TestPreviewPaneShowsPictures: while ffmpeg publishes, the stream page's
// preview pane receives the video over WHEP, decodes it and shows RGBA
// pictures of the stream's size; pausing stops the session.
func TestPreviewPaneShowsPictures(t *testing.T) {
	if err := player.LoadDecoder(); err != nil {
		t.Fatalf("this test decodes with OpenH264 (apt-get install libopenh264-7): %v", err)
	}
	mediatest.RequireTools(t)
	clip := mediatest.Preview.Path(t)
	h := newHarness(t)
	st := h.createByTyping("Preview show")
	h.eventually("the pane waits for the stream", func() bool { return h.shows("The preview shows here while the stream is live.") })
	mediatest.Publish(t, clip, h.studio.rtmp+"/"+st.Input.StreamKey, true)

	var first *image.RGBA
	h.within(15*time.Second, "a picture in the preview", func() bool {
		pp := h.v.page.preview
		img, ok := pp.img.Image.(*image.RGBA)
		if !ok || !pp.img.Visible() || img.Rect.Dx() != 640 {
			return false
		}
		first = img
		return true
	})
	h.ui(func() {
		if b := first.Rect; b.Dx() != 640 || b.Dy() != 360 {
			t.Errorf("picture of %v, want 640x360", b)
		}
		// testsrc2 is colourful: the picture is not one flat colour.
		seen := map[[3]uint8]bool{}
		for y := 0; y < 360; y += 20 {
			for x := 0; x < 640; x += 20 {
				o := first.PixOffset(x, y)
				seen[[3]uint8{first.Pix[o], first.Pix[o+1], first.Pix[o+2]}] = true
			}
		}
		if len(seen) < 20 {
			t.Errorf("the picture has only %d colours", len(seen))
		}
	})
	h.within(10*time.Second, "pictures keep coming", func() bool {
		return h.v.page.preview.pl.Counts().Handed >= 30
	})
	if h.studio.preview.Sessions() != 1 {
		t.Errorf("preview sessions: %d, want 1", h.studio.preview.Sessions())
	}
	if !strings.Contains(h.text(), "video only: WebRTC carries no AAC audio") {
		t.Errorf("the pane does not say the preview is silent:\n%s", h.text())
	}

	h.tap("Pause preview")
	h.within(10*time.Second, "the session ends when paused", func() bool { return h.studio.preview.Sessions() == 0 && h.shows("Preview paused.") })
	h.tap("Resume preview")
	h.within(10*time.Second, "a new session on resume", func() bool { return h.studio.preview.Sessions() == 1 })

	// Leaving the page ends the preview.
	h.ui(func() { h.v.showLibrary() })
	h.within(10*time.Second, "the session ends when the page is left", func() bool { return h.studio.preview.Sessions() == 0 })
}

// TestPreviewPaneSaysBFrames: an encoder sending B-frames is told how to
// turn them off in OBS.
func TestPreviewPaneSaysBFrames(t *testing.T) {
	if err := player.LoadDecoder(); err != nil {
		t.Fatalf("this test decodes with OpenH264 (apt-get install libopenh264-7): %v", err)
	}
	mediatest.RequireTools(t)
	clip := mediatest.Small.Path(t) // x264's preset: B-frames
	h := newHarness(t)
	st := h.createByTyping("B-frames show")
	mediatest.Publish(t, clip, h.studio.rtmp+"/"+st.Input.StreamKey, true)
	h.within(15*time.Second, "the B-frames hint", func() bool { return h.shows("x264 options: bframes=0") })
}

// When the preview's UDP port cannot be opened (Wine, a firewall), the
// studio runs without it and the stream page's preview card says why and
// what to do, instead of a blank or missing card.
func TestPreviewCardSaysWhyItIsOff(t *testing.T) {
	var allowed atomic.Bool
	h := newHarnessWith(t, func(c *studio.Config) {
		c.ListenUDP = func(network, addr string) (net.PacketConn, error) {
			if allowed.Load() {
				return net.ListenPacket(network, addr)
			}
			return nil, &net.OpError{Op: "listen", Net: "udp", Err: errors.New("wsaioctl: winapi error #10045")}
		}
	})
	h.createByTyping("No preview here")
	h.eventually("the card says why", func() bool {
		return h.shows("The live preview is off: ") && h.shows("allow UDP for OnAir Studio in the firewall") && h.shows("Try again")
	})
	h.ui(func() {
		if !h.v.page.preview.card.Visible() || h.v.page.preview.browser.Visible() {
			t.Error("the preview card is hidden, or offers a browser preview that cannot work")
		}
	})

	// Still refused: it says so again; allowed: the preview runs, no restart.
	h.tap("Try again")
	h.eventually("still off", func() bool { return h.shows("The live preview is off") && h.shows("10045") })
	allowed.Store(true)
	h.tap("Try again")
	h.eventually("the preview on", func() bool {
		return h.shows("The preview shows here while the stream is live") && !h.shows("Try again") && h.shows("Open preview in browser")
	})
}

// An H.265 stream over SRT: the page names the codec in what comes in,
// and the preview says it needs H.264 and what to change in OBS, instead
// of trying and failing.
func TestHEVCStreamPage(t *testing.T) {
	mediatest.RequireTools(t)
	clip := mediatest.Clip{Width: 640, Height: 360, FPS: 30, Seconds: 10, VideoKbps: 600, AudioKbps: 96, HEVC: true, NoBFrames: true}.Path(t)
	h := newHarness(t)
	st := h.createByTyping("HEVC show")
	if st.SRTURI == "" {
		t.Fatal("the stream has no SRT URL")
	}
	h.eventually("the page offers the SRT URL", func() bool { return h.shows("Or SRT") })
	mediatest.PublishSRT(t, clip, st.SRTURI)
	h.within(20*time.Second, "the codec and the preview's advice", func() bool {
		return h.shows("Video: H265 640×360") && h.shows("No preview: the live preview (in the window and the browser) needs H.264")
	})
	h.ui(func() {
		if pp := h.v.page.preview; pp.browser.Visible() || pp.blank.Visible() {
			t.Error("an empty picture or a browser preview is offered for an H.265 stream")
		}
	})
}
