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

// SaveSettings stores the connection settings; they apply to the next call.
func (o OBSControl) SaveSettings(set livestream.OBSSettings) error {
	all := o.s.Settings()
	all.OBS = set
	return o.s.SaveSettings(all)
}

func (o OBSControl) client() *obs.Client {
	set := o.Settings()
	return &obs.Client{Host: set.Host, Port: set.Port, Password: set.Password}
}

// Status asks OBS.
func (o OBSControl) Status(ctx context.Context) (livestream.OBSStatus, error) {
	return o.client().Status(ctx)
}

// Setup points OBS's stream service at the stream's server and key.
func (o OBSControl) Setup(ctx context.Context, streamID string) error {
	st, err := o.s.engine.Get(streamID)
	if err != nil {
		return err
	}
	return o.client().Setup(ctx, st.InputURI, st.Input.StreamKey)
}

// Start points OBS at the stream and starts its stream.
func (o OBSControl) Start(ctx context.Context, streamID string) error {
	if err := o.Setup(ctx, streamID); err != nil {
		return err
	}
	return o.client().Start(ctx)
}

// Stop stops OBS's stream.
func (o OBSControl) Stop(ctx context.Context) error { return o.client().Stop(ctx) }

// Watch follows OBS's stream and its quitting.
func (o OBSControl) Watch(ctx context.Context, f func(livestream.OBSEvent)) error {
	return o.client().Watch(ctx, f)
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
