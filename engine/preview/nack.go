package preview

import (
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// sentRing is the feed's last nackPackets packets by sequence number. Every
// viewer of a stream gets the same packets, so one ring answers every
// viewer's NACKs; it holds packets the frames made anyway. Under the
// feed's mu.
type sentRing [nackPackets]*rtp.Packet

func (r *sentRing) keep(p *rtp.Packet) { r[p.SequenceNumber%nackPackets] = p }

func (r *sentRing) get(seq uint16) *rtp.Packet {
	if p := r[seq%nackPackets]; p != nil && p.SequenceNumber == seq {
		return p
	}
	return nil
}

// sentMarks are the sequence numbers written to one viewer, so that only
// packets it was sent are sent again (not those of frames it skipped while
// it lagged). Written by its send goroutine, read by its RTCP goroutine.
type sentMarks [nackPackets]atomic.Uint32

func (m *sentMarks) mark(seq uint16) { m[seq%nackPackets].Store(uint32(seq) | 1<<16) }

func (m *sentMarks) sent(seq uint16) bool { return m[seq%nackPackets].Load() == uint32(seq)|1<<16 }

// resend answers the viewer's RTCP: each packet a NACK names that the
// viewer was sent and the feed still has is written again.
func (s *Server) resend(ss *session, pkts []rtcp.Packet) {
	for _, pkt := range pkts {
		n, ok := pkt.(*rtcp.TransportLayerNack)
		if !ok {
			continue
		}
		for _, pair := range n.Nacks {
			pair.Range(func(seq uint16) bool {
				if !ss.marks.sent(seq) {
					return true
				}
				ss.feed.mu.Lock()
				p := ss.v.heldPacket(seq)
				if p == nil {
					p = ss.feed.ring.get(seq)
				}
				ss.feed.mu.Unlock()
				if p != nil {
					_ = ss.track.WriteRTP(p) // a closing connection ends the session anyway
				}
				return true
			})
		}
	}
}
