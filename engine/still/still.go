// Package still makes JPEG pictures of live streams and recordings: a live
// stream's newest key frame (decoded once per key frame and size, however
// many ask at once) and a recording's picture at a time (its poster, made
// once when the recording is ready and kept beside it).
package still

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"golang.org/x/image/draw"

	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/picture"
)

// Decoder decodes one H.264 stream's access units (Annex B) into pictures;
// picture.Decoder is the real one.
type Decoder interface {
	Decode(au []byte, pic *picture.Picture) (bool, error)
	// Flush returns a picture held back for reordering.
	Flush(pic *picture.Picture) (bool, error)
	Close()
}

// NewDecoder makes a Decoder; its error says what to install when OpenH264
// is missing (picture.ErrNoDecoder).
type NewDecoder func() (Decoder, error)

// ErrCodec tells that the video is not H.264, the one codec pictures are
// decoded from.
var ErrCodec = errors.New("pictures are made from H.264 video only")

// ErrNoPicture tells that there is no video picture to make one from yet.
var ErrNoPicture = errors.New("no video picture yet")

// Widths a picture may be asked at; 0 is the video's own size.
const (
	MinWidth = 16
	MaxWidth = 3840
)

// quality of the JPEGs: small files that still show the picture well.
const quality = 80

// annexB is an H.264 access unit for the decoder: the parameter sets of
// its tracks, then its own NAL units without theirs.
func annexB(v *media.VideoParams, nalus [][]byte) ([]byte, error) {
	out := make([][]byte, 0, len(nalus)+2)
	out = append(out, v.SPS, v.PPS)
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS, h264.NALUTypePPS, h264.NALUTypeAccessUnitDelimiter:
			continue
		}
		out = append(out, n)
	}
	b, err := h264.AnnexB(out).Marshal()
	if err != nil {
		return nil, fmt.Errorf("preparing the picture for the decoder: %w", err)
	}
	return b, nil
}

// decodeLast decodes the access units in order with a new decoder and
// returns the last picture it gave, as RGBA.
func decodeLast(newDecoder NewDecoder, aus [][]byte) (*image.RGBA, error) {
	dec, err := newDecoder()
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	var pic picture.Picture
	var img *image.RGBA
	for _, au := range aus {
		ok, err := dec.Decode(au, &pic)
		if err != nil {
			return nil, err
		}
		if ok {
			img = picture.ToRGBA(&pic, img)
		}
	}
	for { // the pictures held back for reordering (B-frames) come last
		ok, err := dec.Flush(&pic)
		if err != nil || !ok {
			break
		}
		img = picture.ToRGBA(&pic, img)
	}
	if img == nil {
		return nil, fmt.Errorf("the decoder gave no picture for %d access units from a key frame", len(aus))
	}
	return img, nil
}

// encode writes img as a JPEG width pixels wide (0 or wider than img: its
// own size), the height following the picture's shape.
func encode(img image.Image, width int) ([]byte, error) {
	b := img.Bounds()
	if width > 0 && width < b.Dx() {
		h := max(1, (b.Dy()*width+b.Dx()/2)/b.Dx())
		dst := image.NewRGBA(image.Rect(0, 0, width, h))
		draw.BiLinear.Scale(dst, dst.Rect, img, b, draw.Src, nil)
		img = dst
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("writing the JPEG: %w", err)
	}
	return buf.Bytes(), nil
}

// checkCodec tells whether pictures can be made of t's video.
func checkCodec(t *media.Tracks) error {
	switch {
	case t == nil || t.Video == nil:
		return ErrNoPicture
	case t.Video.Codec != media.H264:
		return fmt.Errorf("%w; this video is %s", ErrCodec, t.Video.Codec)
	}
	return nil
}
