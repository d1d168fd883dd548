package ui

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onair-studio/onair/cmd/onair/studio"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/picture"
)

// TestPreviewPaneShowsPictures: while ffmpeg publishes, the stream page's
// preview pane receives the video over WHEP, decodes it and shows RGBA
// pictures of the stream's size; pausing stops the session.
func TestPreviewPaneShowsPictures(t *testing.T) {
	if err := picture.LoadDecoder(); err != nil {
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
	if text := h.text(); !strings.Contains(text, "Sound off") {
		t.Errorf("the preview's sound is not off at first:\n%s", text)
	}

	h.tap("Pause preview")
	h.within(10*time.Second, "the session ends when paused", func() bool { return h.studio.preview.Sessions() == 0 && h.shows("Preview paused.") })
	h.tap("Resume preview")
	h.within(10*time.Second, "a new session on resume", func() bool { return h.studio.preview.Sessions() == 1 })

	// Leaving the page ends the preview.
	h.ui(func() { h.v.showLibrary() })
	h.within(10*time.Second, "the session ends when the page is left", func() bool { return h.studio.preview.Sessions() == 0 })
}

// TestPreviewPaneSound: the preview is silent until Sound is pressed;
// then the session starts again with the sound, which reaches the speaker
// as the clip's 440 Hz tone; pressed again, the sound stops.
func TestPreviewPaneSound(t *testing.T) {
	if err := picture.LoadDecoder(); err != nil {
		t.Fatalf("this test decodes with OpenH264 (apt-get install libopenh264-7): %v", err)
	}
	mediatest.RequireTools(t)
	clip := mediatest.Preview.Path(t)
	h := newHarness(t)
	st := h.createByTyping("Preview sound")
	mediatest.Publish(t, clip, h.studio.rtmp+"/"+st.Input.StreamKey, true)
	h.within(15*time.Second, "pictures in the preview", func() bool {
		return h.v.page.preview.pl != nil && h.v.page.preview.pl.Counts().Handed >= 10
	})
	time.Sleep(time.Second)
	if pcm, _ := h.studio.ear.heard(); len(pcm) != 0 || !strings.Contains(h.text(), "Sound off") {
		t.Fatalf("%d bytes of sound before Sound was pressed", len(pcm))
	}
	h.tap("Sound off")
	const twoSeconds = 2 * 48000 * 4
	h.within(20*time.Second, "two seconds of sound", func() bool {
		pcm, _ := h.studio.ear.heard()
		return h.shows("Sound on") && len(pcm) >= twoSeconds
	})
	if n := h.studio.preview.Sessions(); n != 1 {
		t.Errorf("preview sessions with the sound on: %d, want 1", n)
	}
	pcm, _ := h.studio.ear.heard()
	left := make([]int16, len(pcm)/4)
	for i := range left {
		left[i] = int16(binary.LittleEndian.Uint16(pcm[4*i:]))
	}
	hz := mediatest.ToneHz(left, 48000)
	t.Logf("%d bytes of sound, the tone at %.1f Hz", len(pcm), hz)
	if math.Abs(hz-440) > 5 {
		t.Errorf("the preview's sound is at %.1f Hz; want 440 ± 5", hz)
	}
	h.tap("Sound on")
	h.within(10*time.Second, "the sound stopped", func() bool {
		_, resets := h.studio.ear.heard()
		return h.shows("Sound off") && resets > 0
	})
	time.Sleep(500 * time.Millisecond)
	before, _ := h.studio.ear.heard()
	time.Sleep(2 * time.Second)
	if after, _ := h.studio.ear.heard(); len(after) != len(before) {
		t.Errorf("%d bytes of sound came after it was turned off", len(after)-len(before))
	}
}

// TestPreviewPaneSaysBFrames: an encoder sending B-frames is told how to
// turn them off in OBS.
func TestPreviewPaneSaysBFrames(t *testing.T) {
	if err := picture.LoadDecoder(); err != nil {
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
	h.eventually("still off, after the retry", func() bool {
		return !h.v.page.preview.retry.Disabled() && h.shows("The live preview is off") && h.shows("10045")
	})
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

// Without OpenH264 on a system Cisco builds it for, the preview card offers
// the download: a build whose SHA-256 is not the pinned one is refused with
// the reason and nothing kept; the right one is fetched, checked and loaded,
// and the preview goes on. (The library here is the system's, compressed as
// Cisco serves its builds, from a local server.)
func TestPreviewOffersOpenH264(t *testing.T) {
	libs, _ := filepath.Glob("/usr/lib/*/libopenh264.so.7")
	if len(libs) == 0 {
		t.Fatal("libopenh264.so.7 stands in for Cisco's build (apt-get install libopenh264-7)")
	}
	bz, err := exec.Command("bzip2", "-c", libs[0]).Output()
	if err != nil {
		t.Fatalf("bzip2 (apt-get install bzip2): %v", err)
	}
	lib, err := os.ReadFile(libs[0])
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(bz) }))
	defer srv.Close()
	h := newHarness(t)
	codec := h.studio.codec
	codec.d = picture.Download{URL: srv.URL + "/libopenh264-test.so.bz2", File: "libopenh264-test.so", SHA256: strings.Repeat("0", 64)}
	h.createByTyping("No decoder here")
	h.ui(func() {
		pp := h.v.page.preview
		pp.ended(pp.run, fmt.Errorf("%w: not found", picture.ErrNoDecoder)) // what the player says without OpenH264
	})
	h.eventually("the offer", func() bool { return h.shows("[Download OpenH264]") && h.shows("SHA-256 is checked") })

	h.tap("Download OpenH264")
	h.eventually("the refusal", func() bool { return h.shows("OpenH264 was not installed") && h.shows("not the pinned one") })
	if kept, _ := os.ReadDir(codec.dir); len(kept) != 0 {
		t.Errorf("a refused download left %d files", len(kept))
	}
	codec.mu.Lock()
	codec.d.SHA256 = fmt.Sprintf("%x", sha256.Sum256(lib))
	codec.mu.Unlock()
	h.tap("Download OpenH264")
	h.eventually("installed, the card back to the preview", func() bool {
		return !h.shows("[Download OpenH264]") && h.shows("The preview shows here while the stream is live")
	})
	if kept, _ := os.ReadDir(codec.dir); len(kept) != 1 {
		t.Errorf("%d files kept, want the library", len(kept))
	}
}
