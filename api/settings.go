package api

import (
	"context"
	"net/http"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// Settings are the studio's saved settings as the API reads and changes
// them: the record the window's Settings page edits.
type Settings interface {
	Settings() livestream.Settings
	// SaveSettings checks and stores the settings; it returns a
	// *livestream.ValidationError naming the field that is wrong.
	SaveSettings(livestream.Settings) error
}

// maskedPassword stands for a password that is set: it is never sent back,
// and sending it back keeps the password as it is.
const maskedPassword = "********"

// settingsReply is the settings with the secrets masked.
func settingsReply(set livestream.Settings) livestream.Settings {
	if set.OBS.Password != "" {
		set.OBS.Password = maskedPassword
	}
	if set.Storage.SecretAccessKey != "" {
		set.Storage.SecretAccessKey = maskedPassword
	}
	if set.SRT.Passphrase != "" {
		set.SRT.Passphrase = maskedPassword
	}
	return set
}

func (s *Server) settingsReady(w http.ResponseWriter, r *http.Request) bool {
	if s.Settings == nil {
		s.fail(w, r, http.StatusServiceUnavailable, "this studio does not keep settings")
		return false
	}
	return true
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	if s.settingsReady(w, r) {
		s.reply(w, http.StatusOK, settingsReply(s.Settings.Settings()))
	}
}

// updateSettings changes the fields the body names; the others stay.
func (s *Server) updateSettings(w http.ResponseWriter, r *http.Request) {
	s.patchSettings(w, r, func(set *livestream.Settings) any { return set },
		func(set livestream.Settings) any { return set })
}

func (s *Server) getStorage(w http.ResponseWriter, r *http.Request) {
	if s.settingsReady(w, r) {
		s.reply(w, http.StatusOK, settingsReply(s.Settings.Settings()).Storage)
	}
}

// updateStorage changes the fields of the storage settings the body
// names; the others stay.
func (s *Server) updateStorage(w http.ResponseWriter, r *http.Request) {
	s.patchSettings(w, r, func(set *livestream.Settings) any { return &set.Storage },
		func(set livestream.Settings) any { return set.Storage })
}

// patchSettings decodes the body onto part of the saved settings (so only
// the fields it names change; a masked secret sent back stays as it was),
// saves them and answers with that part, secrets masked.
func (s *Server) patchSettings(w http.ResponseWriter, r *http.Request, part func(*livestream.Settings) any, shown func(livestream.Settings) any) {
	if !s.settingsReady(w, r) {
		return
	}
	set := s.Settings.Settings()
	before := set
	if !s.decode(w, r, part(&set)) {
		return
	}
	if set.OBS.Password == maskedPassword {
		set.OBS.Password = before.OBS.Password
	}
	if set.Storage.SecretAccessKey == maskedPassword {
		set.Storage.SecretAccessKey = before.Storage.SecretAccessKey
	}
	if set.SRT.Passphrase == maskedPassword {
		set.SRT.Passphrase = before.SRT.Passphrase
	}
	if err := s.Settings.SaveSettings(set); err != nil {
		s.failErr(w, r, err)
		return
	}
	s.reply(w, http.StatusOK, shown(settingsReply(s.Settings.Settings())))
}

// testStorage tries the saved storage settings by writing and deleting a
// small object: 200, else 502 saying what the service answered.
func (s *Server) testStorage(w http.ResponseWriter, r *http.Request) {
	if !s.settingsReady(w, r) || !s.noBody(w, r) {
		return
	}
	if s.Remote == nil {
		s.fail(w, r, http.StatusServiceUnavailable, "this studio does not copy recordings to an object store")
		return
	}
	set := s.Settings.Settings().Storage
	if !set.On() {
		s.fail(w, r, http.StatusConflict, "no storage is set: give endpoint, bucket, access_key_id and secret_access_key first")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	if err := s.Remote.Check(ctx, set); err != nil {
		s.fail(w, r, http.StatusBadGateway, err.Error())
		return
	}
	s.reply(w, http.StatusOK, map[string]any{"ok": true, "endpoint": set.Endpoint, "bucket": set.Bucket})
}
