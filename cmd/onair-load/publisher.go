package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"time"

	rtmp "github.com/yutopp/go-rtmp"
	rtmpmsg "github.com/yutopp/go-rtmp/message"
)

// flvTag is one audio or video tag of the clip.
type flvTag struct {
	video bool
	ts    time.Duration
	body  []byte
}

// readFLV reads the audio and video tags of an FLV file. The container is
// four fields per tag; reading it here keeps the tag bodies byte for byte as
// RTMP carries them.
func readFLV(path string) ([]flvTag, time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < 13 || string(b[:3]) != "FLV" {
		return nil, 0, fmt.Errorf("%s is not an FLV file", path)
	}
	pos := int(binary.BigEndian.Uint32(b[5:9])) + 4
	var tags []flvTag
	var last time.Duration
	for pos+11 <= len(b) {
		typ := b[pos]
		size := int(b[pos+1])<<16 | int(b[pos+2])<<8 | int(b[pos+3])
		ts := uint32(b[pos+7])<<24 | uint32(b[pos+4])<<16 | uint32(b[pos+5])<<8 | uint32(b[pos+6])
		if pos+11+size > len(b) {
			break
		}
		body := b[pos+11 : pos+11+size]
		pos += 11 + size + 4
		if typ != 8 && typ != 9 {
			continue
		}
		d := time.Duration(ts) * time.Millisecond
		tags = append(tags, flvTag{video: typ == 9, ts: d, body: body})
		last = max(last, d)
	}
	if len(tags) == 0 {
		return nil, 0, errors.New("no media in the clip")
	}
	return tags, last + 33*time.Millisecond, nil
}

// publishBuiltin publishes the clip in a loop, in real time, until ctx ends.
func publishBuiltin(ctx context.Context, rawURL string, tags []flvTag, clipLen time.Duration) error {
	u, err := url.Parse(rawURL) // rtmp://host:port/live/KEY
	if err != nil {
		return err
	}
	app, key := "live", u.Path[len("/live/"):]
	conn, err := rtmp.Dial("rtmp", u.Host, &rtmp.ConnConfig{})
	if err != nil {
		return fmt.Errorf("dialing %s: %w", u.Host, err)
	}
	defer conn.Close()
	go func() { <-ctx.Done(); conn.Close() }()
	if err := conn.Connect(&rtmpmsg.NetConnectionConnect{Command: rtmpmsg.NetConnectionConnectCommand{
		App: app, Type: "nonprivate", FlashVer: "FMLE/3.0", TCURL: "rtmp://" + u.Host + "/" + app}}); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	st, err := conn.CreateStream(nil, 4096)
	if err != nil {
		return fmt.Errorf("createStream: %w", err)
	}
	if err := st.Publish(&rtmpmsg.NetStreamPublish{PublishingName: key, PublishingType: "live"}); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	start := time.Now()
	for loop := time.Duration(0); ; loop += clipLen {
		for _, t := range tags {
			ts := loop + t.ts
			if wait := time.Until(start.Add(ts)); wait > 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(wait):
				}
			}
			var msg rtmpmsg.Message
			csid := 4
			if t.video {
				msg, csid = &rtmpmsg.VideoMessage{Payload: bytes.NewReader(t.body)}, 6
			} else {
				msg = &rtmpmsg.AudioMessage{Payload: bytes.NewReader(t.body)}
			}
			if err := st.Write(csid, uint32(ts/time.Millisecond), msg); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("writing media: %w", err)
			}
		}
	}
}

// publishFFmpeg publishes with ffmpeg -re -c copy until ctx ends.
func publishFFmpeg(ctx context.Context, url, clip string) error {
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1",
		"-i", clip, "-c", "copy", "-f", "flv", url)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("ffmpeg: %v: %s", err, out)
}
