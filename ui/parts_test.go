package ui

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"

	"github.com/onair-studio/onair/cmd/onair/studio"
)

// When optional parts cannot start (SRT's port taken by another program,
// the preview's UDP refused), the window says so where the user looks: the
// Settings button counts them, Settings lists every part with why the
// others are off, a stream's page says SRT is not available instead of
// offering no SRT at all; the preview can be tried again from Settings.
func TestWindowSaysWhichPartsAreOff(t *testing.T) {
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	var allowed atomic.Bool
	h := newHarnessWith(t, func(c *studio.Config) {
		c.SRTAddr = taken.LocalAddr().String()
		c.ListenUDP = func(network, addr string) (net.PacketConn, error) {
			if allowed.Load() {
				return net.ListenPacket(network, addr)
			}
			return nil, &net.OpError{Op: "listen", Net: "udp", Err: errors.New("wsaioctl: winapi error #10045")}
		}
	})
	h.eventually("the Settings button counts the parts off", func() bool { return h.shows("Settings · 2 parts off") })

	st := h.createByTyping("Evening show")
	h.eventually("the page says SRT is not available and why", func() bool {
		return h.v.page != nil && h.v.page.st.ID == st.ID && h.shows("Not available in this run: ") && h.shows(taken.LocalAddr().String())
	})

	h.tap("Settings · 2 parts off")
	h.eventually("Settings lists every part", func() bool {
		return h.shows("What runs") && h.shows("RTMP for encoders") && h.shows("SRT for encoders") &&
			h.shows("not running: ") && h.shows("allow UDP for OnAir Studio") && !h.shows("Remote access")
	})
	allowed.Store(true)
	h.tap("Try again")
	h.eventually("the preview runs and the count goes down", func() bool {
		return h.shows("Settings · 1 part off") && !h.shows("allow UDP for OnAir Studio")
	})
}
