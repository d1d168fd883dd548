package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// heartbeat keeps idle event streams open through proxies.
const heartbeat = 15 * time.Second

// eventView is an event as SSE and webhooks carry it: Mux's shape, with
// the object as the API shows it in data (destination keys masked).
type eventView struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	CreatedAt int64  `json:"created_at"`
	StreamID  string `json:"live_stream_id,omitempty"`
	OutputID  string `json:"output_id,omitempty"`
	PublicID  string `json:"public_id,omitempty"`
	Status    string `json:"status,omitempty"`
	Message   string `json:"message,omitempty"`
	Data      any    `json:"data,omitempty"`
}

// EncodeEvent is an event's JSON; base is the studio's URL, for an
// asset's file address.
func (s *Server) EncodeEvent(ev livestream.Event, base string) ([]byte, error) {
	v := eventView{ID: strconv.FormatUint(ev.ID, 10), Type: ev.Type, CreatedAt: ev.Time.UnixMilli(), StreamID: ev.StreamID,
		OutputID: ev.OutputID, PublicID: ev.AssetID, Status: ev.Status, Message: ev.Message}
	switch {
	case ev.Asset != nil:
		v.Data = s.viewAssetAt(base, *ev.Asset)
	case ev.Output != nil:
		v.Data = viewOutput(*ev.Output, false)
	case ev.Stream != nil:
		v.Data = viewStream(*ev.Stream, false)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding event %d: %w", ev.ID, err)
	}
	return b, nil
}

// events streams every state change as Server-Sent Events. A client that
// reconnects with Last-Event-ID (or ?last_event_id=) first gets the kept
// events after that one.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	var after uint64
	if v := r.Header.Get("Last-Event-ID"); v != "" || r.URL.Query().Has("last_event_id") {
		if v == "" {
			v = r.URL.Query().Get("last_event_id")
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			if len(v) > 40 {
				v = v[:40] + "…"
			}
			s.fail(w, r, http.StatusBadRequest, "Last-Event-ID: must be the id of an event, got "+quote(v))
			return
		}
		after = n
	}
	// Subscribe before answering: a client that acts once the stream is
	// open must see the events of what it did.
	ch, complete, lagged := s.Engine.SubscribeAfter(r.Context(), after)
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
	if !complete {
		fmt.Fprint(w, "event: history_gap\ndata: {\"message\":\"some events after Last-Event-ID are no longer kept; reload the state\"}\n\n")
	}
	if err := rc.Flush(); err != nil {
		return
	}
	base := baseURL(r)
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				if lagged() {
					// Closed rather than losing events: the client resumes
					// with Last-Event-ID and gets what it missed, or a gap.
					fmt.Fprint(w, "event: history_gap\ndata: {\"message\":\"this client fell behind the studio's events; reconnect with Last-Event-ID to get the rest\",\"reason\":\"client_behind\"}\n\n")
					_ = rc.Flush()
				}
				return
			}
			b, err := s.EncodeEvent(ev, base)
			if err != nil {
				s.Logger.Error("encoding an event", "error", err)
				continue
			}
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.ID, ev.Type, b)
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
