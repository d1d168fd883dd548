package api

import (
	"encoding/json"
	"sync"
	"sync/atomic"
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

// viewCache keeps the encoded view of each stream's latest state, keyed by
// id and checked by the state's Version: a list page or a GET of an
// unchanged stream is not encoded again (encoding was the largest cost of
// API reads).
type viewCache struct {
	m      sync.Map // id → *cachedView
	stored atomic.Int64
}

type cachedView struct {
	version uint64
	b       json.RawMessage
}

// maxCachedViews bounds the cache; it is emptied when full (views of
// deleted streams are not removed one by one).
const maxCachedViews = 20000

func (c *viewCache) encoded(st livestream.StreamState) (json.RawMessage, error) {
	if v, ok := c.m.Load(st.ID); ok && st.Version != 0 && v.(*cachedView).version == st.Version {
		return v.(*cachedView).b, nil
	}
	b, err := json.Marshal(viewStream(st))
	if err != nil || st.Version == 0 {
		return b, err
	}
	if c.stored.Add(1) > maxCachedViews {
		c.m.Clear()
		c.stored.Store(0)
	}
	c.m.Store(st.ID, &cachedView{version: st.Version, b: b})
	return b, nil
}
