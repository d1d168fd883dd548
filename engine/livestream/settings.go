package livestream

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Settings are what the streamer chooses for the studio, kept as one
// record. The listen addresses, certificate, library folder and HLS
// variant apply at the next start; the OBS connection and the public
// playback address at once. Empty fields take their defaults (WithDefaults).
type Settings struct {
	HTTPAddr  string `json:"http_addr"`
	RTMPAddr  string `json:"rtmp_addr"`
	CloudName string `json:"cloud_name"`
	// AllowedHosts are other names the API answers to (comma-separated),
	// e.g. the computer's name on the network for remote access.
	AllowedHosts string `json:"allowed_hosts,omitempty"`
	// LibraryDir is the folder recordings go to ("": DATA/library).
	LibraryDir string `json:"library_dir,omitempty"`
	// TLSCert and TLSKey are the HTTPS certificate and key files used when
	// the API listens beyond this computer (empty: a self-signed one).
	TLSCert string `json:"tls_cert,omitempty"`
	TLSKey  string `json:"tls_key,omitempty"`
	// HLSVariant is lowlatency (default), fmp4 or mpegts.
	HLSVariant string `json:"hls_variant,omitempty"`
	// PublicURL is where viewers reach the studio's playback (a CDN or an
	// edge cache in front of it), e.g. https://cdn.example.com; "": the
	// studio's own address. The HLS output's uri, the watch page's
	// address and the window's copy buttons use it.
	PublicURL string      `json:"public_url,omitempty"`
	OBS       OBSSettings `json:"obs"`
	// Storage is the S3-compatible bucket finished recordings are copied
	// to (off while Bucket is empty). It applies at once.
	Storage StorageSettings `json:"storage"`
	// SRT is the SRT listener encoders may publish to beside RTMP. It
	// applies at the next start.
	SRT SRTSettings `json:"srt"`
}

// SRTSettings are the SRT listener's.
type SRTSettings struct {
	// Addr is the UDP address, e.g. 127.0.0.1:8890; "off" turns SRT off.
	Addr string `json:"addr"`
	// Passphrase, when set (10 to 79 characters), is required of every SRT
	// publisher (encryption). Never shown back or logged.
	Passphrase string `json:"passphrase,omitempty"`
	// LatencyMS is the receive buffer in milliseconds: more survives worse
	// networks, later. 0: 120 ms.
	LatencyMS int `json:"latency_ms,omitempty"`
}

// On reports whether the studio listens for SRT.
func (s SRTSettings) On() bool { return s.Addr != SRTOff }

// SRTOff as the SRT address turns SRT off.
const SRTOff = "off"

// StorageSettings are an S3-compatible object store for recordings: AWS
// S3, Cloudflare R2, Backblaze B2, Wasabi, MinIO, VersityGW and the like.
type StorageSettings struct {
	// Endpoint is the service's address, e.g. https://s3.eu-west-1.amazonaws.com
	// or http://127.0.0.1:7070.
	Endpoint string `json:"endpoint,omitempty"`
	Region   string `json:"region,omitempty"`
	Bucket   string `json:"bucket,omitempty"`
	// Prefix goes before each recording's file name in the bucket, e.g.
	// "recordings/".
	Prefix      string `json:"prefix,omitempty"`
	AccessKeyID string `json:"access_key_id,omitempty"`
	// SecretAccessKey is never shown back or logged.
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	// PathStyle addresses the bucket in the path (endpoint/bucket/key),
	// as MinIO and most self-hosted services want; otherwise the service
	// decides (AWS: the bucket in the host name).
	PathStyle bool `json:"path_style"`
	// DeleteLocal deletes the file on this computer once its copy in the
	// bucket is confirmed (size and checksum); downloads then come from
	// the bucket.
	DeleteLocal bool `json:"delete_local_after_upload"`
}

// On reports whether recordings go to the object store.
func (s StorageSettings) On() bool { return s.Bucket != "" }

// Defaults of the settings.
const (
	DefaultHTTPAddr  = "127.0.0.1:8935"
	DefaultRTMPAddr  = "127.0.0.1:1935"
	DefaultCloudName = "local"
	DefaultOBSHost   = "127.0.0.1"
	DefaultOBSPort   = 4455
	DefaultSRTAddr   = "127.0.0.1:8890"
)

// WithDefaults fills empty fields with their defaults.
func (s Settings) WithDefaults() Settings {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&s.HTTPAddr, DefaultHTTPAddr)
	def(&s.RTMPAddr, DefaultRTMPAddr)
	def(&s.CloudName, DefaultCloudName)
	def(&s.OBS.Host, DefaultOBSHost)
	def(&s.SRT.Addr, DefaultSRTAddr)
	if s.OBS.Port == 0 {
		s.OBS.Port = DefaultOBSPort
	}
	return s
}

// Validate checks every field, naming the first that is wrong and what
// it should be.
func (s Settings) Validate() error {
	for _, a := range []struct{ name, v string }{{"http_addr", s.HTTPAddr}, {"rtmp_addr", s.RTMPAddr}} {
		if err := checkListenAddr(a.v); err != nil {
			return invalid(a.name, "%v", err)
		}
	}
	if s.HTTPAddr == s.RTMPAddr && !strings.HasSuffix(s.HTTPAddr, ":0") {
		return invalid("rtmp_addr", "RTMP needs a port of its own, not http_addr's %s", s.HTTPAddr)
	}
	if !validCloudName(s.CloudName) {
		return invalid("cloud_name", "%q: use 1 to 64 lower-case letters, digits, '-' or '_', beginning with a letter or digit", s.CloudName)
	}
	for h := range strings.SplitSeq(s.AllowedHosts, ",") {
		if h = strings.TrimSpace(h); h != "" && strings.ContainsAny(h, " /:?#@") {
			return invalid("allowed_hosts", "%q is not a host name (no port, scheme or path)", h)
		}
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		return invalid("tls_key", "the certificate and its key go together: give both files, or neither for a self-signed certificate")
	}
	switch s.HLSVariant {
	case "", "lowlatency", "fmp4", "mpegts":
	default:
		return invalid("hls_variant", "%q: use lowlatency, fmp4 or mpegts", s.HLSVariant)
	}
	if err := checkPublicURL(s.PublicURL); err != nil {
		return invalid("public_url", "%v", err)
	}
	if err := s.Storage.validate(); err != nil {
		return err
	}
	if err := s.SRT.validate(); err != nil {
		return err
	}
	if s.OBS.Port < 1 || s.OBS.Port > 65535 {
		return invalid("obs.port", "%d: use 1 to 65535 (obs-websocket's default is %d)", s.OBS.Port, DefaultOBSPort)
	}
	if s.OBS.Host == "" || strings.ContainsAny(s.OBS.Host, " /?#@") {
		return invalid("obs.host", "%q: give a host name or IP address", s.OBS.Host)
	}
	return nil
}

func checkListenAddr(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("%q is not HOST:PORT (e.g. 127.0.0.1:1935)", a)
	}
	if strings.ContainsAny(host, " /?#@") {
		return fmt.Errorf("%q: the host is not a name or IP address", a)
	}
	if n, err := net.LookupPort("tcp", port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: the port is not a number from 0 to 65535", a)
	}
	return nil
}

// checkPublicURL accepts "" or an absolute http(s) URL without query,
// fragment or credentials.
func checkPublicURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: use an address such as https://cdn.example.com", v)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("no user name, query or fragment in the public address")
	}
	return nil
}

// PublicBase is PublicURL without a trailing slash, or fallback when it is
// not set.
func (s Settings) PublicBase(fallback string) string {
	if s.PublicURL == "" {
		return fallback
	}
	return strings.TrimRight(s.PublicURL, "/")
}

// validCloudName: 1 to 64 of a-z, 0-9, '-', '_', not beginning with
// '-' or '_'.
func validCloudName(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '-' || s[0] == '_' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// validate checks the SRT listener's settings.
func (s SRTSettings) validate() error {
	if s.On() && s.Addr != "" {
		if err := checkListenAddr(s.Addr); err != nil {
			return invalid("srt.addr", "%v (or off)", err)
		}
	}
	if n := len(s.Passphrase); n != 0 && (n < 10 || n > 79) {
		return invalid("srt.passphrase", "%d characters: use 10 to 79, or none", n)
	}
	if s.LatencyMS < 0 || s.LatencyMS > 10000 {
		return invalid("srt.latency_ms", "%d: use 20 to 10000 milliseconds, or 0 for 120", s.LatencyMS)
	}
	return nil
}

// validate checks the object store's settings when it is on.
func (s StorageSettings) validate() error {
	if !s.On() {
		if s.Endpoint != "" || s.AccessKeyID != "" {
			return invalid("storage.bucket", "give the bucket recordings go to (or clear the endpoint and keys to keep recordings on this computer only)")
		}
		return nil
	}
	u, err := url.Parse(s.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return invalid("storage.endpoint", "%q: give the service's address only, e.g. https://s3.eu-west-1.amazonaws.com", s.Endpoint)
	}
	if n := len(s.Bucket); n < 3 || n > 63 || strings.Trim(s.Bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" ||
		strings.ContainsAny(s.Bucket[:1]+s.Bucket[n-1:], ".-") {
		return invalid("storage.bucket", "%q: 3 to 63 lower-case letters, digits, '.' and '-', beginning and ending with a letter or digit", s.Bucket)
	}
	if strings.HasPrefix(s.Prefix, "/") || strings.Contains(s.Prefix, "..") || len(s.Prefix) > 512 {
		return invalid("storage.prefix", "%q: a folder-like name such as recordings/ (no leading '/' or '..')", s.Prefix)
	}
	if s.AccessKeyID == "" || s.SecretAccessKey == "" {
		return invalid("storage.access_key_id", "the access key and its secret go together: give both (the storage service makes them)")
	}
	return nil
}
