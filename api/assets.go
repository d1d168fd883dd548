package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// Assets is the asset library the API serves.
type Assets interface {
	// List returns at most limit assets after the position (nil: from the
	// first), newest first, of one stream when streamID is set; how many
	// match; whether more follow.
	List(after *livestream.AssetPosition, limit int, streamID string) (items []livestream.Asset, total int, more bool)
	Get(publicID string) (livestream.Asset, error)
	Open(publicID string) (*os.File, livestream.Asset, error)
	Delete(publicID string) error
}

// Remote is the object store that keeps copies of recordings.
type Remote interface {
	// URL is a download address of the asset's copy, for a while.
	URL(ctx context.Context, a livestream.Asset) (string, error)
	// Check tries settings: the bucket exists and takes the keys.
	Check(ctx context.Context, set livestream.StorageSettings) error
}

// remoteView is an asset's copy in the object store.
type remoteView struct {
	Status     string `json:"status"`
	Bucket     string `json:"bucket"`
	Key        string `json:"key"`
	Error      string `json:"error,omitempty"`
	Attempts   int    `json:"attempts"`
	UploadedAt *int64 `json:"uploaded_at"`
}

// assetView is an asset as the API shows it, in Cloudinary's words where
// they exist.
type assetView struct {
	PublicID     string   `json:"public_id"`
	ResourceType string   `json:"resource_type"`
	Format       string   `json:"format"`
	LiveStreamID string   `json:"live_stream_id,omitempty"`
	Status       string   `json:"status"`
	Error        string   `json:"error,omitempty"`
	StartedAt    int64    `json:"started_at"`
	EndedAt      *int64   `json:"ended_at"`
	Duration     float64  `json:"duration"`
	Bytes        int64    `json:"bytes"`
	Codecs       []string `json:"codecs"`
	Width        int      `json:"width,omitempty"`
	Height       int      `json:"height,omitempty"`
	URL          string   `json:"url"`
	CreatedAt    int64    `json:"created_at"`
	// Storage is where the recording lives: local, uploading (to the
	// bucket; Remote.Error says why it is not there yet) or s3 (a copy is
	// in the bucket); Local whether its file is also on the studio's
	// computer; SecureURL a presigned address of the copy, valid for an
	// hour, made on each read.
	Storage   string      `json:"storage"`
	Local     bool        `json:"local"`
	SecureURL string      `json:"secure_url,omitempty"`
	Remote    *remoteView `json:"remote,omitempty"`
	// Clip tells what a clip was cut from (seconds in the source).
	Clip *clipView `json:"clip,omitempty"`
}

// clipView is where a clip comes from: start is the key frame it really
// starts at, requested_start what was asked.
type clipView struct {
	Source         string  `json:"source"`
	Start          float64 `json:"start"`
	RequestedStart float64 `json:"requested_start"`
	End            float64 `json:"end"`
}

// viewAsset is an asset's view for a read, with a fresh secure_url when a
// copy is in the bucket.
func (s *Server) viewAsset(r *http.Request, a livestream.Asset) assetView {
	v := s.viewAssetAt(baseURL(r), a)
	if v.Storage == storageS3 && s.Remote != nil {
		if u, err := s.Remote.URL(r.Context(), a); err == nil {
			v.SecureURL = u
		}
	}
	return v
}

// Where an asset lives, as the API says it.
const (
	storageLocal     = "local"
	storageUploading = "uploading"
	storageS3        = "s3"
)

// viewAssetAt is an asset's view with its file's URL under base.
func (s *Server) viewAssetAt(base string, a livestream.Asset) assetView {
	v := assetView{
		PublicID: a.PublicID, ResourceType: "video", Format: "mp4", LiveStreamID: a.StreamID,
		Status: string(a.Status), Error: a.Error, StartedAt: millis(a.Started),
		Duration: float64(a.Duration.Milliseconds()) / 1000, Bytes: a.Bytes, Codecs: a.Codecs,
		Width: a.Width, Height: a.Height, CreatedAt: millis(a.CreatedAt),
		URL: base + "/v2/video/" + s.CloudName + "/assets/" + a.PublicID + "/file",
	}
	if v.Codecs == nil {
		v.Codecs = []string{}
	}
	if !a.Ended.IsZero() {
		e := millis(a.Ended)
		v.EndedAt = &e
	}
	if c := a.Clip; c != nil {
		v.Clip = &clipView{Source: c.Source, Start: seconds(c.Start), RequestedStart: seconds(c.RequestedStart), End: seconds(c.End)}
	}
	v.Local, v.Storage = !a.LocalGone, storageLocal
	if r := a.Remote; r != nil {
		v.Storage = storageUploading
		if r.Status == livestream.RemoteUploaded {
			v.Storage = storageS3
		}
		v.Remote = &remoteView{Status: r.Status, Bucket: r.Bucket, Key: r.Key, Error: r.Error, Attempts: r.Attempts}
		if !r.UploadedAt.IsZero() {
			u := millis(r.UploadedAt)
			v.Remote.UploadedAt = &u
		}
	}
	return v
}

// seconds is a duration in seconds, to the millisecond.
func seconds(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }

// baseURL is the scheme and host the request came to.
func baseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func (s *Server) assetID(w http.ResponseWriter, r *http.Request) (string, bool) {
	if s.Assets == nil {
		s.fail(w, r, http.StatusServiceUnavailable, "this studio has no asset library")
		return "", false
	}
	id := r.PathValue("pid")
	if id == "" {
		return "", true // the list
	}
	if err := livestream.ValidatePublicID(id); err != nil {
		s.failErr(w, r, err)
		return "", false
	}
	return id, true
}

func (s *Server) listAssets(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.assetID(w, r); !ok {
		return
	}
	limit, after, ok := pageOf(s, w, r, decodeAssetCursor)
	if !ok {
		return
	}
	streamID := r.URL.Query().Get("live_stream_id")
	if streamID != "" && !livestream.IsID(streamID) {
		s.fail(w, r, http.StatusBadRequest, "live_stream_id: must be 32 lowercase hex characters, got "+quote(streamID))
		return
	}
	items, total, more := s.Assets.List(after, limit, streamID)
	p := struct {
		Items      []assetView `json:"items"`
		NextCursor string      `json:"next_cursor,omitempty"`
		TotalCount int         `json:"total_count"`
	}{Items: make([]assetView, 0, len(items)), TotalCount: total}
	for _, a := range items {
		p.Items = append(p.Items, s.viewAsset(r, a))
	}
	if more && len(items) > 0 {
		last := items[len(items)-1]
		p.NextCursor = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%015d:%s", last.Started.UnixMilli(), last.PublicID))
	}
	s.reply(w, http.StatusOK, p)
}

func decodeAssetCursor(v string) (livestream.AssetPosition, error) {
	at, id, err := splitCursor(v, func(id string) bool { return livestream.ValidatePublicID(id) == nil })
	return livestream.AssetPosition{Started: at, PublicID: id}, err
}

func (s *Server) getAsset(w http.ResponseWriter, r *http.Request) {
	id, ok := s.assetID(w, r)
	if !ok {
		return
	}
	a, err := s.Assets.Get(id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.reply(w, http.StatusOK, s.viewAsset(r, a))
}

func (s *Server) deleteAsset(w http.ResponseWriter, r *http.Request) {
	id, ok := s.assetID(w, r)
	if !ok {
		return
	}
	if err := s.Assets.Delete(id); err != nil {
		s.failErr(w, r, err)
		return
	}
	s.reply(w, http.StatusOK, message{Message: "asset " + id + " deleted"})
}

// maxRanges bounds the ranges of one request for a recording's file.
const maxRanges = 16

// assetFile serves the MP4 with range requests. The answer deadline is
// renewed as bytes go out, so a long download is not cut while it moves.
func (s *Server) assetFile(w http.ResponseWriter, r *http.Request) {
	id, ok := s.assetID(w, r)
	if !ok {
		return
	}
	if n := strings.Count(r.Header.Get("Range"), ",") + 1; n > maxRanges {
		// Thousands of tiny parts would cost far more than the file's bytes.
		s.fail(w, r, http.StatusRequestedRangeNotSatisfiable, fmt.Sprintf("a Range header may name at most %d ranges, got %d; ask for fewer, larger ones", maxRanges, n))
		return
	}
	if a, err := s.Assets.Get(id); err == nil && a.LocalGone {
		s.remoteFile(w, r, a)
		return
	}
	f, a, err := s.Assets.Open(id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", "video/mp4")
	h.Set("Content-Disposition", `inline; filename="`+a.PublicID+`.mp4"`)
	h.Set("Cache-Control", "no-cache")
	modified := a.Ended
	if a.Status == livestream.AssetRecording {
		modified = time.Time{} // still growing
	}
	http.ServeContent(&renewingWriter{ResponseWriter: w, rc: http.NewResponseController(w), d: s.ResponseTimeout}, r, a.PublicID+".mp4", modified, f)
}

// remoteFile sends the client to the copy in the object store (a
// presigned address that works for an hour) when the file is only there.
func (s *Server) remoteFile(w http.ResponseWriter, r *http.Request, a livestream.Asset) {
	if s.Remote == nil {
		s.fail(w, r, http.StatusNotFound, "asset "+a.PublicID+": its file is only in the object store, which this studio does not reach")
		return
	}
	u, err := s.Remote.URL(r.Context(), a)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusFound)
}

// renewingWriter moves the write deadline on with every write.
type renewingWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	d    time.Duration
	last time.Time
}

func (w *renewingWriter) Write(p []byte) (int, error) {
	if now := time.Now(); now.Sub(w.last) > time.Second {
		w.last = now
		_ = w.rc.SetWriteDeadline(now.Add(w.d))
	}
	return w.ResponseWriter.Write(p)
}
