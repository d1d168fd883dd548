package mp4frag

import (
	"encoding/binary"
	"errors"
)

// box is one ISO BMFF box inside a byte slice: b[start:end], its content
// from start+hdr.
type box struct {
	typ             string
	start, hdr, end int
}

func (x box) content(b []byte) []byte { return b[x.start+x.hdr : x.end] }

var errBox = errors.New("a box is cut short or malformed")

// children splits b into the boxes it holds, one after the other.
func children(b []byte) ([]box, error) {
	var out []box
	for p := 0; p < len(b); {
		if len(b)-p < 8 {
			return nil, errBox
		}
		n := int(binary.BigEndian.Uint32(b[p:]))
		hdr := 8
		if n == 1 {
			if len(b)-p < 16 {
				return nil, errBox
			}
			n64 := binary.BigEndian.Uint64(b[p+8:])
			if n64 > uint64(len(b)-p) {
				return nil, errBox
			}
			n, hdr = int(n64), 16
		}
		if n < hdr || n > len(b)-p {
			return nil, errBox
		}
		out = append(out, box{typ: string(b[p+4 : p+8]), start: p, hdr: hdr, end: p + n})
		p += n
	}
	return out, nil
}

// appendBox appends a box of type typ holding content.
func appendBox(dst []byte, typ string, content ...[]byte) []byte {
	n := 8
	for _, c := range content {
		n += len(c)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, typ...)
	for _, c := range content {
		dst = append(dst, c...)
	}
	return dst
}

// reader reads big-endian fields from a box's content.
type reader struct {
	b   []byte
	p   int
	bad bool
}

func (r *reader) u8() uint8 {
	if r.p+1 > len(r.b) {
		r.bad = true
		return 0
	}
	r.p++
	return r.b[r.p-1]
}

func (r *reader) u32() uint32 {
	if r.p+4 > len(r.b) {
		r.bad = true
		return 0
	}
	r.p += 4
	return binary.BigEndian.Uint32(r.b[r.p-4:])
}

func (r *reader) u64() uint64 {
	if r.p+8 > len(r.b) {
		r.bad = true
		return 0
	}
	r.p += 8
	return binary.BigEndian.Uint64(r.b[r.p-8:])
}

func (r *reader) skip(n int) {
	if r.p+n > len(r.b) {
		r.bad = true
		return
	}
	r.p += n
}
