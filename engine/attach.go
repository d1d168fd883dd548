package engine

import (
	"fmt"

	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/livestream"
)

// ErrIdle is returned by Attach when the stream has no session.
var ErrIdle = fmt.Errorf("live stream is idle: %w", livestream.ErrConflict)

// Attach adds r to the hub of stream id's session, for viewers that come and
// go on their own (the WebRTC preview) rather than stored outputs. r stops
// when the session ends (r.Done is closed then) or when detach is called.
// It never takes the service lock.
func (s *Service) Attach(id string, r *hub.Reader) (detach func(), err error) {
	if s.readClosed.Load() {
		return nil, ErrClosed
	}
	if s.table.Load().byID[id] == nil {
		return nil, fmt.Errorf("live stream %q: %w", id, livestream.ErrNotFound)
	}
	s.liveMu.RLock()
	sess := s.live[id]
	s.liveMu.RUnlock()
	if sess == nil {
		return nil, fmt.Errorf("live stream %q: %w", id, ErrIdle)
	}
	sess.hub.AddReader(r)
	return func() { sess.hub.RemoveReader(r) }, nil
}
