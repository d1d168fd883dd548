package studio

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/onair-studio/onair/engine/library"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/store"
)

// Setting names of the API credentials in the store (the other settings
// are one record, store.LoadSettings).
const (
	settingAPIKey    = "api_key"
	settingAPISecret = "api_secret"
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

// Credentials returns the API key and secret in use.
func (s *Studio) Credentials() (key, secret string) {
	s.credMu.RLock()
	defer s.credMu.RUnlock()
	return s.apiKey, s.secret
}

// RotateSecret stores a new API secret and uses it at once.
func (s *Studio) RotateSecret() (string, error) {
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

// Settings returns the saved settings, with what this run uses where
// nothing is saved.
func (s *Studio) Settings() livestream.Settings { return *s.saved.Load() }

// keep makes saved what Settings returns: the record with this run's
// addresses, cloud name and library folder where it has none.
func (s *Studio) keep(saved livestream.Settings) {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&saved.HTTPAddr, s.boot.HTTPAddr)
	def(&saved.RTMPAddr, s.boot.RTMPAddr)
	def(&saved.SRT.Addr, s.boot.SRT.Addr)
	def(&saved.CloudName, s.boot.CloudName)
	def(&saved.LibraryDir, s.boot.LibraryDir)
	saved = saved.WithDefaults()
	s.saved.Store(&saved)
}

// SaveSettings checks and stores the settings. The public playback address
// (unless --public-url overrides it for this run) and the storage apply at
// once; the others at the next start.
func (s *Studio) SaveSettings(set livestream.Settings) error {
	set = set.WithDefaults()
	if err := set.Validate(); err != nil {
		return err
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	before := s.Settings()
	if err := s.store.SaveSettings(set); err != nil {
		return err
	}
	s.keep(set)
	if set.Storage != before.Storage && s.uploader != nil {
		s.uploader.Rescan() // recordings without a copy go to the new bucket
		s.log.Info("object store for recordings changed", "endpoint", set.Storage.Endpoint, "bucket", set.Storage.Bucket, "delete_local_after_upload", set.Storage.DeleteLocal)
	}
	if s.cfg.PublicURL == "" && set.PublicBase("") != before.PublicBase("") {
		s.engine.Republish() // the HLS output's uri changed
		s.log.Info("public playback address changed", "public_url", set.PublicURL)
	}
	return nil
}

// publicBase is the public playback address in use, without a trailing
// slash ("": the studio's own address): --public-url, else the saved one.
func (s *Studio) publicBase() string {
	if s.cfg.PublicURL != "" {
		return livestream.Settings{PublicURL: s.cfg.PublicURL}.PublicBase("")
	}
	return s.Settings().PublicBase("")
}

// CheckS3 tries the saved object store settings (the bucket exists and
// takes the keys).
func (s *Studio) CheckS3(ctx context.Context) error {
	set := s.Settings().Storage
	if !set.On() {
		return errors.New("no object store is set: give its address, bucket and keys first")
	}
	return s.uploader.Check(ctx, set)
}

// RecordingURL is where a recording plays: its file on this computer, or
// a presigned address in the object store when the file is only there.
func (s *Studio) RecordingURL(ctx context.Context, publicID string) (*url.URL, error) {
	a, err := s.library.Get(publicID)
	if err != nil {
		return nil, err
	}
	if !a.LocalGone {
		p, err := s.library.Path(publicID)
		if err != nil {
			return nil, err
		}
		return livestream.FileURL(p), nil
	}
	u, err := s.uploader.URL(ctx, a)
	if err != nil {
		return nil, err
	}
	return url.Parse(u)
}

// Recordings is the library as the window uses it: the library, and
// where each recording plays.
type Recordings struct {
	*library.Library
	s *Studio
}

// Recordings is the studio's library for the window.
func (s *Studio) Recordings() Recordings { return Recordings{s.library, s} }

// URL is RecordingURL within 15 s.
func (r Recordings) URL(publicID string) (*url.URL, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return r.s.RecordingURL(ctx, publicID)
}

// UploadProgress tells how far the copy of a recording to the bucket is;
// ok is false when it is not being copied now.
func (r Recordings) UploadProgress(publicID string) (sent, total int64, ok bool) {
	return r.s.uploader.Progress(publicID)
}
