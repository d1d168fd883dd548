package store_test

import (
	"path/filepath"
	"testing"

	"github.com/onair-studio/onair/store"
)

// Settings saved one key each by an earlier version are read as the
// record; once saved, the record is what is read, after a reopen too,
// and the old keys are gone.
func TestSettingsRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "onair.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetSettings(map[string]string{"http_addr": "127.0.0.1:9000", "cloud_name": "home", "obs_port": "4460", "api_key": "k"}); err != nil {
		t.Fatal(err)
	}
	set, err := st.LoadSettings()
	if err != nil || set.HTTPAddr != "127.0.0.1:9000" || set.CloudName != "home" || set.OBS.Port != 4460 || set.RTMPAddr != "" {
		t.Fatalf("legacy settings read as %+v (%v)", set, err)
	}
	set.PublicURL = "https://cdn.example.com"
	set.CloudName = "studio"
	if err := st.SaveSettings(set); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if st, err = store.Open(path); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.LoadSettings()
	if err != nil || got != set {
		t.Fatalf("after a reopen: %+v (%v), want %+v", got, err, set)
	}
	if _, ok, _ := st.Setting("cloud_name"); ok {
		t.Fatal("the old cloud_name key is still there")
	}
	if v, ok, _ := st.Setting("api_key"); !ok || v != "k" {
		t.Fatal("the credentials were removed with the old settings")
	}
}
