// Package picture decodes H.264 pictures with OpenH264 (loaded at run
// time, or Cisco's build fetched with its pinned sum) and converts them to
// RGBA. It is shared by the window's preview and the studio's stills; it
// has no widgets.
package picture

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"sync"

	openh264 "github.com/y9o/go-openh264"
)

// ErrNoDecoder tells that OpenH264 could not be loaded.
var ErrNoDecoder = errors.New("the H.264 decoder (OpenH264) is not installed")

// libraryNames are where OpenH264 is looked for, per system: Debian and
// Ubuntu's libopenh264-7, other distributions' names, Cisco's binaries.
func libraryNames() []string {
	switch runtime.GOOS {
	case "windows":
		return []string{"openh264-2.4.1-win64.dll", "openh264-2.3.1-win64.dll", "openh264.dll"}
	case "darwin":
		return []string{"libopenh264.7.dylib", "libopenh264.dylib", "/opt/homebrew/lib/libopenh264.dylib", "/usr/local/lib/libopenh264.dylib"}
	}
	return []string{"libopenh264.so.7", "libopenh264.so.8", "libopenh264.so", "libopenh264-2.4.1-linux64.7.so"}
}

// loaded: OpenH264 is in the process (a C library, loaded once for all).
var (
	loadMu sync.Mutex
	loaded bool
)

// LoadDecoder loads OpenH264 from the system's places; the error says
// what to install. A failure can be retried (after a Fetch, LoadFetched).
func LoadDecoder() error { return loadFrom(libraryNames()) }

// loadFrom loads the first of names that opens, unless OpenH264 is loaded.
func loadFrom(names []string) error {
	loadMu.Lock()
	defer loadMu.Unlock()
	if loaded {
		return nil
	}
	var errs []error
	for _, name := range names {
		err := openh264.Open(name)
		if err == nil {
			loaded = true
			return nil
		}
		errs = append(errs, err)
	}
	hint := "install libopenh264-7 (Debian, Ubuntu) or openh264 from your system's packages"
	if _, ok := CiscoBuild(); ok {
		hint = "download Cisco's build from the preview card"
	}
	return fmt.Errorf("%w: %s (%w)", ErrNoDecoder, hint, errors.Join(errs...))
}

// Decoder decodes one H.264 stream into RGBA pictures.
type Decoder struct {
	dec *openh264.ISVCDecoder
	buf openh264.SBufferInfo
}

// NewDecoder makes a decoder; LoadDecoder's error when OpenH264 is missing.
func NewDecoder() (*Decoder, error) {
	if err := LoadDecoder(); err != nil {
		return nil, err
	}
	d := &Decoder{}
	if r := openh264.WelsCreateDecoder(&d.dec); r != 0 || d.dec == nil {
		return nil, fmt.Errorf("creating the H.264 decoder failed (%d)", r)
	}
	p := openh264.SDecodingParam{EEcActiveIdc: openh264.ERROR_CON_SLICE_MV_COPY_CROSS_IDR_FREEZE_RES_CHANGE}
	if r := d.dec.Initialize(&p); r != 0 {
		openh264.WelsDestroyDecoder(d.dec)
		return nil, fmt.Errorf("starting the H.264 decoder failed (%d)", r)
	}
	return d, nil
}

// Picture is a decoded picture, valid until the next Decode.
type Picture struct {
	Y, Cb, Cr     []byte
	YStride       int
	CStride       int
	Width, Height int
}

// Decode decodes one access unit in Annex B form. It returns false when
// the decoder has no picture to show for it (yet).
func (d *Decoder) Decode(au []byte, pic *Picture) (bool, error) {
	if len(au) == 0 {
		return false, nil
	}
	var dst [3][]byte
	d.buf = openh264.SBufferInfo{}
	if r := d.dec.DecodeFrameNoDelay(au, len(au), &dst, &d.buf); r != 0 {
		return false, fmt.Errorf("decoding H.264 failed (state %#x)", r)
	}
	return d.picture(dst, pic), nil
}

// Flush returns a picture the decoder still holds back (a stream with
// B-frames keeps pictures to put them in order); false when none is left.
func (d *Decoder) Flush(pic *Picture) (bool, error) {
	var dst [3][]byte
	d.buf = openh264.SBufferInfo{} // the binding reads the status it is given back
	if r := d.dec.FlushFrame(&dst, &d.buf); r != 0 {
		return false, fmt.Errorf("flushing the H.264 decoder failed (state %#x)", r)
	}
	return d.picture(dst, pic), nil
}

// picture fills pic when the decoder gave one.
func (d *Decoder) picture(dst [3][]byte, pic *Picture) bool {
	if d.buf.IBufferStatus != 1 || dst[0] == nil {
		return false
	}
	sb := d.buf.UsrData_sSystemBuffer()
	*pic = Picture{Y: dst[0], Cb: dst[1], Cr: dst[2], YStride: int(sb.IStride[0]), CStride: int(sb.IStride[1]),
		Width: int(sb.IWidth), Height: int(sb.IHeight)}
	return true
}

// Close frees the decoder.
func (d *Decoder) Close() {
	if d.dec != nil {
		d.dec.Uninitialize()
		openh264.WelsDestroyDecoder(d.dec)
		d.dec = nil
	}
}

// ToRGBA converts pic into dst (BT.601, limited range), reallocating it
// when the size changed, and returns it.
func ToRGBA(pic *Picture, dst *image.RGBA) *image.RGBA {
	w, h := pic.Width, pic.Height
	if dst == nil || dst.Rect.Dx() != w || dst.Rect.Dy() != h {
		dst = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	for y := range h {
		yrow := pic.Y[y*pic.YStride : y*pic.YStride+w]
		crow := (y / 2) * pic.CStride
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		for x := range w {
			c := int32(yrow[x]) - 16
			u := int32(pic.Cb[crow+x/2]) - 128
			v := int32(pic.Cr[crow+x/2]) - 128
			c *= 298
			r := (c + 409*v + 128) >> 8
			g := (c - 100*u - 208*v + 128) >> 8
			b := (c + 516*u + 128) >> 8
			o := out[4*x : 4*x+4 : 4*x+4]
			o[0], o[1], o[2], o[3] = clamp(r), clamp(g), clamp(b), 255
		}
	}
	return dst
}

func clamp(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}
