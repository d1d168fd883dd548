// Package api is the studio's control API, shaped like Cloudinary's Live
// Streaming API: routes, HTTP Basic authentication (with failed logins
// slowed), the JSON envelope, paging, Server-Sent Events, WHEP, webhooks,
// metrics and the OpenAPI document. What viewers fetch (HLS, the pages)
// is api/playback's, which never passes through this package.
package api

import (
	"cmp"
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// OpenAPI is the API's description, served at /openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// Engine is what the API drives.
type Engine interface {
	Create(livestream.CreateParams) (livestream.StreamState, error)
	Get(id string) (livestream.StreamState, error)
	// Stats is what comes into an active stream; ok is false when idle.
	Stats(id string) (stats livestream.Stats, ok bool, err error)
	// History is an active stream's recent counters, a sample a second,
	// the newest seconds of them; ok is false when idle.
	History(id string, seconds int) (samples []livestream.Sample, ok bool, err error)
	// ListPage returns at most limit streams after the position (nil: from
	// the first) in list order, how many there are in all, and whether more
	// follow.
	ListPage(after *livestream.ListPosition, limit int) (items []livestream.StreamState, total int, more bool, err error)
	Update(id string, p livestream.UpdateParams) (livestream.StreamState, error)
	Delete(id string) error
	Activate(id string) (livestream.StreamState, error)
	Idle(id string) (livestream.StreamState, error)
	ResetStreamKey(id string) (livestream.StreamState, error)
	GetOutput(id, outputID string) (livestream.OutputState, error)
	CreateOutput(id string, p livestream.OutputParams) (livestream.OutputState, error)
	UpdateOutput(id, outputID string, p livestream.OutputParams) (livestream.OutputState, error)
	DeleteOutput(id, outputID string) error
	// SubscribeAfter returns the kept events after the id (none for 0),
	// then every new one; complete is false when some were no longer kept.
	// A subscriber that falls behind is closed, and lagged reports true.
	SubscribeAfter(ctx context.Context, after uint64) (events <-chan livestream.Event, complete bool, lagged func() bool)
}

// Credentials returns the current API key and secret.
type Credentials func() (key, secret string)

// Server holds the API's dependencies.
type Server struct {
	//
	// parameters
	//
	// Engine is required.
	Engine Engine
	// Credentials is required.
	Credentials Credentials
	// Assets is the asset library. Without it the asset routes answer 503.
	Assets Assets
	// OBS is OBS Studio's control. Without it the OBS routes answer 503.
	OBS OBS
	// Preview returns the WebRTC preview, asked at each request (it may
	// start after the server: a retry); nil, or a nil result, and the WHEP
	// routes answer 503.
	Preview func() Preview
	// Webhooks are the webhook registrations. Without them their routes answer 503.
	Webhooks Webhooks
	// Settings are the studio's saved settings. Without them their route
	// answers 503.
	Settings Settings
	// Remote is the object store recordings are copied to. Without it an
	// asset whose file is only there answers 404, and the check 503.
	Remote Remote
	// Clips cut clips out of recordings. Without them their route answers
	// 503.
	Clips Clips
	// Stills are pictures of live streams and recordings. Without them
	// their routes answer 503.
	Stills Stills
	// Metrics serves /metrics (Prometheus), behind the API's authentication.
	// Without it the route answers 503.
	Metrics http.Handler
	// CloudName is the {cloud_name} path element. It defaults to "local".
	CloudName string
	// MaxBodyBytes limits request bodies. It defaults to 64 KiB.
	MaxBodyBytes int64
	// AllowedHosts are names, besides loopback names and IP addresses, that
	// API requests may carry in their Host header (see allowedHost).
	AllowedHosts []string
	// BodyTimeout bounds reading an API request's body. It defaults to
	// DefaultBodyTimeout.
	BodyTimeout time.Duration
	// ResponseTimeout bounds writing an API answer. It defaults to
	// DefaultResponseTimeout.
	ResponseTimeout time.Duration
	// EventWriteTimeout bounds writing one event to an SSE subscriber. It
	// defaults to DefaultEventWriteTimeout.
	EventWriteTimeout time.Duration
	// Parts tells which parts of the studio run (GET …/status); nil: the
	// route answers 503.
	Parts func() []livestream.Part
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	//
	// private
	//
	crossOrigin *http.CrossOriginProtection
	views       viewCache
	logins      loginLimiter // wrong API credentials, per address
	tokens      loginLimiter // wrong or expired preview tokens, per address
}

// Handler returns the HTTP handler of every route.
func (s *Server) Handler() http.Handler {
	if s.CloudName == "" {
		s.CloudName = "local"
	}
	if s.MaxBodyBytes == 0 {
		s.MaxBodyBytes = 64 << 10
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	s.BodyTimeout = cmp.Or(s.BodyTimeout, DefaultBodyTimeout)
	s.ResponseTimeout = cmp.Or(s.ResponseTimeout, DefaultResponseTimeout)
	s.EventWriteTimeout = cmp.Or(s.EventWriteTimeout, DefaultEventWriteTimeout)
	s.crossOrigin = http.NewCrossOriginProtection()
	mux := http.NewServeMux()
	base := "/v2/video/{cloud}"
	s.route(mux, base+"/live_streams", true, methods{"GET": s.listStreams, "POST": s.createStream})
	s.route(mux, base+"/live_streams/{id}", true, methods{"GET": s.getStream, "PATCH": s.updateStream, "DELETE": s.deleteStream})
	s.route(mux, base+"/live_streams/{id}/stats/history", true, methods{"GET": s.statsHistory})
	s.route(mux, base+"/live_streams/{id}/activate", true, methods{"POST": s.activate})
	s.route(mux, base+"/live_streams/{id}/idle", true, methods{"POST": s.idle})
	s.route(mux, base+"/live_streams/{id}/reset_stream_key", true, methods{"POST": s.resetKey})
	s.route(mux, base+"/live_streams/{id}/outputs", true, methods{"GET": s.listOutputs, "POST": s.createOutput})
	s.route(mux, base+"/live_streams/{id}/outputs/{oid}", true, methods{"GET": s.getOutput, "PATCH": s.updateOutput, "DELETE": s.deleteOutput})
	s.route(mux, base+"/assets", true, methods{"GET": s.listAssets})
	s.route(mux, base+"/assets/{pid}", true, methods{"GET": s.getAsset, "DELETE": s.deleteAsset})
	s.route(mux, base+"/assets/{pid}/file", true, methods{"GET": s.assetFile})
	s.route(mux, base+"/assets/{pid}/poster.jpg", true, methods{"GET": s.poster})
	s.route(mux, base+"/assets/{pid}/clips", true, methods{"POST": s.createClip})
	s.route(mux, base+"/live_streams/{id}/thumbnail.jpg", true, methods{"GET": s.thumbnail})
	s.route(mux, base+"/obs", true, methods{"GET": s.obsStatus, "PATCH": s.obsSettings})
	s.route(mux, base+"/settings", true, methods{"GET": s.getSettings, "PATCH": s.updateSettings})
	s.route(mux, base+"/settings/storage", true, methods{"GET": s.getStorage, "PATCH": s.updateStorage})
	s.route(mux, base+"/settings/storage/test", true, methods{"POST": s.testStorage})
	s.route(mux, base+"/live_streams/{id}/obs/setup", true, methods{"POST": s.obsSetup})
	s.route(mux, base+"/live_streams/{id}/obs/start", true, methods{"POST": s.obsStart})
	s.route(mux, base+"/live_streams/{id}/obs/stop", true, methods{"POST": s.obsStop})
	s.route(mux, base+"/live_streams/{id}/preview_token", true, methods{"POST": s.previewTokenCall})
	mux.HandleFunc(base+"/live_streams/{id}/whep", s.whep)
	mux.HandleFunc(base+"/live_streams/{id}/whep/{sid}", s.whepSession)
	s.route(mux, base+"/events", true, methods{"GET": s.events})
	s.route(mux, base+"/webhooks", true, methods{"GET": s.listWebhooks, "POST": s.createWebhook})
	s.route(mux, base+"/webhooks/{wid}", true, methods{"GET": s.getWebhook, "PATCH": s.updateWebhook, "DELETE": s.deleteWebhook})
	s.route(mux, base+"/status", true, methods{"GET": s.status})
	s.route(mux, "/metrics", true, methods{"GET": s.metrics})
	s.route(mux, "/healthz", false, methods{"GET": s.healthz})
	s.route(mux, "/openapi.json", false, methods{"GET": s.openapi})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "no such route: "+r.Method+" "+r.URL.Path)
	})
	// Every request starts with the API's time limits, /healthz,
	// /openapi.json and unknown routes included; the SSE handler sets its
	// own. (net/http clears the write deadline after each request.)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setDeadlines(w, s.BodyTimeout, s.ResponseTimeout)
		mux.ServeHTTP(w, r)
	})
}

type methods map[string]http.HandlerFunc

// route registers pattern with its methods; another method gets 405 in
// the envelope. With auth, the caller must present the API credentials and,
// under /v2/video, the right cloud name.
func (s *Server) route(mux *http.ServeMux, pattern string, auth bool, m methods) {
	allow := make([]string, 0, len(m)+1)
	for k := range m {
		allow = append(allow, k)
	}
	if _, ok := m["GET"]; ok {
		allow = append(allow, "HEAD")
	}
	slices.Sort(allow)
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if auth && (!s.guard(w, r) || !s.authorized(w, r)) {
			return
		}
		if c := r.PathValue("cloud"); c != "" && c != s.CloudName {
			s.fail(w, r, http.StatusNotFound, "unknown cloud name "+quote(c)+"; this studio's is "+quote(s.CloudName))
			return
		}
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet // net/http sends the headers only
		}
		h, ok := m[method]
		if !ok {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.fail(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed here; use "+strings.Join(allow, " or "))
			return
		}
		h(w, r)
	})
}

// status lists the studio's parts: which run, where, and why one does not.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	if s.Parts == nil {
		s.fail(w, r, http.StatusServiceUnavailable, "this studio does not report its parts")
		return
	}
	s.reply(w, http.StatusOK, map[string]any{"parts": s.Parts()})
}

// down says why an optional part is not running ("" when it runs or is
// not reported).
func (s *Server) down(name string) string {
	if s.Parts == nil {
		return ""
	}
	for _, p := range s.Parts() {
		if p.Name == name && !p.Up {
			return p.Reason
		}
	}
	return ""
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status":"ok"}` + "\n"))
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.Metrics == nil {
		s.fail(w, r, http.StatusServiceUnavailable, "metrics are not collected in this studio")
		return
	}
	s.Metrics.ServeHTTP(w, r)
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(OpenAPI)
}
