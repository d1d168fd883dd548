package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/obs"
)

// Setting names of the obs-websocket connection.
const (
	settingOBSHost     = "obs_host"
	settingOBSPort     = "obs_port"
	settingOBSPassword = "obs_password" // never logged
)

// obsControl drives the OBS on this machine for the API and the window.
type obsControl struct{ s *studio }

// Settings reads the connection settings (defaults: 127.0.0.1:4455, no password).
func (o obsControl) Settings() livestream.OBSSettings {
	host, _ := setting(o.s.store, settingOBSHost, "127.0.0.1")
	portText, _ := setting(o.s.store, settingOBSPort, strconv.Itoa(obs.DefaultPort))
	port, err := strconv.Atoi(portText)
	if err != nil {
		port = obs.DefaultPort
	}
	password, _ := setting(o.s.store, settingOBSPassword, "")
	return livestream.OBSSettings{Host: host, Port: port, Password: password}
}

// SaveSettings stores the connection settings; they apply to the next call.
func (o obsControl) SaveSettings(set livestream.OBSSettings) error {
	if err := o.s.store.SetSettings(map[string]string{settingOBSHost: set.Host, settingOBSPort: strconv.Itoa(set.Port),
		settingOBSPassword: set.Password}); err != nil {
		return fmt.Errorf("saving the OBS connection: %w", err)
	}
	return nil
}

func (o obsControl) client() *obs.Client {
	set := o.Settings()
	return &obs.Client{Host: set.Host, Port: set.Port, Password: set.Password}
}

// Status asks OBS.
func (o obsControl) Status(ctx context.Context) (livestream.OBSStatus, error) {
	return o.client().Status(ctx)
}

// Setup points OBS's stream service at the stream's server and key.
func (o obsControl) Setup(ctx context.Context, streamID string) error {
	st, err := o.s.engine.Get(streamID)
	if err != nil {
		return err
	}
	return o.client().Setup(ctx, st.InputURI, st.Input.StreamKey)
}

// Start points OBS at the stream and starts its stream.
func (o obsControl) Start(ctx context.Context, streamID string) error {
	if err := o.Setup(ctx, streamID); err != nil {
		return err
	}
	return o.client().Start(ctx)
}

// Stop stops OBS's stream.
func (o obsControl) Stop(ctx context.Context) error { return o.client().Stop(ctx) }

// Watch follows OBS's stream and its quitting.
func (o obsControl) Watch(ctx context.Context, f func(livestream.OBSEvent)) error {
	return o.client().Watch(ctx, f)
}
