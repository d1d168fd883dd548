package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/onair-studio/onair/api"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/store"
)

// storeSettings keeps the settings in the fixture's real store, checked
// as the studio checks them.
type storeSettings struct{ st *store.Store }

func (s *storeSettings) Settings() livestream.Settings {
	set, _ := s.st.LoadSettings()
	return set.WithDefaults()
}

func (s *storeSettings) SaveSettings(set livestream.Settings) error {
	if err := set.Validate(); err != nil {
		return err
	}
	return s.st.SaveSettings(set)
}

// PATCH changes only the fields given, keeps a masked password, refuses a
// wrong field by name and an unknown one, and never shows the password.
func TestSettingsOverHTTP(t *testing.T) {
	ss := &storeSettings{}
	f := newFixtureWith(t, func(a *api.Server) { a.Settings = ss })
	ss.st = f.st // before any request
	read := func(a answer) livestream.Settings {
		t.Helper()
		var set livestream.Settings
		if err := json.Unmarshal(a.Data, &set); err != nil {
			t.Fatal(err)
		}
		return set
	}
	a := f.do("PATCH", "/settings", "application/json", `{"public_url":"https://cdn.example.com","obs":{"password":"pw","port":4460}}`, true)
	if a.code != http.StatusOK {
		t.Fatalf("PATCH: %d %+v", a.code, a.Error)
	}
	got := read(a)
	if got.PublicURL != "https://cdn.example.com" || got.OBS.Port != 4460 || got.OBS.Host != livestream.DefaultOBSHost ||
		got.OBS.Password != "********" || got.CloudName != livestream.DefaultCloudName {
		t.Fatalf("after PATCH: %+v", got)
	}
	// Sending back what GET showed keeps the password.
	a = f.do("GET", "/settings", "", "", true)
	body, _ := json.Marshal(read(a))
	if a = f.do("PATCH", "/settings", "application/json", string(body), true); a.code != http.StatusOK {
		t.Fatalf("PATCH of what GET showed: %d %+v", a.code, a.Error)
	}
	if set, _ := f.st.LoadSettings(); set.OBS.Password != "pw" || set.PublicURL != "https://cdn.example.com" {
		t.Fatalf("stored: %+v", set)
	}
	for body, field := range map[string]string{
		`{"public_url":"ftp://x"}`:        "public_url",
		`{"public_url":"https://x/?a=1"}`: "public_url",
		`{"cloud_name":"Bad Name"}`:       "cloud_name",
		`{"obs":{"port":70000}}`:          "obs.port",
		`{"hls_variant":"dash"}`:          "hls_variant",
		`{"publicurl":"https://x"}`:       "publicurl",
	} {
		before, _ := f.st.LoadSettings()
		a := f.do("PATCH", "/settings", "application/json", body, true)
		if a.code != http.StatusBadRequest || a.Error == nil || !strings.HasPrefix(a.Error.Message, field) {
			t.Errorf("%s: %d %+v, want 400 naming %s", body, a.code, a.Error, field)
		}
		if after, _ := f.st.LoadSettings(); after != before {
			t.Errorf("%s changed the settings", body)
		}
	}
	if a := f.do("GET", "/settings", "", "", false); a.code != http.StatusUnauthorized {
		t.Fatalf("without credentials: %d", a.code)
	}
}
