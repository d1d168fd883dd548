package api

import (
	"net/http"

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

// settingsReply is the settings with the OBS password masked.
func settingsReply(set livestream.Settings) livestream.Settings {
	if set.OBS.Password != "" {
		set.OBS.Password = maskedPassword
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
	if !s.settingsReady(w, r) {
		return
	}
	set := s.Settings.Settings()
	password := set.OBS.Password
	if !s.decode(w, r, &set) {
		return
	}
	if set.OBS.Password == maskedPassword {
		set.OBS.Password = password
	}
	if err := s.Settings.SaveSettings(set); err != nil {
		s.failErr(w, r, err)
		return
	}
	s.reply(w, http.StatusOK, settingsReply(s.Settings.Settings()))
}
