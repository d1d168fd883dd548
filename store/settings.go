package store

import (
	"encoding/json"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/onair-studio/onair/engine/livestream"
)

// keyStudioSettings holds the studio's settings as one JSON record.
var keyStudioSettings = []byte("studio")

// legacySettings are the keys settings had, one each, before they became
// one record; LoadSettings reads them while there is no record, and
// SaveSettings removes them.
var legacySettings = []string{"http_addr", "rtmp_addr", "cloud_name", "allowed_hosts", "library_dir",
	"tls_cert", "tls_key", "hls_variant", "obs_host", "obs_port", "obs_password"}

// LoadSettings returns the stored settings as they were saved (empty
// fields where nothing was set; the caller applies defaults).
func (s *Store) LoadSettings() (livestream.Settings, error) {
	var set livestream.Settings
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		if v := b.Get(keyStudioSettings); v != nil {
			if err := json.Unmarshal(v, &set); err != nil {
				return fmt.Errorf("decoding the settings record: %w", err)
			}
			return nil
		}
		get := func(k string) string { return string(b.Get([]byte(k))) }
		set = livestream.Settings{HTTPAddr: get("http_addr"), RTMPAddr: get("rtmp_addr"), CloudName: get("cloud_name"),
			AllowedHosts: get("allowed_hosts"), LibraryDir: get("library_dir"), TLSCert: get("tls_cert"), TLSKey: get("tls_key"),
			HLSVariant: get("hls_variant"),
			OBS:        livestream.OBSSettings{Host: get("obs_host"), Password: get("obs_password")}}
		set.OBS.Port, _ = strconv.Atoi(get("obs_port")) // 0: the default
		return nil
	})
	if err != nil {
		return livestream.Settings{}, fmt.Errorf("reading settings: %w", err)
	}
	return set, nil
}

// SaveSettings stores the settings as one record, in one transaction.
func (s *Store) SaveSettings(set livestream.Settings) error {
	v, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("encoding settings: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		for _, k := range legacySettings {
			if err := b.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return b.Put(keyStudioSettings, v)
	})
	if err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	return nil
}
