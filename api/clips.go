package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// Clips cut new assets out of recordings without re-encoding.
type Clips interface {
	// Clip checks the range, indexes the clip (processing) and cuts it in
	// the background (asset.ready follows). publicID may be empty.
	Clip(source string, start, end time.Duration, publicID string) (livestream.Asset, error)
}

// clipBody is POST /assets/{public_id}/clips's body: seconds from the
// recording's start.
type clipBody struct {
	Start    *float64 `json:"start"`
	End      *float64 `json:"end"`
	PublicID string   `json:"public_id"`
}

// maxClipSeconds bounds start and end before they become durations.
const maxClipSeconds = 7 * 24 * 3600

func clipTime(field string, v *float64) (time.Duration, error) {
	switch {
	case v == nil:
		return 0, &livestream.ValidationError{Field: field, Message: "is required: seconds from the recording's start, e.g. 12.5"}
	case *v < 0:
		return 0, &livestream.ValidationError{Field: field, Message: "must be 0 or more seconds"}
	case *v > maxClipSeconds:
		return 0, &livestream.ValidationError{Field: field, Message: fmt.Sprintf("%g s is beyond any recording", *v)}
	}
	return time.Duration(*v * float64(time.Second)), nil
}

// createClip answers POST /assets/{public_id}/clips: 202 with the new
// asset, processing; its start is the key frame it really starts at.
func (s *Server) createClip(w http.ResponseWriter, r *http.Request) {
	id, ok := s.assetID(w, r)
	if !ok {
		return
	}
	if s.Clips == nil {
		s.fail(w, r, http.StatusServiceUnavailable, "this studio cuts no clips")
		return
	}
	var b clipBody
	if !s.decode(w, r, &b) {
		return
	}
	start, err := clipTime("start", b.Start)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	end, err := clipTime("end", b.End)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if b.PublicID != "" {
		if err := livestream.ValidatePublicID(b.PublicID); err != nil {
			s.failErr(w, r, &livestream.ValidationError{Field: "public_id", Message: err.Error()})
			return
		}
	}
	a, err := s.Clips.Clip(id, start, end, b.PublicID)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	w.Header().Set("Location", "/v2/video/"+s.CloudName+"/assets/"+a.PublicID)
	s.reply(w, http.StatusAccepted, s.viewAsset(r, a))
}
