package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onair-studio/onair/cmd/onair/studio"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/mediatest"
)

// slowConns opens n connections to addr that each send first, then one
// byte every 500 ms, and reports when each one was closed by the server.
func slowConns(t *testing.T, n int, addr string, first []byte) <-chan time.Duration {
	t.Helper()
	closed := make(chan time.Duration, n)
	start := time.Now()
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("opening slow connection: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		go func() {
			c.Write(first)
			stop := make(chan struct{})
			go func() {
				tick := time.NewTicker(500 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						if _, err := c.Write([]byte{0}); err != nil {
							return
						}
					}
				}
			}()
			c.SetReadDeadline(time.Now().Add(60 * time.Second))
			io.Copy(io.Discard, c)
			close(stop)
			closed <- time.Since(start)
		}()
	}
	return closed
}

// 500 RTMP connections that never finish their handshake and 500 API
// requests whose bodies never finish are all closed within their time
// limits, while a real ffmpeg publisher keeps publishing and HLS keeps its
// segment cadence.
func TestHostileConnectionsAreClosedWhileStreaming(t *testing.T) {
	clip := mediatest.Small.Path(t)
	const limit = 3 * time.Second
	cfg := studio.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", RTMPAddr: "127.0.0.1:0", SRTAddr: "127.0.0.1:0",
		BodyTimeout: limit, PublishTimeout: limit}
	t.Setenv("ONAIR_API_KEY", testKey)
	t.Setenv("ONAIR_API_SECRET", testSecret)
	s, err := studio.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Engine().Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}})
	if err != nil {
		t.Fatal(err)
	}
	pub := mediatest.Publish(t, clip, s.RTMPURL()+"/"+st.Input.StreamKey, true)
	hlsURI := st.OutputURI(livestream.OutputHLS)
	mediaPlaylist(t, hlsURI, 20*time.Second)

	// The HLS reader: the time each new segment appears in the playlist.
	var mu sync.Mutex
	var arrivals []time.Time
	var phases []int // arrivals index where the attack began
	stopReader := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		last := -1
		for {
			select {
			case <-stopReader:
				return
			default:
			}
			code, body := httpGet(t, strings.Replace(hlsURI, "index.m3u8", "stream.m3u8", 1), 10*time.Second)
			if code == 200 {
				if n := lastSegmentNumber(string(body)); n > last {
					if last >= 0 {
						mu.Lock()
						arrivals = append(arrivals, time.Now())
						mu.Unlock()
					}
					last = n
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(8 * time.Second)
	mu.Lock()
	phases = append(phases, len(arrivals))
	mu.Unlock()

	httpAddr := strings.TrimPrefix(s.HTTPURL(), "http://")
	rtmpAddr := strings.TrimPrefix(strings.TrimSuffix(s.RTMPURL(), "/live"), "rtmp://")
	slowRTMP := slowConns(t, 500, rtmpAddr, []byte{3})
	auth := base64.StdEncoding.EncodeToString([]byte(testKey + ":" + testSecret))
	body := fmt.Sprintf("POST /v2/video/local/live_streams HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"input\":", httpAddr, auth)
	slowHTTP := slowConns(t, 500, httpAddr, []byte(body))
	for name, ch := range map[string]<-chan time.Duration{"RTMP": slowRTMP, "HTTP": slowHTTP} {
		var latest time.Duration
		for range 500 {
			select {
			case d := <-ch:
				latest = max(latest, d)
			case <-time.After(limit + 10*time.Second):
				t.Fatalf("a slow %s connection was still open %v after the %v limit", name, 10*time.Second, limit)
			}
		}
		if latest > limit+3*time.Second {
			t.Errorf("the last slow %s connection closed after %v, limit %v", name, latest, limit)
		}
		t.Logf("500 slow %s connections: the last closed after %v (limit %v)", name, latest, limit)
	}
	time.Sleep(4 * time.Second)
	close(stopReader)
	<-readerDone

	if !pub.Running() {
		t.Fatalf("the publisher stopped: %s", pub.Output())
	}
	mu.Lock()
	defer mu.Unlock()
	gaps := func(a []time.Time) (mean, worst time.Duration) {
		for i := 1; i < len(a); i++ {
			g := a[i].Sub(a[i-1])
			mean += g
			worst = max(worst, g)
		}
		return mean / time.Duration(max(1, len(a)-1)), worst
	}
	before, during := arrivals[:phases[0]], arrivals[phases[0]:]
	if len(before) < 3 || len(during) < 3 {
		t.Fatalf("too few segments seen: %d before, %d during", len(before), len(during))
	}
	mb, wb := gaps(before)
	md, wd := gaps(during)
	t.Logf("segment cadence: before mean %v worst %v; during mean %v worst %v", mb, wb, md, wd)
	if md > mb+mb/4 || wd > 2*mb+500*time.Millisecond {
		t.Errorf("segment cadence changed: before mean %v worst %v; during mean %v worst %v", mb, wb, md, wd)
	}
	list, err := s.Engine().List()
	if err != nil || len(list) != 1 {
		t.Fatalf("the slow bodies created streams: %d, %v", len(list), err)
	}
}
