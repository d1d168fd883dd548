package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/onair-studio/onair/engine/ingest"
	"github.com/onair-studio/onair/engine/media"
)

// sink is an RTMP server on loopback that takes what simulcast
// destinations push and counts it, for the simulcast scenario.
type sink struct {
	srv    *ingest.Server
	frames atomic.Int64
}

func startSink() (*sink, error) {
	s := &sink{}
	s.srv = &ingest.Server{Address: "127.0.0.1:0", Authorizer: s, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := s.srv.Start(); err != nil {
		return nil, fmt.Errorf("starting the destination server: %w", err)
	}
	return s, nil
}

func (s *sink) addr() string { return s.srv.Addr().String() }

func (s *sink) close() { _ = s.srv.Close() }

// Authorize takes every key.
func (s *sink) Authorize(string, string, func()) (ingest.Target, error) { return (*sinkTarget)(s), nil }

type sinkTarget sink

func (t *sinkTarget) StartTracks(media.Tracks) {}
func (t *sinkTarget) WriteUnits(us []*media.Unit) {
	for _, u := range us {
		if u.Kind == media.KindVideo {
			t.frames.Add(1)
		}
	}
}
func (t *sinkTarget) Close() {}

// addDestination adds a simulcast output of stream id pushing to addr.
func (s *server) addDestination(id, addr, key string) error {
	body := fmt.Sprintf(`{"type":"simulcast","uri":"rtmp://%s/live","stream_key":%q,"vendor":"custom"}`, addr, key)
	return s.send(http.MethodPost, "/live_streams/"+id+"/outputs", body, http.StatusCreated, "adding a destination")
}
