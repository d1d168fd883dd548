// Package obs drives OBS Studio through obs-websocket v5 (goobs): it reads
// OBS's version, stream status and output figures, points OBS's stream
// service at a studio stream, and starts and stops OBS's stream. Each
// Client call opens its own short connection, so OBS may come and go
// between calls; a Monitor keeps one connection and reads the status once
// a second for everyone who shows it.
package obs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/andreykaipov/goobs"
	"github.com/andreykaipov/goobs/api/requests/config"
	"github.com/andreykaipov/goobs/api/requests/stream"
	"github.com/andreykaipov/goobs/api/typedefs"
	"github.com/gorilla/websocket"

	"github.com/onair-studio/onair/engine/livestream"
)

// Errors in the user's words.
var (
	ErrNotRunning = errors.New("OBS is not running or obs-websocket is off (OBS > Tools > WebSocket Server Settings)")
	ErrPassword   = errors.New("wrong obs-websocket password (OBS > Tools > WebSocket Server Settings > Show Connect Info)")
	ErrTooOld     = errors.New("this OBS is too old: the studio needs OBS 28 or later (obs-websocket 5)")
)

// DefaultPort is obs-websocket's.
const DefaultPort = 4455

// Client talks to one OBS.
type Client struct {
	// Host defaults to 127.0.0.1.
	Host string
	// Port defaults to DefaultPort.
	Port int
	// Password of obs-websocket; empty when it asks for none.
	Password string
	// Timeout bounds one call. It defaults to 5 s.
	Timeout time.Duration
}

func (c *Client) addr() string {
	host := c.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := c.Port
	if port == 0 {
		port = DefaultPort
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// do connects, runs f and disconnects.
func (c *Client) do(ctx context.Context, f func(*goobs.Client) error) error {
	cl, err := c.connect(ctx, 0)
	if err != nil {
		return err
	}
	defer func() { _ = cl.Disconnect() }()
	return f(cl)
}

// connect opens a connection subscribed to the events subs, and checks
// OBS's version.
func (c *Client) connect(ctx context.Context, subs int) (*goobs.Client, error) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := &websocket.Dialer{HandshakeTimeout: timeout, NetDialContext: (&net.Dialer{}).DialContext}
	opts := []goobs.Option{goobs.WithDialer(d), goobs.WithResponseTimeout(timeout), goobs.WithEventSubscriptions(subs)}
	if c.Password != "" {
		opts = append(opts, goobs.WithPassword(c.Password))
	}
	type result struct {
		cl  *goobs.Client
		err error
	}
	done := make(chan result, 1)
	go func() {
		cl, err := goobs.New(c.addr(), opts...)
		done <- result{cl, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		go func() {
			if r := <-done; r.cl != nil {
				_ = r.cl.Disconnect()
			}
		}()
		return nil, ErrNotRunning
	}
	if r.err != nil {
		return nil, explain(r.err)
	}
	v, err := r.cl.General.GetVersion()
	if err != nil {
		_ = r.cl.Disconnect()
		return nil, explain(err)
	}
	if v.RpcVersion < 1 || !strings.HasPrefix(v.ObsWebSocketVersion, "5.") {
		_ = r.cl.Disconnect()
		return nil, ErrTooOld
	}
	return r.cl, nil
}

func explain(err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), strings.Contains(msg, "connection refused"):
		return ErrNotRunning
	case strings.Contains(msg, "4009") || strings.Contains(msg, "Authentication failed"):
		return ErrPassword
	case strings.Contains(msg, "bad handshake"), strings.Contains(msg, "4010"): // not obs-websocket 5
		return ErrTooOld
	}
	return fmt.Errorf("talking to OBS: %w", err)
}

// Status reads OBS's version, whether it streams and where to, and its
// output figures; Advice says what to change in OBS's settings, if anything.
func (c *Client) Status(ctx context.Context) (livestream.OBSStatus, error) {
	var st livestream.OBSStatus
	err := c.do(ctx, func(cl *goobs.Client) (err error) {
		st, err = readStatus(cl)
		return err
	})
	return st, err
}

// readStatus asks OBS over an open connection.
func readStatus(cl *goobs.Client) (livestream.OBSStatus, error) {
	var st livestream.OBSStatus
	v, err := cl.General.GetVersion()
	if err != nil {
		return st, explain(err)
	}
	st.Version, st.WebSocketVersion = v.ObsVersion, v.ObsWebSocketVersion
	s, err := cl.Stream.GetStreamStatus()
	if err != nil {
		return st, explain(err)
	}
	st.Streaming, st.Reconnecting = s.OutputActive, s.OutputReconnecting
	st.Duration = time.Duration(s.OutputDuration) * time.Millisecond
	st.TotalFrames, st.SkippedFrames = int64(s.OutputTotalFrames), int64(s.OutputSkippedFrames)
	st.Congestion, st.BytesSent = s.OutputCongestion, int64(s.OutputBytes)
	if g, err := cl.General.GetStats(); err == nil {
		st.FPS, st.LaggedFrames = g.ActiveFps, int64(g.RenderSkippedFrames)
	}
	if svc, err := cl.Config.GetStreamServiceSettings(); err == nil && svc.StreamServiceSettings != nil {
		st.Server = svc.StreamServiceSettings.Server
	}
	st.Advice = advice(cl)
	return st, nil
}

// advice reads the encoder settings obs-websocket exposes (the simple
// output mode's x264 options) and says what a preview needs.
func advice(cl *goobs.Client) string {
	mode, err := cl.Config.GetProfileParameter(&config.GetProfileParameterParams{ParameterCategory: new("Output"), ParameterName: new("Mode")})
	if err != nil || mode.ParameterValue != "Simple" {
		return "" // Advanced output keeps its encoder settings where obs-websocket cannot read them
	}
	opts, err := cl.Config.GetProfileParameter(&config.GetProfileParameterParams{ParameterCategory: new("SimpleOutput"), ParameterName: new("x264Settings")})
	if err == nil && !strings.Contains(opts.ParameterValue, "bframes=0") {
		return "For the live preview, set OBS > Settings > Output > Encoder settings > x264 options to bframes=0."
	}
	return ""
}

// Setup points OBS's stream service at server and key (Custom service),
// as a streamer would in OBS > Settings > Stream.
func (c *Client) Setup(ctx context.Context, server, key string) error {
	return c.do(ctx, func(cl *goobs.Client) error {
		_, err := cl.Config.SetStreamServiceSettings(&config.SetStreamServiceSettingsParams{
			StreamServiceType:     new("rtmp_custom"),
			StreamServiceSettings: &typedefs.StreamServiceSettings{Server: server, Key: key},
		})
		if err != nil {
			return fmt.Errorf("setting OBS's stream service: %w", explain(err))
		}
		return nil
	})
}

// Start starts OBS's stream; it is already streaming is not an error.
func (c *Client) Start(ctx context.Context) error {
	return c.do(ctx, func(cl *goobs.Client) error {
		s, err := cl.Stream.GetStreamStatus()
		if err == nil && s.OutputActive {
			return nil
		}
		if _, err := cl.Stream.StartStream(&stream.StartStreamParams{}); err != nil {
			return fmt.Errorf("starting OBS's stream: %w", explain(err))
		}
		return nil
	})
}

// Stop stops OBS's stream; not streaming is not an error.
func (c *Client) Stop(ctx context.Context) error {
	return c.do(ctx, func(cl *goobs.Client) error {
		s, err := cl.Stream.GetStreamStatus()
		if err == nil && !s.OutputActive {
			return nil
		}
		if _, err := cl.Stream.StopStream(&stream.StopStreamParams{}); err != nil {
			return fmt.Errorf("stopping OBS's stream: %w", explain(err))
		}
		return nil
	})
}
