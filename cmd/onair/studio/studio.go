// Package studio is OnAir Studio's composition root: it opens the store,
// reads the settings, starts the engine with its outputs, the webhooks,
// the RTMP ingest, the preview and the HTTP server (API, HLS and pages) in
// order, and stops them in the reverse order. The command (window or
// headless) and every test harness start the studio through Start.
package studio

import (
	"cmp"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onair-studio/onair/api"
	"github.com/onair-studio/onair/engine"
	"github.com/onair-studio/onair/engine/clip"
	"github.com/onair-studio/onair/engine/ingest"
	"github.com/onair-studio/onair/engine/library"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/netlimit"
	"github.com/onair-studio/onair/engine/obs"
	"github.com/onair-studio/onair/engine/preview"
	"github.com/onair-studio/onair/engine/still"
	"github.com/onair-studio/onair/engine/transcode"
	"github.com/onair-studio/onair/engine/upload"
	"github.com/onair-studio/onair/engine/webhook"
	"github.com/onair-studio/onair/store"
)

// Config is what the command line (or a test) sets; what it leaves empty
// comes from the saved settings, then the defaults.
type Config struct {
	DataDir  string
	HTTPAddr string
	RTMPAddr string
	// HTTPSet and RTMPSet tell that the address was given on the command
	// line; otherwise the saved setting, if any, is used.
	HTTPSet bool
	RTMPSet bool
	// SRTAddr, when set, is the SRT listener for this run (--srt; "off"
	// turns it off), over the saved setting.
	SRTAddr string
	// TLSCert and TLSKey are the HTTPS certificate beyond loopback (empty:
	// the saved one, else a self-signed one in the data folder);
	// InsecureHTTP serves plain HTTP beyond loopback instead.
	TLSCert, TLSKey string
	InsecureHTTP    bool
	// PublicURL, when set, is the public playback address for this run,
	// over the saved one (--public-url).
	PublicURL string
	// ListenUDP opens the preview's UDP port; nil: net.ListenPacket.
	// (Tests make it fail as Wine and some firewalls do.)
	ListenUDP func(network, address string) (net.PacketConn, error)
	// Version is the studio's, for the webhooks' User-Agent.
	Version string
	// FFmpeg is the FFmpeg of the sound meters and the preview's sound (--ffmpeg): a path,
	// or "" to look for it on the PATH, or "off".
	FFmpeg string

	// Limits; zero means the package's default. Tests shorten them.
	BodyTimeout     time.Duration
	HLSTimeout      time.Duration
	PublishTimeout  time.Duration
	MaxHTTPConns    int
	MaxHTTPPerHost  int
	MaxRTMPConns    int
	MaxRTMPPerHost  int
	ResponseTimeout time.Duration
	// Retry pacing of simulcast pushes and webhook deliveries; zero: the
	// packages' defaults. Tests shorten them.
	SimulcastMinBackoff, SimulcastMaxBackoff time.Duration
	WebhookMinBackoff                        time.Duration
	UploadMinBackoff                         time.Duration
}

// HTTP connection caps: one address (a remote client, or every local
// player and script on loopback) may hold this many connections open.
const (
	defaultMaxHTTPConns   = 4096
	defaultMaxHTTPPerHost = 1024
)

// Studio is the running studio, shared by the window and the headless mode.
type Studio struct {
	cfg Config
	log *slog.Logger
	// ffmpegPath is the sound meters' FFmpeg; ffmpegErr why there is none.
	ffmpegPath string
	ffmpegErr  error
	// choice is the renditions' encoder (probed in the background).
	encoderMu sync.Mutex
	choice    transcode.Choice
	probing   context.CancelFunc
	probeWG   sync.WaitGroup
	store     *store.Store
	engine    *engine.Service
	library   *library.Library
	webhooks  *webhook.Dispatcher
	uploader  *upload.Uploader
	cutter    *clip.Cutter
	thumbs    *still.Thumbnails
	posters   *still.Posters
	ingest    *ingest.Server
	api       *api.Server
	http      *http.Server
	httpLn    net.Listener
	rtmpLn    net.Listener
	httpLimit *netlimit.Limiter
	cancel    context.CancelFunc
	obs       *obs.Monitor
	// obsForSamples is obs for the engine's sampler, which starts before it.
	obsForSamples atomic.Pointer[obs.Monitor]
	stopOBS       func()
	credMu        sync.RWMutex
	apiKey        string
	secret        string
	envCred       bool // the credentials come from the environment
	// boot are the settings this run started with (defaults applied);
	// saved the saved ones as Settings shows them, kept in memory and
	// replaced by SaveSettings (under saveMu).
	boot    livestream.Settings
	saved   atomic.Pointer[livestream.Settings]
	saveMu  sync.Mutex
	httpURL string
	rtmpURL string
	srt     *ingest.SRTServer // nil: SRT off or its port could not be had
	srtURL  string            // srt://host:port, "" without SRT
	srtErr  error             // why SRT is not running, when it should
	// previewMu guards the preview, which a retry may start after Start.
	previewMu sync.Mutex
	// previewRetry makes retries of the preview one at a time.
	previewRetry sync.Mutex
	preview      *preview.Server
	// previewErr says why the preview is not running (nil: it runs).
	previewErr error
	// previewClosed: Close ran, no retry starts the preview again.
	previewClosed bool
	// tls is the HTTPS certificate, when the API listens beyond loopback.
	tls *tls.Certificate
	// tlsErr says why HTTPS could not be set up, so that the studio
	// serves this computer only (nil: as asked).
	tlsErr error
}

// Start opens the store and starts the engine, RTMP and HTTP servers. A
// port already taken is a *PortTakenError.
func Start(cfg Config, log *slog.Logger) (_ *Studio, err error) {
	s := &Studio{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	for _, step := range []func() error{s.openStore, s.loadSettings, s.listen, s.startLibrary,
		s.startWebhooks, s.startEngine, s.startStills, s.startUploader, s.startSRT, s.startIngest, s.startOBS, s.startPreview, s.startAPI, s.serveHTTP} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	log.Info("OnAir Studio ready",
		"rtmp_server", s.rtmpURL,
		"api", s.httpURL+"/v2/video/"+s.boot.CloudName+"/live_streams",
		"data", cfg.DataDir)
	return s, nil
}

// Engine is the studio's engine.
func (s *Studio) Engine() *engine.Service { return s.engine }

// Library is the recordings library.
func (s *Studio) Library() *library.Library { return s.library }

// Uploader copies recordings to the object store.
func (s *Studio) Uploader() *upload.Uploader { return s.uploader }

// Webhooks is the webhook dispatcher.
func (s *Studio) Webhooks() *webhook.Dispatcher { return s.webhooks }

// Preview is the WebRTC preview server; nil while it is not running.
func (s *Studio) Preview() *preview.Server {
	s.previewMu.Lock()
	defer s.previewMu.Unlock()
	return s.preview
}

// HTTPURL is the base URL of the API, HLS and pages, e.g. http://127.0.0.1:8935.
func (s *Studio) HTTPURL() string { return s.httpURL }

// RTMPURL is the server URL encoders publish to.
func (s *Studio) RTMPURL() string { return s.rtmpURL }

// CloudName is the {cloud_name} of the API's paths in this run.
func (s *Studio) CloudName() string { return s.boot.CloudName }

// DataDir is the studio's data folder.
func (s *Studio) DataDir() string { return s.cfg.DataDir }

// Fingerprint is the HTTPS certificate's SHA-256, or "" on plain HTTP.
func (s *Studio) Fingerprint() string {
	if s.tls == nil {
		return ""
	}
	return fingerprint(*s.tls)
}

// Close stops everything in order: no new requests or publishers, sessions
// ended, then the store closed.
func (s *Studio) Close() {
	if s.cancel != nil {
		s.cancel() // ends event streams
	}
	if s.probing != nil {
		s.probing() // the encoders' tries end
	}
	s.probeWG.Wait()
	if s.ingest != nil {
		if err := s.ingest.Close(); err != nil {
			s.log.Warn("closing the RTMP server", "error", err)
		}
	} else if s.rtmpLn != nil {
		s.rtmpLn.Close()
	}
	if s.srt != nil {
		_ = s.srt.Close()
	}
	if s.stopOBS != nil {
		s.stopOBS()
	}
	s.previewMu.Lock()
	if s.preview != nil {
		s.preview.Close()
	}
	s.previewClosed = true
	s.previewMu.Unlock()
	if s.engine != nil {
		s.engine.Close() // releases waiting HLS requests
	}
	if s.posters != nil {
		s.posters.Close() // the recordings the sessions' end made ready
	}
	if s.webhooks != nil {
		s.webhooks.Close() // what is not delivered stays in the outbox
	}
	if s.uploader != nil {
		s.uploader.Close() // an upload under way starts again next time
	}
	if s.cutter != nil {
		s.cutter.Close() // a clip being cut is cut again next time
	}
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.http.Shutdown(ctx)
		cancel()
	} else if s.httpLn != nil {
		s.httpLn.Close()
	}
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			s.log.Error("closing store", "error", err)
		}
	}
}

func (s *Studio) maxHTTPConns() (all, perHost int) {
	return cmp.Or(s.cfg.MaxHTTPConns, defaultMaxHTTPConns), cmp.Or(s.cfg.MaxHTTPPerHost, defaultMaxHTTPPerHost)
}

// Store is the studio's store, for tools and tests that check what it
// holds.
func (s *Studio) Store() *store.Store { return s.store }
