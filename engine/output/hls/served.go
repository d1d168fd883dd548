package hls

import (
	"io"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/output"
)

// viewerWindow is how long a client counts as a viewer after a request.
const viewerWindow = 30 * time.Second

// served counts what the output answers: requests, bytes, and the distinct
// clients (address and user agent) seen lately.
type served struct {
	requests atomic.Uint64
	byKind   [len(livestream.HLSRequestKinds)]atomic.Uint64
	bytes    atomic.Uint64
	mu       sync.Mutex
	seen     map[string]int64 // client → unix second of its last request
}

func (s *served) note(r *http.Request) {
	s.requests.Add(1)
	s.byKind[requestKind(r)].Add(1)
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	now := time.Now().Unix()
	s.mu.Lock()
	if s.seen == nil {
		s.seen = map[string]int64{}
	}
	s.seen[host+" "+r.UserAgent()] = now
	s.mu.Unlock()
}

// requestKind is the index in livestream.HLSRequestKinds of what r asks for.
func requestKind(r *http.Request) int {
	name := path.Base(r.URL.Path)
	switch {
	case name == multivariantName:
		return 0
	case strings.HasSuffix(name, ".m3u8") && strings.Contains(r.URL.RawQuery, "_HLS_msn="):
		return 2 // the source's media playlist or a rendition's
	case strings.HasSuffix(name, ".m3u8"):
		return 1
	case strings.HasSuffix(name, "_init.mp4"):
		return 3
	case strings.Contains(name, "_seg"):
		return 4
	case strings.Contains(name, "_part"):
		return 5
	}
	return 6
}

// viewers counts the clients seen in the window, forgetting older ones.
func (s *served) viewers() int {
	old := time.Now().Add(-viewerWindow).Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.seen {
		if t < old {
			delete(s.seen, k)
		}
	}
	return len(s.seen)
}

// Counts implements output.Counter.
func (o *Output) Counts() output.Counts {
	c := output.Counts{Requests: o.served.requests.Load(), BytesServed: o.served.bytes.Load(), Viewers: o.served.viewers()}
	for i := range c.RequestsByKind {
		c.RequestsByKind[i] = o.served.byKind[i].Load()
	}
	if o.reader != nil {
		c.Dropped = o.reader.Dropped()
	}
	o.mu.RLock()
	m := o.muxer
	o.mu.RUnlock()
	if m != nil && o.DVRWindow > 0 {
		c.DVR = m.dvrStats()
		c.DVR.Window = o.DVRWindow
	}
	return c
}

// countingWriter counts the body bytes written. It keeps the writer's
// sendfile path (ReadFrom) and its ResponseController (Unwrap).
type countingWriter struct {
	http.ResponseWriter
	n *atomic.Uint64
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n.Add(uint64(n))
	return n, err
}

func (w *countingWriter) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(w.ResponseWriter, r)
	}
	w.n.Add(uint64(n))
	return n, err
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
