package mediatest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// Tag is one audio or video tag of an FLV file, its body byte for byte as
// RTMP carries it.
type Tag struct {
	Video bool
	// Timestamp in milliseconds.
	Timestamp uint32
	Body      []byte
}

// ReadFLV reads the audio and video tags of an FLV file. The container is
// four fields a tag; script tags are skipped.
func ReadFLV(path string) ([]Tag, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 13 || string(b[:3]) != "FLV" {
		return nil, fmt.Errorf("%s is not an FLV file", path)
	}
	pos := int(binary.BigEndian.Uint32(b[5:9])) + 4
	var tags []Tag
	for pos+11 <= len(b) {
		typ := b[pos]
		size := int(b[pos+1])<<16 | int(b[pos+2])<<8 | int(b[pos+3])
		ts := uint32(b[pos+7])<<24 | uint32(b[pos+4])<<16 | uint32(b[pos+5])<<8 | uint32(b[pos+6])
		if pos+11+size > len(b) {
			break
		}
		body := b[pos+11 : pos+11+size]
		pos += 11 + size + 4
		if typ == 8 || typ == 9 {
			tags = append(tags, Tag{Video: typ == 9, Timestamp: ts, Body: body})
		}
	}
	if len(tags) == 0 {
		return nil, errors.New("no media in " + path)
	}
	return tags, nil
}
