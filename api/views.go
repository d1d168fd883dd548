package api

import (
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

type inputView struct {
	Type      string `json:"type"`
	URI       string `json:"uri"`
	StreamKey string `json:"stream_key"`
}

type outputView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	URI       string `json:"uri"`
	StreamKey string `json:"stream_key"`
	Vendor    string `json:"vendor"`
	PublicID  string `json:"public_id"`
	Status    string `json:"status"`
	LastError string `json:"last_error"`
	CreatedAt int64  `json:"created_at"`
	UpdatedAt int64  `json:"updated_at"`
}

type streamView struct {
	ID             string       `json:"id"`
	Name           string       `json:"name"`
	Input          inputView    `json:"input"`
	Status         string       `json:"status"`
	Outputs        []outputView `json:"outputs"`
	IdleTimeoutSec int          `json:"idle_timeout_sec"`
	MaxRuntimeSec  int          `json:"max_runtime_sec"`
	CreatedAt      int64        `json:"created_at"`
	UpdatedAt      int64        `json:"updated_at"`
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func viewOutput(o livestream.OutputState) outputView {
	return outputView{
		ID: o.ID, Name: o.Name, Type: string(o.Type), URI: o.URI, StreamKey: o.StreamKey,
		Vendor: o.Vendor, PublicID: o.PublicID, Status: string(o.Status), LastError: o.LastError,
		CreatedAt: millis(o.CreatedAt), UpdatedAt: millis(o.UpdatedAt),
	}
}

func viewStream(st livestream.StreamState) streamView {
	v := streamView{
		ID:             st.ID,
		Name:           st.Name,
		Input:          inputView{Type: st.Input.Type, URI: st.InputURI, StreamKey: st.Input.StreamKey},
		Status:         string(st.Status),
		Outputs:        make([]outputView, 0, len(st.Outputs)),
		IdleTimeoutSec: st.IdleTimeoutSec,
		MaxRuntimeSec:  st.MaxRuntimeSec,
		CreatedAt:      millis(st.CreatedAt),
		UpdatedAt:      millis(st.UpdatedAt),
	}
	for _, o := range st.Outputs {
		v.Outputs = append(v.Outputs, viewOutput(o))
	}
	return v
}
