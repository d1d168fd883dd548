package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"time"

	rtmp "github.com/yutopp/go-rtmp"
	rtmpmsg "github.com/yutopp/go-rtmp/message"

	"github.com/onair-studio/onair/engine/mediatest"
)

// readClip reads the clip's tags and its length, for looping. The loop
// continues the video without a hole: the clip lasts until one frame after
// its last video frame, and audio past that point is left out (at most a few
// AAC frames), so a player sees no frame missing at the loop point.
func readClip(path string) ([]mediatest.Tag, time.Duration, error) {
	tags, err := mediatest.ReadFLV(path)
	if err != nil {
		return nil, 0, err
	}
	leading := hasVideo(tags)
	var first, last uint32
	n := 0
	for _, t := range tags {
		if t.Video == leading && isMedia(t) {
			if n == 0 {
				first = t.Timestamp
			}
			last = max(last, t.Timestamp)
			n++
		}
	}
	if n < 2 {
		return nil, 0, fmt.Errorf("%s: too short to loop", path)
	}
	period := time.Duration(last-first) * time.Millisecond / time.Duration(n-1)
	clipLen := time.Duration(last)*time.Millisecond + period.Round(time.Millisecond)
	kept := tags[:0]
	for _, t := range tags {
		if t.Video == leading || time.Duration(t.Timestamp)*time.Millisecond < clipLen {
			kept = append(kept, t)
		}
	}
	return kept, clipLen, nil
}

func hasVideo(tags []mediatest.Tag) bool {
	for _, t := range tags {
		if t.Video {
			return true
		}
	}
	return false
}

// isMedia tells a frame from a sequence header.
func isMedia(t mediatest.Tag) bool {
	if len(t.Body) < 2 {
		return false
	}
	if t.Video {
		return t.Body[0]&0x0f != 7 || t.Body[1] != 0 // AVC sequence header
	}
	return t.Body[0]>>4 != 10 || t.Body[1] != 0 // AAC sequence header
}

// clipFPS is the clip's video frame rate (0 without video).
func clipFPS(tags []mediatest.Tag, clipLen time.Duration) float64 {
	n := 0
	for _, t := range tags {
		if t.Video && isMedia(t) {
			n++
		}
	}
	return float64(n) / clipLen.Seconds()
}

// publishBuiltin publishes the clip in a loop, in real time, until ctx ends.
// started receives the instant media time zero was sent.
func publishBuiltin(ctx context.Context, rawURL string, tags []mediatest.Tag, clipLen time.Duration, started func(time.Time)) error {
	u, err := url.Parse(rawURL) // rtmp://host:port/live/KEY
	if err != nil {
		return err
	}
	app, key := "live", u.Path[len("/live/"):]
	conn, err := rtmp.Dial("rtmp", u.Host, &rtmp.ConnConfig{})
	if err != nil {
		return fmt.Errorf("dialing %s: %w", u.Host, err)
	}
	defer func() { _ = conn.Close() }()
	go func() { <-ctx.Done(); _ = conn.Close() }()
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
	started(start)
	for loop := time.Duration(0); ; loop += clipLen {
		for _, t := range tags {
			ts := loop + time.Duration(t.Timestamp)*time.Millisecond
			if wait := time.Until(start.Add(ts)); wait > 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(wait):
				}
			}
			var msg rtmpmsg.Message
			csid := 4
			if t.Video {
				msg, csid = &rtmpmsg.VideoMessage{Payload: bytes.NewReader(t.Body)}, 6
			} else {
				msg = &rtmpmsg.AudioMessage{Payload: bytes.NewReader(t.Body)}
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

// publishFFmpeg publishes with ffmpeg -re -c copy until ctx ends: format
// flv to an RTMP url, mpegts to an SRT one.
func publishFFmpeg(ctx context.Context, format, url, clip string) error {
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1",
		"-i", clip, "-c", "copy", "-f", format, url)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return nil //nolint:nilerr // stopped at the run's end: ffmpeg's exit is not a failure then
	}
	return fmt.Errorf("ffmpeg: %w: %s", err, out)
}
