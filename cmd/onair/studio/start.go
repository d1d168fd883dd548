package studio

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/onair-studio/onair/api"
	"github.com/onair-studio/onair/api/metrics"
	"github.com/onair-studio/onair/api/playback"
	"github.com/onair-studio/onair/assets"
	"github.com/onair-studio/onair/engine"
	"github.com/onair-studio/onair/engine/clip"
	"github.com/onair-studio/onair/engine/ingest"
	"github.com/onair-studio/onair/engine/library"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/netlimit"
	"github.com/onair-studio/onair/engine/output"
	"github.com/onair-studio/onair/engine/output/archive"
	"github.com/onair-studio/onair/engine/output/hls"
	"github.com/onair-studio/onair/engine/output/simulcast"
	"github.com/onair-studio/onair/engine/preview"
	"github.com/onair-studio/onair/engine/upload"
	"github.com/onair-studio/onair/engine/webhook"
)

// The steps of Start, in order; each sets what the next ones use.

func (s *Studio) openStore() (err error) {
	if s.store, err = openStore(s.cfg.DataDir); err != nil {
		return err
	}
	if s.apiKey, s.secret, err = credentials(s.store); err != nil {
		return err
	}
	s.envCred = os.Getenv("ONAIR_API_KEY") != "" && os.Getenv("ONAIR_API_SECRET") != ""
	return nil
}

// loadSettings merges the command line over the saved settings over the
// defaults into the settings of this run.
func (s *Studio) loadSettings() error {
	saved, err := s.store.LoadSettings()
	if err != nil {
		return err
	}
	set, cfg := saved, &s.cfg
	if cfg.HTTPSet || set.HTTPAddr == "" {
		set.HTTPAddr = cfg.HTTPAddr
	}
	if cfg.RTMPSet || set.RTMPAddr == "" {
		set.RTMPAddr = cfg.RTMPAddr
	}
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		set.TLSCert, set.TLSKey = cfg.TLSCert, cfg.TLSKey
	}
	if cfg.PublicURL != "" {
		set.PublicURL = cfg.PublicURL
	}
	if cfg.SRTAddr != "" {
		set.SRT.Addr = cfg.SRTAddr
	}
	if set.LibraryDir == "" {
		set.LibraryDir = filepath.Join(cfg.DataDir, "library")
	}
	s.boot = set.WithDefaults()
	if err := s.boot.Validate(); err != nil {
		return fmt.Errorf("the settings of this start: %w (fix the flag, or the setting in the window)", err)
	}
	s.keep(saved)
	return nil
}

// listen opens both ports before anything else, so a taken port is the
// first and clearest error, and decides HTTP or HTTPS.
func (s *Studio) listen() (err error) {
	if s.httpLn, err = listen(s.boot.HTTPAddr, "--http"); err != nil {
		return err
	}
	if s.rtmpLn, err = listen(s.boot.RTMPAddr, "--rtmp"); err != nil {
		return err
	}
	s.httpURL = "http://" + urlHost(s.httpLn.Addr())
	s.rtmpURL = "rtmp://" + urlHost(s.rtmpLn.Addr()) + "/" + ingest.AppName
	switch {
	case loopbackOnly(s.boot.HTTPAddr):
	case s.cfg.InsecureHTTP:
		s.log.Warn("serving the API beyond this computer over plain HTTP (--insecure-http): the API secret and everything else travel in the clear", "http", s.boot.HTTPAddr)
	default:
		c, err := loadCertificate(s.cfg.DataDir, s.boot.TLSCert, s.boot.TLSKey)
		if err != nil {
			return s.localOnly(err)
		}
		s.tls = &c
		s.httpURL = "https://" + urlHost(s.httpLn.Addr())
		s.log.Info("serving HTTPS beyond this computer", "http", s.boot.HTTPAddr, "certificate_sha256", fingerprint(c))
	}
	return nil
}

// localOnly serves this computer only when HTTPS cannot be set up (its
// certificate could not be made or loaded): remote access is an optional
// part, the studio is not. Parts and the log say why.
func (s *Studio) localOnly(why error) error {
	_, port, err := net.SplitHostPort(s.httpLn.Addr().String())
	if err != nil {
		return err
	}
	s.httpLn.Close()
	if s.httpLn, err = listen(net.JoinHostPort("127.0.0.1", port), "--http"); err != nil {
		return err
	}
	s.httpURL = "http://" + urlHost(s.httpLn.Addr())
	s.tlsErr = fmt.Errorf("%w: the studio serves this computer only (%s) until HTTPS works: fix the certificate (Settings: TLS certificate and key), or remove the folder tls in the data folder to have one made again", why, s.httpURL)
	s.log.Warn("remote access is off for this run; the studio serves this computer", "error", s.tlsErr)
	return nil
}

func (s *Studio) startLibrary() error {
	s.library = &library.Library{Folder: s.boot.LibraryDir, Repo: s.store, Logger: s.log.With("component", "library")}
	return s.library.Start()
}

// startWebhooks: every event goes to the outbox before the call that made
// it returns; the bodies are the API's event view.
func (s *Studio) startWebhooks() error {
	s.webhooks = &webhook.Dispatcher{
		Store:      s.store,
		Encode:     func(ev livestream.Event) ([]byte, error) { return s.api.EncodeEvent(ev, s.httpURL) },
		UserAgent:  "OnAirStudio-Webhooks/" + s.cfg.Version,
		MinBackoff: s.cfg.WebhookMinBackoff,
		Logger:     s.log.With("component", "webhooks"),
	}
	return s.webhooks.Start()
}

func (s *Studio) startEngine() error {
	variant, err := hls.ParseVariant(s.boot.HLSVariant)
	if err != nil {
		return err
	}
	// Finished HLS segments go to files; whatever a previous run left is stale.
	hlsDir := filepath.Join(s.cfg.DataDir, "cache", "hls")
	if err := os.RemoveAll(hlsDir); err != nil {
		return fmt.Errorf("clearing the HLS cache %s: %w", hlsDir, err)
	}
	ff := s.findFFmpeg()
	s.engine = &engine.Service{
		Repo:    s.store,
		RTMPURL: s.rtmpURL,
		SRTURI:  s.SRTURI,
		HTTPURL: s.httpURL,
		Outputs: output.Factories{
			livestream.OutputHLS:       &hls.Factory{Variant: variant, Dir: hlsDir, BaseURL: s.httpURL, PublicURL: s.publicBase, FFmpeg: ff, Encoder: s.encoder},
			livestream.OutputArchive:   &archive.Factory{Library: s.library},
			livestream.OutputSimulcast: &simulcast.Factory{MinBackoff: s.cfg.SimulcastMinBackoff, MaxBackoff: s.cfg.SimulcastMaxBackoff},
		},
		Outbox:  s.webhooks,
		Logger:  s.log,
		Sampled: s.completeSample,
		FFmpeg:  ff,
	}
	if err := s.engine.Start(); err != nil {
		return err
	}
	return nil
}

// startUploader copies finished recordings to the object store when the
// settings name one; the library's events go to the engine (subscribers,
// webhooks) and to the uploader.
func (s *Studio) startUploader() error {
	s.uploader = &upload.Uploader{Library: s.library, Settings: func() livestream.StorageSettings { return s.Settings().Storage },
		MinBackoff: s.cfg.UploadMinBackoff, Logger: s.log.With("component", "upload")}
	s.library.OnEvent = func(ev livestream.Event) {
		s.engine.Emit(ev)
		s.uploader.OnEvent(ev)
		s.posters.OnEvent(ev)
	}
	if err := s.uploader.Start(); err != nil {
		return err
	}
	s.library.AnnounceRepaired() // now that events reach subscribers, webhooks and the uploader
	s.cutter = &clip.Cutter{Library: s.library, Logger: s.log.With("component", "clips")}
	s.cutter.Start(context.Background()) // clips a stop interrupted are cut again
	return nil
}

func (s *Studio) startIngest() error {
	s.ingest = &ingest.Server{
		Listener:        s.rtmpLn,
		Authorizer:      s.engine,
		PublishTimeout:  s.cfg.PublishTimeout,
		MaxConns:        s.cfg.MaxRTMPConns,
		MaxConnsPerHost: s.cfg.MaxRTMPPerHost,
		Logger:          s.log.With("component", "rtmp"),
		OnRefused:       s.engine.PublisherRefused,
	}
	return s.ingest.Start()
}

// startSRT listens for SRT publishers when the settings ask for it. SRT is
// optional: a port that cannot be had leaves the studio running with RTMP,
// and says so.
func (s *Studio) startSRT() error {
	set := s.boot.SRT
	if !set.On() {
		return nil
	}
	srv := &ingest.SRTServer{Address: set.Addr, Passphrase: set.Passphrase, Latency: time.Duration(set.LatencyMS) * time.Millisecond,
		Authorizer: s.engine, PublishTimeout: s.cfg.PublishTimeout, MaxConns: s.cfg.MaxRTMPConns,
		OnRefused: s.engine.PublisherRefused, Logger: s.log.With("component", "srt")}
	if err := srv.Start(); err != nil {
		s.srtErr = err
		s.log.Warn("SRT is off for this run; encoders can still publish over RTMP", "error", err,
			"fix", "free the port or choose another SRT address in Settings (or --srt)")
		return nil
	}
	s.srt = srv
	s.srtURL = "srt://" + urlHost(srv.Addr())
	s.engine.Republish() // every stream's srt_uri
	return nil
}

// SRTURI is the whole SRT URL an encoder publishes a stream key to: the
// stream id, the packet size MPEG-TS over SRT needs, the latency and the
// passphrase as ffmpeg and OBS read them (latency in microseconds); ""
// when SRT is off.
func (s *Studio) SRTURI(key string) string {
	if s.srtURL == "" {
		return ""
	}
	set := s.boot.SRT
	latency := cmp.Or(set.LatencyMS, 120)
	u := fmt.Sprintf("%s?streamid=publish:%s&pkt_size=1316&latency=%d", s.srtURL, key, latency*1000)
	if set.Passphrase != "" {
		u += "&passphrase=" + url.QueryEscape(set.Passphrase)
	}
	return u
}

// SRTError says why SRT is not running although the settings ask for it
// (nil: running, or off by choice).
func (s *Studio) SRTError() error { return s.srtErr }

// startPreview: WebRTC media leaves from the HTTP server's address, on the
// same port number over UDP: one address to allow through a firewall. The
// preview is optional: when it cannot start the studio goes on without it
// and says why (Parts, the window), and RetryPreview may start it later.
func (s *Studio) startPreview() error {
	if err := s.RetryPreview(); err != nil {
		s.log.Warn("the live preview is off for now; everything else runs", "error", err)
	}
	return nil
}

// RetryPreview starts the preview if it is not running (its UDP port was
// refused: a firewall that allows it now, a program that let it go) — no
// restart needed. It returns why the preview is still off (nil: it runs).
func (s *Studio) RetryPreview() error {
	// One retry at a time; previewMu is held only to read and publish, never
	// across the UDP bind, so WHEP requests and stats do not wait for it.
	s.previewRetry.Lock()
	defer s.previewRetry.Unlock()
	s.previewMu.Lock()
	closed, running, wasOff := s.previewClosed, s.preview != nil, s.previewErr != nil
	s.previewMu.Unlock()
	switch {
	case closed:
		return errors.New("the studio is closing")
	case running:
		return nil
	}
	p := &preview.Server{Streams: s.engine, UDPAddr: s.httpLn.Addr().String(), ListenPacket: s.cfg.ListenUDP,
		FFmpeg: s.ffmpegPath, Logger: s.log.With("component", "preview")}
	if err := p.Start(); err != nil {
		err = fmt.Errorf("%w: allow UDP for OnAir Studio in the firewall (or watch the HLS playlist instead), then press Try again on a stream's preview", err)
		s.previewMu.Lock()
		s.previewErr = err
		s.previewMu.Unlock()
		return err
	}
	s.previewMu.Lock()
	defer s.previewMu.Unlock()
	if s.previewClosed { // the studio closed while the port was being bound
		p.Close()
		return errors.New("the studio is closing")
	}
	if wasOff {
		s.log.Info("the live preview runs now", "udp", s.httpLn.Addr().String())
	}
	s.preview, s.previewErr = p, nil
	return nil
}

func (s *Studio) startAPI() error {
	hosts := allowedHosts(s.boot.AllowedHosts, s.boot.HTTPAddr)
	s.api = &api.Server{
		Engine:      s.engine,
		Credentials: s.Credentials,
		Assets:      s.library,
		OBS:         s.OBS(),
		Preview:     s.previewForAPI,
		Parts:       s.Parts,
		Webhooks:    s.webhooks,
		Settings:    s,
		Remote:      s.uploader,
		Stills:      s,
		Clips:       s,
		Metrics: metrics.Handler(metrics.Sources{
			Streams:        s.engine,
			PreviewViewers: s.previewViewers,
			Webhooks: func() (delivered, failed, abandoned, enqueued uint64) {
				c := s.webhooks.Counts()
				return c.Delivered, c.Failed, c.Abandoned, c.Enqueued
			},
			PictureDecodes: s.ThumbnailDecodes,
		}),
		CloudName:       s.boot.CloudName,
		AllowedHosts:    hosts,
		BodyTimeout:     s.cfg.BodyTimeout,
		ResponseTimeout: s.cfg.ResponseTimeout,
		Logger:          s.log.With("component", "api"),
	}
	return nil
}

// serveHTTP serves what viewers fetch (HLS, pages), then the API, which
// answers every other path; HLS never passes through the API's middleware.
func (s *Studio) serveHTTP() error {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	all, perHost := s.maxHTTPConns()
	s.httpLimit = &netlimit.Limiter{Max: all, MaxPerHost: perHost, Name: "HTTP", Logger: s.log.With("component", "http")}
	root := http.NewServeMux()
	(&playback.Server{Files: assets.Web(), ValidID: livestream.IsID, HLSTimeout: s.cfg.HLSTimeout,
		HLS:    func(id string) http.Handler { return s.engine.OutputHandler(id, livestream.OutputHLS) },
		Logger: s.log.With("component", "playback")}).Register(root)
	root.Handle("/", s.api.Handler())
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
		ErrorLog: slog.NewLogLogger(s.log.With("component", "http").Handler(), slog.LevelWarn),
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
			s.log.Error("HTTP server stopped", "error", err)
		}
	}()
	return nil
}
