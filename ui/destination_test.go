package ui

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/onair-studio/onair/engine/ingest"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
)

// sinkServer is a real RTMP server (the studio's ingest) to send to.
type sinkServer struct{ key string }

func (s sinkServer) Authorize(key, _ string, _ func()) (ingest.Target, error) {
	if key != s.key {
		return nil, errors.New("unknown stream key")
	}
	return discard{}, nil
}

type discard struct{}

func (discard) StartTracks(media.Tracks) {}
func (discard) WriteUnits([]*media.Unit) {}
func (discard) Close()                   {}

func startSinkAt(t *testing.T, addr, key string) *ingest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &ingest.Server{Listener: ln, Authorizer: sinkServer{key: key}, Logger: quiet()}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// countLines counts the shown texts that are exactly s.
func countLines(text, s string) int {
	n := 0
	for line := range strings.SplitSeq(text, "\n") {
		if line == s {
			n++
		}
	}
	return n
}

// The stream page shows a destination's status live: broadcasting, then
// errored with its last error when the destination goes away, then
// broadcasting again once it is back.
func TestDestinationErroredAndBack(t *testing.T) {
	mediatest.RequireTools(t)
	clip := mediatest.Small.Path(t)
	h := newHarness(t)
	st := h.createByTyping("Simulcast show")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	sink := startSinkAt(t, addr, "sink-key")
	typ, name, uri, key := string(livestream.OutputSimulcast), "Backup server", "rtmp://"+addr+"/live", "sink-key"
	if _, err := h.eng.CreateOutput(st.ID, livestream.OutputParams{Type: &typ, Name: &name, URI: &uri, StreamKey: &key}); err != nil {
		t.Fatal(err)
	}
	mediatest.Publish(t, clip, h.studio.rtmp+"/"+st.Input.StreamKey, true)
	h.within(15e9, "three outputs broadcasting", func() bool { return countLines(h.textLocked(), "broadcasting") == 3 })

	sink.Close()
	h.within(10e9, "the destination errored with its last error", func() bool {
		text := h.textLocked()
		return countLines(text, "errored") == 1 && strings.Contains(text, "Last error: the destination closed the connection")
	})
	if strings.Contains(h.text(), "sink-key") {
		t.Error("the destination's key is shown")
	}

	startSinkAt(t, addr, "sink-key")
	h.within(15e9, "broadcasting again", func() bool {
		text := h.textLocked()
		return countLines(text, "broadcasting") == 3 && !strings.Contains(text, "Last error")
	})
}
