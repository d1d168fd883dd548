package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/onair-studio/onair/engine/livestream"
)

// OBS is OBS Studio as the API drives it (through obs-websocket).
type OBS interface {
	Status(ctx context.Context) (livestream.OBSStatus, error)
	Settings() livestream.OBSSettings
	SaveSettings(livestream.OBSSettings) error
	// Setup points OBS's stream service at a stream, over RTMP or SRT;
	// Start does that and starts OBS's stream; Stop stops it.
	Setup(ctx context.Context, streamID string, via livestream.Ingest) error
	Start(ctx context.Context, streamID string, via livestream.Ingest) error
	Stop(ctx context.Context) error
}

type obsView struct {
	Connected        bool    `json:"connected"`
	Error            string  `json:"error,omitempty"`
	Host             string  `json:"host"`
	Port             int     `json:"port"`
	PasswordSet      bool    `json:"password_set"`
	Version          string  `json:"version,omitempty"`
	WebSocketVersion string  `json:"websocket_version,omitempty"`
	Streaming        bool    `json:"streaming"`
	Reconnecting     bool    `json:"reconnecting"`
	Server           string  `json:"server,omitempty"`
	DurationSec      float64 `json:"duration_sec"`
	TotalFrames      int64   `json:"total_frames"`
	SkippedFrames    int64   `json:"skipped_frames"`
	Congestion       float64 `json:"congestion"`
	FPS              float64 `json:"fps"`
	LaggedFrames     int64   `json:"lagged_frames"`
	BytesSent        int64   `json:"bytes_sent"`
	Advice           string  `json:"advice,omitempty"`
}

// obsSettingsBody changes how the studio reaches OBS.
type obsSettingsBody struct {
	Host     *string `json:"host"`
	Port     *int    `json:"port"`
	Password *string `json:"password"`
}

func (s *Server) obsReady(w http.ResponseWriter, r *http.Request) bool {
	if s.OBS == nil {
		s.fail(w, r, http.StatusServiceUnavailable, "this studio does not control OBS")
		return false
	}
	return true
}

func (s *Server) obsStatus(w http.ResponseWriter, r *http.Request) {
	if !s.obsReady(w, r) {
		return
	}
	set := s.OBS.Settings()
	v := obsView{Host: set.Host, Port: set.Port, PasswordSet: set.Password != ""}
	st, err := s.OBS.Status(r.Context())
	if err != nil {
		v.Error = err.Error()
	} else {
		v.Connected = true
		v.Version, v.WebSocketVersion, v.Streaming, v.Reconnecting, v.Server = st.Version, st.WebSocketVersion, st.Streaming, st.Reconnecting, st.Server
		v.DurationSec, v.TotalFrames, v.SkippedFrames = st.Duration.Seconds(), st.TotalFrames, st.SkippedFrames
		v.Congestion, v.BytesSent, v.Advice = st.Congestion, st.BytesSent, st.Advice
		v.FPS, v.LaggedFrames = st.FPS, st.LaggedFrames
	}
	s.reply(w, http.StatusOK, v)
}

func (s *Server) obsSettings(w http.ResponseWriter, r *http.Request) {
	if !s.obsReady(w, r) {
		return
	}
	var b obsSettingsBody
	if !s.decode(w, r, &b) {
		return
	}
	set := s.OBS.Settings()
	if b.Host != nil {
		if *b.Host == "" || len(*b.Host) > 253 {
			s.fail(w, r, http.StatusBadRequest, "host: must be a host name or address of 1 to 253 characters")
			return
		}
		set.Host = *b.Host
	}
	if b.Port != nil {
		if *b.Port < 1 || *b.Port > 65535 {
			s.fail(w, r, http.StatusBadRequest, "port: must be from 1 to 65535")
			return
		}
		set.Port = *b.Port
	}
	if b.Password != nil {
		if len(*b.Password) > 256 {
			s.fail(w, r, http.StatusBadRequest, "password: must be at most 256 characters")
			return
		}
		set.Password = *b.Password
	}
	if err := s.OBS.SaveSettings(set); err != nil {
		s.failErr(w, r, err)
		return
	}
	s.reply(w, http.StatusOK, obsView{Host: set.Host, Port: set.Port, PasswordSet: set.Password != ""})
}

func (s *Server) obsAction(w http.ResponseWriter, r *http.Request, what string, f func(ctx context.Context, id string) error) {
	if !s.obsReady(w, r) || !s.noBody(w, r) {
		return
	}
	id, ok := s.idParam(w, r, "id", "live stream")
	if !ok {
		return
	}
	if _, err := s.Engine.Get(id); err != nil {
		s.failErr(w, r, err)
		return
	}
	if err := f(r.Context(), id); err != nil {
		var ve *livestream.ValidationError
		if errors.As(err, &ve) || errors.Is(err, livestream.ErrNotFound) {
			s.failErr(w, r, err)
			return
		}
		// OBS is another program: it being away is not the studio's fault,
		// and not the client's.
		s.fail(w, r, http.StatusServiceUnavailable, err.Error())
		return
	}
	s.reply(w, http.StatusOK, message{Message: what})
}

func (s *Server) obsSetup(w http.ResponseWriter, r *http.Request) {
	via, ok := s.ingestParam(w, r)
	if !ok {
		return
	}
	s.obsAction(w, r, "OBS now streams to this live stream over "+strings.ToUpper(string(via))+" when it starts", func(ctx context.Context, id string) error { return s.OBS.Setup(ctx, id, via) })
}

func (s *Server) obsStart(w http.ResponseWriter, r *http.Request) {
	via, ok := s.ingestParam(w, r)
	if !ok {
		return
	}
	s.obsAction(w, r, "OBS is streaming to this live stream over "+strings.ToUpper(string(via)), func(ctx context.Context, id string) error { return s.OBS.Start(ctx, id, via) })
}

// ingestParam reads ?protocol= (rtmp, the default, or srt).
func (s *Server) ingestParam(w http.ResponseWriter, r *http.Request) (livestream.Ingest, bool) {
	switch v := r.URL.Query().Get("protocol"); v {
	case "", string(livestream.IngestRTMP):
		return livestream.IngestRTMP, true
	case string(livestream.IngestSRT):
		return livestream.IngestSRT, true
	default:
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("protocol: %q is not rtmp or srt", v))
		return "", false
	}
}

func (s *Server) obsStop(w http.ResponseWriter, r *http.Request) {
	s.obsAction(w, r, "OBS stopped streaming", func(ctx context.Context, _ string) error { return s.OBS.Stop(ctx) })
}
