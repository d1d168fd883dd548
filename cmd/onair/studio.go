package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/onair-studio/onair/api"
	"github.com/onair-studio/onair/api/metrics"
	"github.com/onair-studio/onair/api/playback"
	"github.com/onair-studio/onair/assets"
	"github.com/onair-studio/onair/engine"
	"github.com/onair-studio/onair/engine/ingest"
	"github.com/onair-studio/onair/engine/library"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/netlimit"
	"github.com/onair-studio/onair/engine/output"
	"github.com/onair-studio/onair/engine/output/archive"
	"github.com/onair-studio/onair/engine/output/hls"
	"github.com/onair-studio/onair/engine/output/simulcast"
	"github.com/onair-studio/onair/engine/preview"
	"github.com/onair-studio/onair/engine/webhook"
	"github.com/onair-studio/onair/store"
)

// config is what the command line sets.
type config struct {
	DataDir  string
	HTTPAddr string
	RTMPAddr string
	// HTTPSet and RTMPSet tell that the address was given on the command
	// line; otherwise the saved setting, if any, is used.
	HTTPSet bool
	RTMPSet bool
	// TLSCert and TLSKey are the HTTPS certificate beyond loopback (empty:
	// a self-signed one in the data folder); InsecureHTTP serves plain
	// HTTP beyond loopback instead.
	TLSCert, TLSKey string
	InsecureHTTP    bool

	// Limits; zero means the package's default. Tests shorten them.
	BodyTimeout     time.Duration
	HLSTimeout      time.Duration
	PublishTimeout  time.Duration
	MaxHTTPConns    int
	MaxHTTPPerHost  int
	MaxRTMPConns    int
	MaxRTMPPerHost  int
	ResponseTimeout time.Duration
}

// HTTP connection caps: one address (a remote client, or every local
// player and script on loopback) may hold this many connections open.
const (
	defaultMaxHTTPConns   = 4096
	defaultMaxHTTPPerHost = 1024
)

// studio is the running engine with its servers, shared by the window and
// the headless mode.
type studio struct {
	cfg       config
	log       *slog.Logger
	store     *store.Store
	engine    *engine.Service
	library   *library.Library
	preview   *preview.Server
	webhooks  *webhook.Dispatcher
	ingest    *ingest.Server
	http      *http.Server
	httpLn    net.Listener
	httpLimit *netlimit.Limiter
	cancel    context.CancelFunc
	credMu    sync.RWMutex
	apiKey    string
	secret    string
	envCred   bool // the credentials come from the environment
	cloud     string
	httpURL   string
	rtmpURL   string
	// tls is the HTTPS certificate, when the API listens beyond loopback.
	tls *tls.Certificate
}

// Setting names in the store.
const (
	settingAPIKey     = "api_key"
	settingAPISecret  = "api_secret"
	settingCloudName  = "cloud_name"
	settingHLSVariant = "hls_variant"
	settingHTTPAddr   = "http_addr"
	settingRTMPAddr   = "rtmp_addr"
	// settingLibraryDir: the folder of recordings (default DATA/library).
	settingLibraryDir = "library_dir"
	// settingTLSCert and settingTLSKey: the HTTPS certificate beyond
	// loopback, when --tls-cert and --tls-key are not given.
	settingTLSCert = "tls_cert"
	settingTLSKey  = "tls_key"
	// settingAllowedHosts: comma-separated host names, besides loopback
	// names and IP addresses, by which the API may be reached.
	settingAllowedHosts = "allowed_hosts"
)

// openStore opens the store in the data folder.
func openStore(dataDir string) (*store.Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data folder %s: %w", dataDir, err)
	}
	return store.Open(filepath.Join(dataDir, "onair.db"))
}

// credentials returns the API key and secret: from ONAIR_API_KEY and
// ONAIR_API_SECRET when set, else from the store, made at first start.
func credentials(st *store.Store) (key, secret string, err error) {
	if k, s := os.Getenv("ONAIR_API_KEY"), os.Getenv("ONAIR_API_SECRET"); k != "" && s != "" {
		return k, s, nil
	}
	k, ok1, err := st.Setting(settingAPIKey)
	if err != nil {
		return "", "", fmt.Errorf("reading API key: %w", err)
	}
	s, ok2, err := st.Setting(settingAPISecret)
	if err != nil {
		return "", "", fmt.Errorf("reading API secret: %w", err)
	}
	if ok1 && ok2 {
		return k, s, nil
	}
	k, s = livestream.NewID()[:15], livestream.NewSecret(24)
	if err := st.SetSettings(map[string]string{settingAPIKey: k, settingAPISecret: s}); err != nil {
		return "", "", fmt.Errorf("storing new API credentials: %w", err)
	}
	return k, s, nil
}

func setting(st *store.Store, key, def string) (string, error) {
	v, ok, err := st.Setting(key)
	if err != nil {
		return "", fmt.Errorf("reading setting %s: %w", key, err)
	}
	if !ok || v == "" {
		return def, nil
	}
	return v, nil
}

// allowedHosts are the names the API answers to besides loopback names and
// IP addresses: the listen address's host when it is a name, and the
// allowed_hosts setting.
func allowedHosts(st *store.Store, listenAddr string) ([]string, error) {
	var hosts []string
	if h, _, err := net.SplitHostPort(listenAddr); err == nil && h != "" && net.ParseIP(h) == nil {
		hosts = append(hosts, h)
	}
	v, err := setting(st, settingAllowedHosts, "")
	if err != nil {
		return nil, err
	}
	for h := range strings.SplitSeq(v, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts, nil
}

// listen opens addr, naming the flag when the port is taken.
func listen(addr, flag string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if isAddrInUse(err) {
			what := map[string]string{"--http": "HTTP (API, HLS and pages)", "--rtmp": "RTMP (encoders)"}[flag]
			return nil, &portTakenError{addr: addr, flag: flag, what: what, err: err}
		}
		return nil, fmt.Errorf("listening on %s (%s): %w", addr, flag, err)
	}
	return ln, nil
}

// portTakenError: another program listens on the port.
type portTakenError struct {
	addr, flag, what string
	err              error
}

func (e *portTakenError) Error() string {
	return fmt.Sprintf("port of %s is already taken by another program: choose another with %s ADDR (%v)", e.addr, e.flag, e.err)
}

func (e *portTakenError) Unwrap() error { return e.err }

func asPortTaken(err error, target **portTakenError) bool { return errors.As(err, target) }

// freeLoopbackPort returns a free port on the host of addr.
func freeLoopbackPort(addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// saveAddr stores the listen address of flag in the store of dataDir.
func saveAddr(dataDir, flag, addr string) error {
	st, err := openStore(dataDir)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }() // the write is committed before
	key := settingHTTPAddr
	if flag == "--rtmp" {
		key = settingRTMPAddr
	}
	if err := st.SetSettings(map[string]string{key: addr}); err != nil {
		return fmt.Errorf("saving the new port: %w", err)
	}
	return nil
}

// urlHost is the host:port clients should use for a listen address.
func urlHost(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(ta.Port))
}

// startStudio opens the store and starts the engine, RTMP and HTTP servers.
func startStudio(cfg config, log *slog.Logger) (_ *studio, err error) {
	s := &studio{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.store, err = openStore(cfg.DataDir); err != nil {
		return nil, err
	}
	if s.apiKey, s.secret, err = credentials(s.store); err != nil {
		return nil, err
	}
	s.envCred = os.Getenv("ONAIR_API_KEY") != "" && os.Getenv("ONAIR_API_SECRET") != ""
	if !cfg.HTTPSet {
		if cfg.HTTPAddr, err = setting(s.store, settingHTTPAddr, cfg.HTTPAddr); err != nil {
			return nil, err
		}
	}
	if !cfg.RTMPSet {
		if cfg.RTMPAddr, err = setting(s.store, settingRTMPAddr, cfg.RTMPAddr); err != nil {
			return nil, err
		}
	}
	s.cfg = cfg
	if s.cloud, err = setting(s.store, settingCloudName, "local"); err != nil {
		return nil, err
	}
	variantName, err := setting(s.store, settingHLSVariant, hls.VariantLowLatency)
	if err != nil {
		return nil, err
	}
	variant, err := hls.ParseVariant(variantName)
	if err != nil {
		return nil, err
	}

	// Listen on both ports before anything else, so a taken port is the
	// first and clearest error.
	if s.httpLn, err = listen(cfg.HTTPAddr, "--http"); err != nil {
		return nil, err
	}
	rtmpLn, err := listen(cfg.RTMPAddr, "--rtmp")
	if err != nil {
		return nil, err
	}
	rtmpAddr := rtmpLn.Addr()

	s.httpURL = "http://" + urlHost(s.httpLn.Addr())
	switch {
	case loopbackOnly(cfg.HTTPAddr):
	case cfg.InsecureHTTP:
		log.Warn("serving the API beyond this computer over plain HTTP (--insecure-http): the API secret and everything else travel in the clear", "http", cfg.HTTPAddr)
	default:
		if cfg.TLSCert == "" && cfg.TLSKey == "" {
			cfg.TLSCert, _ = setting(s.store, settingTLSCert, "")
			cfg.TLSKey, _ = setting(s.store, settingTLSKey, "")
		}
		c, err := loadCertificate(cfg.DataDir, cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, err
		}
		s.tls = &c
		s.httpURL = "https://" + urlHost(s.httpLn.Addr())
		log.Info("serving HTTPS beyond this computer", "http", cfg.HTTPAddr, "certificate_sha256", fingerprint(c))
	}
	s.rtmpURL = "rtmp://" + urlHost(rtmpAddr) + "/" + ingest.AppName
	// Finished HLS segments go to files; whatever a previous run left is stale.
	hlsDir := filepath.Join(cfg.DataDir, "cache", "hls")
	if err = os.RemoveAll(hlsDir); err != nil {
		return nil, fmt.Errorf("clearing the HLS cache %s: %w", hlsDir, err)
	}
	libDir, err := setting(s.store, settingLibraryDir, filepath.Join(cfg.DataDir, "library"))
	if err != nil {
		return nil, err
	}
	s.library = &library.Library{Folder: libDir, Repo: s.store, Logger: log.With("component", "library")}
	if err = s.library.Start(); err != nil {
		return nil, err
	}
	// Webhooks: every event goes to the outbox before the call that made it
	// returns; their bodies are the API's event view.
	var a *api.Server
	s.webhooks = &webhook.Dispatcher{
		Store:     s.store,
		Encode:    func(ev livestream.Event) ([]byte, error) { return a.EncodeEvent(ev, s.httpURL) },
		UserAgent: "OnAirStudio-Webhooks/" + version,
		Logger:    log.With("component", "webhooks"),
	}
	if err = s.webhooks.Start(); err != nil {
		return nil, err
	}
	s.engine = &engine.Service{
		Repo:    s.store,
		RTMPURL: s.rtmpURL,
		HTTPURL: s.httpURL,
		Outputs: output.Factories{
			livestream.OutputHLS:       &hls.Factory{Variant: variant, Dir: hlsDir, BaseURL: s.httpURL},
			livestream.OutputArchive:   &archive.Factory{Library: s.library},
			livestream.OutputSimulcast: &simulcast.Factory{},
		},
		Outbox: s.webhooks,
		Logger: log,
	}
	s.library.OnEvent = s.engine.Emit
	if err = s.engine.Start(); err != nil {
		return nil, err
	}
	s.library.AnnounceRepaired() // now that events reach subscribers and webhooks
	s.ingest = &ingest.Server{
		Listener:        rtmpLn,
		Authorizer:      s.engine,
		PublishTimeout:  cfg.PublishTimeout,
		MaxConns:        cfg.MaxRTMPConns,
		MaxConnsPerHost: cfg.MaxRTMPPerHost,
		Logger:          log.With("component", "rtmp"),
		OnRefused:       s.engine.PublisherRefused,
	}
	if err = s.ingest.Start(); err != nil {
		rtmpLn.Close()
		return nil, err
	}

	// WebRTC media leaves from the HTTP server's address, on the same port
	// number over UDP: one address to allow through a firewall.
	s.preview = &preview.Server{Streams: s.engine, UDPAddr: s.httpLn.Addr().String(), Logger: log.With("component", "preview")}
	if err = s.preview.Start(); err != nil {
		return nil, err
	}

	hosts, err := allowedHosts(s.store, cfg.HTTPAddr)
	if err != nil {
		return nil, err
	}
	a = &api.Server{
		Engine:      s.engine,
		Credentials: s.Credentials,
		Assets:      s.library,
		OBS:         obsControl{s},
		Preview:     s.preview,
		Webhooks:    s.webhooks,
		Metrics: metrics.Handler(metrics.Sources{
			Streams:        s.engine,
			PreviewViewers: func(id string) int { n, _, _ := s.preview.StreamStats(id); return n },
			Webhooks: func() (delivered, failed, abandoned, enqueued uint64) {
				c := s.webhooks.Counts()
				return c.Delivered, c.Failed, c.Abandoned, c.Enqueued
			},
		}),
		CloudName:       s.cloud,
		AllowedHosts:    hosts,
		BodyTimeout:     cfg.BodyTimeout,
		ResponseTimeout: cfg.ResponseTimeout,
		Logger:          log.With("component", "api"),
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.httpLimit = &netlimit.Limiter{
		Max:        cmp.Or(cfg.MaxHTTPConns, defaultMaxHTTPConns),
		MaxPerHost: cmp.Or(cfg.MaxHTTPPerHost, defaultMaxHTTPPerHost),
		Name:       "HTTP",
		Logger:     log.With("component", "http"),
	}
	// What viewers fetch (HLS, pages), then the API, which answers every
	// other path; HLS never passes through the API's middleware.
	root := http.NewServeMux()
	(&playback.Server{Files: assets.Web(), ValidID: livestream.IsID, HLSTimeout: cfg.HLSTimeout,
		HLS:    func(id string) http.Handler { return s.engine.OutputHandler(id, livestream.OutputHLS) },
		Logger: log.With("component", "playback")}).Register(root)
	root.Handle("/", a.Handler())
	s.http = &http.Server{
		Handler:           root,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnState: func(c net.Conn, st http.ConnState) {
			if st == http.StateClosed || st == http.StateHijacked {
				s.httpLimit.Release(c)
			}
		},
		ErrorLog: slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn),
	}
	limited := s.httpLimit.Listen(s.httpLn)
	if s.tls != nil {
		// A plain HTTP request on this port gets Go's 400 "client sent an
		// HTTP request to an HTTPS server".
		s.http.TLSConfig = serverTLS(*s.tls)
		limited = tls.NewListener(limited, s.http.TLSConfig)
	}
	go func() {
		if err := s.http.Serve(limited); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server stopped", "error", err)
		}
	}()
	log.Info("OnAir Studio ready",
		"rtmp_server", s.rtmpURL,
		"api", s.httpURL+"/v2/video/"+s.cloud+"/live_streams",
		"data", cfg.DataDir)
	return s, nil
}

// Credentials returns the API key and secret in use.
func (s *studio) Credentials() (key, secret string) {
	s.credMu.RLock()
	defer s.credMu.RUnlock()
	return s.apiKey, s.secret
}

// RotateSecret stores a new API secret and uses it at once.
func (s *studio) RotateSecret() (string, error) {
	if s.envCred {
		return "", errors.New("the API credentials come from ONAIR_API_KEY and ONAIR_API_SECRET; change them there")
	}
	secret := livestream.NewSecret(24)
	s.credMu.Lock()
	defer s.credMu.Unlock()
	if err := s.store.SetSettings(map[string]string{settingAPISecret: secret}); err != nil {
		return "", fmt.Errorf("storing the new API secret: %w", err)
	}
	s.secret = secret
	s.log.Info("API secret rotated")
	return secret, nil
}

// savedSettings are the addresses and cloud name the next start uses.
type savedSettings struct {
	HTTPAddr, RTMPAddr, CloudName, AllowedHosts, LibraryDir, TLSCert, TLSKey string
}

// saved reads the settings the next start uses.
func (s *studio) saved() savedSettings {
	httpAddr, _ := setting(s.store, settingHTTPAddr, s.cfg.HTTPAddr)
	rtmpAddr, _ := setting(s.store, settingRTMPAddr, s.cfg.RTMPAddr)
	cloud, _ := setting(s.store, settingCloudName, s.cloud)
	hosts, _ := setting(s.store, settingAllowedHosts, "")
	lib, _ := setting(s.store, settingLibraryDir, s.library.Dir())
	cert, _ := setting(s.store, settingTLSCert, "")
	key, _ := setting(s.store, settingTLSKey, "")
	return savedSettings{HTTPAddr: httpAddr, RTMPAddr: rtmpAddr, CloudName: cloud, AllowedHosts: hosts, LibraryDir: lib, TLSCert: cert, TLSKey: key}
}

// save stores the settings for the next start, in one transaction.
func (s *studio) save(set savedSettings) error {
	if err := s.store.SetSettings(map[string]string{settingHTTPAddr: set.HTTPAddr, settingRTMPAddr: set.RTMPAddr,
		settingCloudName: set.CloudName, settingAllowedHosts: set.AllowedHosts, settingLibraryDir: set.LibraryDir,
		settingTLSCert: set.TLSCert, settingTLSKey: set.TLSKey}); err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	return nil
}

// Close stops everything in order: no new requests or publishers, sessions
// ended, then the store closed.
func (s *studio) Close() {
	if s.cancel != nil {
		s.cancel() // ends event streams
	}
	if s.ingest != nil {
		if err := s.ingest.Close(); err != nil {
			s.log.Warn("closing the RTMP server", "error", err)
		}
	}
	if s.preview != nil {
		s.preview.Close()
	}
	if s.engine != nil {
		s.engine.Close() // releases waiting HLS requests
	}
	if s.webhooks != nil {
		s.webhooks.Close() // what is not delivered stays in the outbox
	}
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.http.Shutdown(ctx)
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

// fingerprint is the HTTPS certificate's SHA-256, or "" on plain HTTP.
func (s *studio) fingerprint() string {
	if s.tls == nil {
		return ""
	}
	return fingerprint(*s.tls)
}
