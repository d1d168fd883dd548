package ui

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/obs/obstest"
)

// The stream page drives the real OBS Studio: it says when OBS is not
// there, then Start streams this stream from OBS, the page shows OBS's
// figures next to what comes in, and Stop stops OBS; then the same over
// SRT when the streamer picks it.
func TestOBSFromTheStreamPage(t *testing.T) {
	mediatest.RequireTools(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	h := newHarness(t)
	st := h.createByTyping("OBS show")
	h.eventually("OBS is not there", func() bool { return h.shows("OBS is not running or obs-websocket is off") && h.shows("[Look again]") })
	h.tap("Look again")

	// The connection is set in Settings: a wrong password first.
	obstest.Start(t, port, "pw")
	h.tap("Settings")
	var s *settingsPage
	h.ui(func() { s = h.v.settings })
	h.typeInto(s.obsPort.entry, strconv.Itoa(port))
	h.typeInto(s.obsPass.entry, "not-it")
	// OBS takes a few seconds to open its WebSocket server: test until it answers.
	deadline := time.Now().Add(90 * time.Second)
	for {
		h.tap("Save and test connection")
		h.within(10e9, "an answer", func() bool { return h.shows("Saved. ") })
		if strings.Contains(h.text(), "wrong obs-websocket password") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("OBS never answered: %s", h.text())
		}
		time.Sleep(time.Second)
	}
	h.typeInto(s.obsPass.entry, "pw")
	h.tap("Save and test connection")
	h.within(10e9, "connected", func() bool { return h.shows("Saved. Connected to OBS ") })
	h.ui(func() { h.v.open(st.ID) })
	h.within(10e9, "OBS found on the page", func() bool { return (h.shows("OBS 29") || h.shows("OBS 3")) && !h.shows("[Look again]") })

	var p *streamPage
	h.ui(func() { p = h.v.page })
	h.ui(func() { test.Tap(p.obs.start) })
	h.within(30e9, "live from OBS, with OBS's figures", func() bool {
		return h.shows("streaming to this studio over RTMP") && h.shows("OBS sent ") && h.shows("live · ")
	})
	if got, _ := h.eng.Get(st.ID); got.Status != livestream.StatusActive {
		t.Fatalf("stream %s", got.Status)
	}
	// While OBS streams here, the history has OBS's congestion and the
	// page draws it.
	h.within(10e9, "OBS's congestion in the history and its graph", func() bool {
		hist, _, _ := h.eng.History(st.ID, 5)
		return len(hist) > 0 && hist[len(hist)-1].OBSCongestion != nil && p.graphs.congestion.Visible() &&
			h.shows("OBS congestion · now: ")
	})
	h.ui(func() { test.Tap(p.obs.stop) })
	h.within(15e9, "OBS stopped", func() bool { return h.shows("set to this studio over RTMP: press Start") })
	h.eventually("the publisher gone", func() bool { got, _ := h.eng.Get(st.ID); return !got.Publishing })

	// Over SRT: OBS gets the whole SRT URL as its server.
	h.ui(func() { p.obs.via.SetSelected("SRT"); test.Tap(p.obs.start) })
	h.within(30e9, "live from OBS over SRT", func() bool {
		s, ok, _ := h.eng.Stats(st.ID)
		return h.shows("streaming to this studio over SRT") && ok && s.Publishing && s.FramesReceived > 30
	})
	if s, _, _ := h.eng.Stats(st.ID); s.VideoCodec != "h264" || s.AudioCodec != "aac" {
		t.Errorf("what OBS sends over SRT: %+v", s)
	}
	if strings.Contains(h.text(), st.Input.StreamKey) {
		t.Error("the page shows the stream key in OBS's status")
	}
	h.ui(func() { test.Tap(p.obs.stop) })
	h.within(15e9, "OBS stopped", func() bool { return h.shows("set to this studio over SRT: press Start") })
}
