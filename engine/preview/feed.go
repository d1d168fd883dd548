package preview

import (
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/opus"
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
	copy     bool // one viewer's copy of the newest key frame (its first picture)
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
	seq  *counter       // the packetizer's sequence numbers
	base uint32
	buf  []byte
	// newest is the PTS of the newest video unit the stream sent, offered
	// or not: a viewer's first picture is given that time.
	newest atomic.Int64

	mu      sync.Mutex
	viewers []*viewer
	ring    sentRing // the packets last made, for NACKs
	lastSeq uint16   // the newest packet offered to viewers

	delays delayLog // of this stream's viewers

	// The sound: Opus made by FFmpeg while a viewer listens.
	ffmpeg    string
	log       *slog.Logger
	listeners atomic.Int32  // viewers added with a sound track
	opus      *opus.Encoder // the reader's goroutine's (and closeSound's, after it)
	soundSeq  uint16        // the encoder's goroutine's
	soundTime uint32        // the next packet's RTP time (48 kHz)
	soundTo   []*webrtc.TrackLocalStaticRTP
}

func newFeed(id, ffmpeg string, log *slog.Logger) *feed {
	f := &feed{id: id, base: rand.Uint32(), seq: &counter{next: uint16(rand.Uint32())}, ffmpeg: ffmpeg, log: log,
		soundSeq: uint16(rand.Uint32()), soundTime: rand.Uint32()}
	f.lastSeq = f.seq.next - 1
	f.newest.Store(-1)
	f.pk = rtp.NewPacketizer(rtpMTU, 0, 0, &codecs.H264Payloader{}, f.seq, 90000)
	f.reader = &hub.Reader{Name: "preview", QueueSize: 256, OnUnit: f.onUnit}
	return f
}

// counter is the feed's sequence numbers: the next one is known, so a
// joining viewer's first picture can be numbered just before it.
type counter struct {
	mu   sync.Mutex
	next uint16
	roll uint64
}

func (c *counter) NextSequenceNumber() uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.next
	c.next++
	if c.next == 0 {
		c.roll++
	}
	return n
}

// reserve takes the next n numbers for a packet of the feed's own if
// none has been taken since newest, the newest packet offered.
func (c *counter) reserve(newest, n uint16) (uint16, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next != newest+1 {
		return 0, false
	}
	first := c.next
	if c.next += n; c.next < first {
		c.roll++
	}
	return first, true
}

func (c *counter) RollOverCount() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.roll
}

// rtpTime is a PTS on the feed's RTP clock (90 kHz from a random base).
func (f *feed) rtpTime(pts time.Duration) uint32 {
	return f.base + uint32(pts.Nanoseconds()*9/100000)
}

// rtpNow is now in the stream's time, on the feed's RTP clock: the key
// frame's time plus its age, or the newest unit's when the stream runs
// ahead of the clock.
func (f *feed) rtpNow(key *media.Unit) uint32 {
	now := key.PTS
	if !key.Received.IsZero() {
		now += time.Since(key.Received)
	}
	if n := time.Duration(f.newest.Load()); n > now {
		now = n
	}
	return f.rtpTime(now)
}

// onUnit turns a video unit into packets once and offers them to every
// connected viewer.
func (f *feed) onUnit(u *media.Unit) {
	if u.Kind == media.KindAudio {
		f.onSound(u)
		return
	}
	if u.Kind != media.KindVideo || (u.Tracks != nil && u.Tracks.Video != nil && u.Tracks.Video.Codec != media.H264) {
		return // the preview sends H.264 only; the API says so before a session starts
	}
	f.newest.Store(int64(u.PTS))
	f.mu.Lock()
	n := len(f.viewers)
	f.mu.Unlock()
	if n == 0 {
		return
	}
	f.buf = annexB(f.buf[:0], u.NALUs)
	pkts := f.pk.Packetize(f.buf, 0)
	ts := f.rtpTime(u.PTS)
	for _, p := range pkts {
		p.Timestamp = ts
	}
	fr := &frame{packets: pkts, key: u.Key, received: u.Received}
	f.mu.Lock()
	for _, p := range pkts {
		f.ring.keep(p)
	}
	if len(pkts) > 0 {
		f.lastSeq = pkts[len(pkts)-1].SequenceNumber
	}
	for _, v := range f.viewers {
		v.offer(fr)
	}
	f.mu.Unlock()
}

// annexB appends the NAL units to b with a start code before each: what
// the payloader reads.
func annexB(b []byte, nalus [][]byte) []byte {
	for _, nalu := range nalus {
		b = append(b, 0, 0, 0, 1)
		b = append(b, nalu...)
	}
	return b
}

// firstPictureAgain is when a joining viewer is sent its first picture
// again, after the first copy, until the stream's own next key frame: a
// browser may decode the first copy before its video element is ready for
// it and then show nothing until another picture comes (Chromium did so
// for most joins with sound), and a viewer that gets nothing but one
// picture for a key frame interval has nothing else to show.
var firstPictureAgain = []time.Duration{150 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1500 * time.Millisecond}

// add starts v. With key, the stream's newest key frame, v is sent that
// picture at once (and again, firstPictureAgain) and then waits for the
// next key frame (the frames between depend on ones it never got): its
// first picture comes within a round trip instead of up to a key frame
// interval later, and it never sees a burst of old frames played fast. The
// copy is numbered to end at the newest packet offered (so the stream's
// next packets follow it: those numbers went to other viewers, never to v)
// and carries the time of now (so the player's clock is not set up to a
// key frame interval in the past).
func (f *feed) add(v *viewer, key *media.Unit) {
	var copyPkts []*rtp.Packet
	if key != nil {
		pk := rtp.NewPacketizer(rtpMTU, 0, 0, &codecs.H264Payloader{}, rtp.NewFixedSequencer(0), 90000)
		copyPkts = pk.Packetize(annexB(nil, key.NALUs), 0)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(copyPkts) > 0 {
		picture := numbered(copyPkts, f.lastSeq-uint16(len(copyPkts))+1, f.rtpNow(key))
		v.held = picture
		v.offer(&frame{packets: picture, key: true, copy: true})
		v.needKey = true // the stream's own pictures from its next key frame
		for _, d := range firstPictureAgain {
			v.again = append(v.again, time.AfterFunc(d, func() { f.sendAgain(v, key, copyPkts) }))
		}
	}
	f.viewers = append(f.viewers, v)
	if v.sound != nil {
		f.listeners.Add(1)
	}
}

// numbered is a copy of pkts (their headers; the payloads are shared, never
// written after packetizing) numbered from first and stamped with ts.
func numbered(pkts []*rtp.Packet, first uint16, ts uint32) []*rtp.Packet {
	out := make([]*rtp.Packet, len(pkts))
	for i, p := range pkts {
		q := *p
		q.SequenceNumber = first + uint16(i)
		q.Timestamp = ts
		out[i] = &q
	}
	return out
}

// sendAgain sends v its first picture again, as a picture of now, unless
// v has left or has had the stream's own key frame. The picture's packets
// (pkts) are numbered after the ones v has had: with numbers that went to
// other viewers since (v had none of them), or, when too few went, with
// new ones taken from the feed while every other viewer waits for a key
// frame anyway (the numbers they never get are then only a gap before it).
// Otherwise this time is skipped.
func (f *feed) sendAgain(v *viewer, key *media.Unit, pkts []*rtp.Packet) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.viewers, v) || v.liveKeys > 0 || len(v.held) == 0 {
		return
	}
	n := uint16(len(pkts))
	last := v.held[len(v.held)-1].SequenceNumber
	var first uint16
	switch {
	case f.lastSeq-last >= n && f.lastSeq-last < 1<<15:
		first = f.lastSeq - n + 1
	case f.othersWaitForKey(v):
		var ok bool
		if first, ok = f.seq.reserve(f.lastSeq, n); !ok {
			return // a unit is being packetized: its numbers come first
		}
		f.lastSeq = first + n - 1
	default:
		return
	}
	again := numbered(pkts, first, f.rtpNow(key))
	v.held = append(v.held, again...)
	v.offer(&frame{packets: again, key: true, copy: true})
	v.needKey = true
}

// othersWaitForKey tells whether every viewer but v accepts only a key
// frame next; under the feed's lock.
func (f *feed) othersWaitForKey(v *viewer) bool {
	for _, x := range f.viewers {
		if x != v && !x.needKey {
			return false
		}
	}
	return true
}

// remove takes v off the feed; nothing is offered to it afterwards.
func (f *feed) remove(v *viewer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range v.again {
		t.Stop()
	}
	for i, x := range f.viewers {
		if x == v {
			f.viewers = append(f.viewers[:i:i], f.viewers[i+1:]...)
			if v.sound != nil {
				f.listeners.Add(-1)
			}
			return
		}
	}
}

// viewer is one peer's sending side.
type viewer struct {
	queue   chan *frame
	needKey bool   // under the feed's lock
	dropped uint64 // under the feed's lock
	// held is the copy of the key frame the viewer started with, for its
	// NACKs (the ring has other packets under those numbers); dropped at
	// its second key frame from the stream. Under the feed's lock.
	held     []*rtp.Packet
	liveKeys int
	// again sends the first picture again (firstPictureAgain); stopped when
	// the viewer leaves.
	again []*time.Timer
	// sound is the viewer's Opus track, nil when it did not ask for sound;
	// set before the viewer is added.
	sound *webrtc.TrackLocalStaticRTP
}

// heldPacket is the packet seq of the viewer's first picture, if it is one.
func (v *viewer) heldPacket(seq uint16) *rtp.Packet {
	for _, p := range v.held {
		if p.SequenceNumber == seq {
			return p
		}
	}
	return nil
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
	if fr.key && v.held != nil && !fr.copy {
		if v.liveKeys++; v.liveKeys >= 2 {
			v.held = nil // long past: NACKs for it are over, and its numbers come round again
		}
	}
	select {
	case v.queue <- fr:
		v.needKey = false
	default:
		v.needKey = true
		v.dropped++
	}
}
