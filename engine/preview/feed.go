package preview

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/media"
)

// rtpMTU leaves room for SRTP and the IP and UDP headers in a 1 280-byte
// path, the smallest IPv6 guarantees.
const rtpMTU = 1200

// viewerQueue is how many access units a viewer may lag behind (about
// 2 s at 30 fps) before it drops media and waits for a key frame.
const viewerQueue = 64

// frame is one access unit as RTP packets, shared by every viewer.
type frame struct {
	packets  []*rtp.Packet
	key      bool
	received time.Time
}

// feed is the one hub reader of a stream with viewers; its packetizer
// runs on the reader's goroutine.
type feed struct {
	id     string
	reader *hub.Reader
	detach func()
	// joined counts the sessions that connected (the viewers shown in
	// stats); under the server's mu.
	joined int
	// sessions counts the sessions using the feed, connected or not; under
	// the server's lock.
	sessions int

	pk   rtp.Packetizer // on the reader's goroutine only
	base uint32
	buf  []byte

	mu      sync.Mutex
	viewers []*viewer
	ring    sentRing // the packets last made, for NACKs

	delays delayLog // of this stream's viewers
}

func newFeed(id string) *feed {
	f := &feed{id: id, base: rand.Uint32()}
	f.pk = rtp.NewPacketizer(rtpMTU, 0, 0, &codecs.H264Payloader{}, rtp.NewRandomSequencer(), 90000)
	f.reader = &hub.Reader{Name: "preview", QueueSize: 256, OnUnit: f.onUnit}
	return f
}

// onUnit turns a video unit into packets once and offers them to every
// connected viewer.
func (f *feed) onUnit(u *media.Unit) {
	if u.Kind != media.KindVideo || (u.Tracks != nil && u.Tracks.Video != nil && u.Tracks.Video.Codec != media.H264) {
		return // the preview sends H.264 only; the API says so before a session starts
	}
	f.mu.Lock()
	n := len(f.viewers)
	f.mu.Unlock()
	if n == 0 {
		return
	}
	// The payloader reads Annex B: start codes before each NAL unit.
	b := f.buf[:0]
	for _, nalu := range u.NALUs {
		b = append(b, 0, 0, 0, 1)
		b = append(b, nalu...)
	}
	f.buf = b
	pkts := f.pk.Packetize(b, 0)
	ts := f.base + uint32(u.PTS.Nanoseconds()*9/100000) // 90 kHz
	for _, p := range pkts {
		p.Timestamp = ts
	}
	fr := &frame{packets: pkts, key: u.Key, received: u.Received}
	f.mu.Lock()
	for _, p := range pkts {
		f.ring.keep(p)
	}
	for _, v := range f.viewers {
		v.offer(fr)
	}
	f.mu.Unlock()
}

func (f *feed) add(v *viewer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.viewers = append(f.viewers, v)
}

// remove takes v off the feed; nothing is offered to it afterwards.
func (f *feed) remove(v *viewer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.viewers {
		if x == v {
			f.viewers = append(f.viewers[:i:i], f.viewers[i+1:]...)
			return
		}
	}
}

// viewer is one peer's sending side.
type viewer struct {
	queue   chan *frame
	needKey bool   // under the feed's lock
	dropped uint64 // under the feed's lock
}

func newViewer() *viewer {
	return &viewer{queue: make(chan *frame, viewerQueue), needKey: true}
}

// offer queues fr unless the viewer waits for a key frame or is full;
// called under the feed's lock.
func (v *viewer) offer(fr *frame) {
	if v.needKey && !fr.key {
		return
	}
	select {
	case v.queue <- fr:
		v.needKey = false
	default:
		v.needKey = true
		v.dropped++
	}
}
