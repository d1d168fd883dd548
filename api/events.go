package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// heartbeat keeps idle event streams open through proxies.
const heartbeat = 15 * time.Second

type eventView struct {
	Type     string `json:"type"`
	StreamID string `json:"live_stream_id,omitempty"`
	OutputID string `json:"output_id,omitempty"`
	PublicID string `json:"public_id,omitempty"`
	Status   string `json:"status,omitempty"`
	Message  string `json:"message,omitempty"`
	Time     int64  `json:"time"`
}

// events streams every state change as Server-Sent Events.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	// Subscribe before answering: a client that acts once the stream is
	// open must see the events of what it did.
	ch := s.Engine.Subscribe(r.Context())
	rc := http.NewResponseController(w)
	// The stream has no end: no read deadline (net/http would end the
	// request when it passes), and a write deadline renewed per write.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Now().Add(s.EventWriteTimeout))
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": OnAir Studio events\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return
			}
			b, _ := json.Marshal(eventView{Type: ev.Type, StreamID: ev.StreamID, OutputID: ev.OutputID,
				PublicID: ev.AssetID, Status: ev.Status, Message: ev.Message, Time: ev.Time.UnixMilli()})
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Type, b)
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case <-r.Context().Done():
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		_ = rc.SetWriteDeadline(time.Now().Add(s.EventWriteTimeout))
	}
}
