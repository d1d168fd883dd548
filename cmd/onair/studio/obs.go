package studio

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/onair-studio/onair/api"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/obs"
)

// OBSControl drives the OBS on this machine for the API and the window.
type OBSControl struct{ s *Studio }

// OBS is the studio's OBS control.
func (s *Studio) OBS() OBSControl { return OBSControl{s} }

// Settings reads the connection settings (defaults: 127.0.0.1:4455, no password).
func (o OBSControl) Settings() livestream.OBSSettings { return o.s.Settings().OBS }

// SaveSettings stores the connection settings; they apply to the next call
// and the monitor reconnects with them.
func (o OBSControl) SaveSettings(set livestream.OBSSettings) error {
	all := o.s.Settings()
	all.OBS = set
	err := o.s.SaveSettings(all)
	o.s.obs.Poke()
	return err
}

func (o OBSControl) client() *obs.Client {
	set := o.Settings()
	return &obs.Client{Host: set.Host, Port: set.Port, Password: set.Password}
}

// Status is OBS's status as the monitor last read it (at most 2 s old).
func (o OBSControl) Status(ctx context.Context) (livestream.OBSStatus, error) {
	return o.s.obs.Status(ctx)
}

// Setup points OBS's stream service at the stream's server and key, or at
// its SRT URL (OBS takes srt:// as a Custom server, with no key).
func (o OBSControl) Setup(ctx context.Context, streamID string, via livestream.Ingest) error {
	st, err := o.s.engine.Get(streamID)
	if err != nil {
		return err
	}
	server, key := st.InputURI, st.Input.StreamKey
	if via == livestream.IngestSRT {
		if st.SRTURI == "" {
			return &livestream.ValidationError{Field: "protocol", Message: "the studio's SRT listener is off: turn it on in Settings, or send OBS the RTMP server"}
		}
		server, key = st.SRTURI, ""
	}
	defer o.s.obs.Poke()
	return o.client().Setup(ctx, server, key)
}

// Start points OBS at the stream (as Setup) and starts its stream.
func (o OBSControl) Start(ctx context.Context, streamID string, via livestream.Ingest) error {
	if err := o.Setup(ctx, streamID, via); err != nil {
		return err
	}
	defer o.s.obs.Poke()
	return o.client().Start(ctx)
}

// Stop stops OBS's stream.
func (o OBSControl) Stop(ctx context.Context) error {
	defer o.s.obs.Poke()
	return o.client().Stop(ctx)
}

// Watch calls f with each status the monitor reads (OBS's stream, its
// figures, its quitting) until ctx ends; f must not block.
func (o OBSControl) Watch(ctx context.Context, f func(livestream.OBSSnapshot)) {
	o.s.obs.Watch(ctx, f)
}

// Refresh has the monitor read OBS now.
func (o OBSControl) Refresh() { o.s.obs.Poke() }

// startOBS runs the one monitor of OBS that the window and the API read.
func (s *Studio) startOBS() error {
	s.obs = obs.NewMonitor(func() livestream.OBSSettings { return s.Settings().OBS })
	s.obsForSamples.Store(s.obs) // the engine's sampler runs already
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.obs.Run(ctx)
	}()
	s.stopOBS = func() {
		cancel()
		<-done
	}
	return nil
}

// PreviewWHEP is the WHEP address of a stream's preview on this studio,
// with the HTTP client to reach it (nil: the default; over HTTPS, one
// that trusts exactly the studio's own certificate).
func (s *Studio) PreviewWHEP(id string) (string, *http.Client) {
	u := s.httpURL + "/v2/video/" + s.boot.CloudName + "/live_streams/" + id + "/whep"
	if s.tls == nil {
		return u, nil
	}
	return u, &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: pinnedTLS(*s.tls)}}
}

// PreviewPage is the browser preview page of a stream with a fresh token.
func (s *Studio) PreviewPage(id string) string {
	_, secret := s.Credentials()
	tok, _ := api.NewPreviewToken(secret, id, time.Now())
	u := s.httpURL + "/preview/" + id
	if s.boot.CloudName != livestream.DefaultCloudName {
		u += "?cloud=" + url.QueryEscape(s.boot.CloudName)
	}
	return u + "#token=" + tok
}
