package livestream

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors; wrap them with what was being looked for or done.
var (
	// ErrNotFound: the live stream, output or asset does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request clashes with the current state.
	ErrConflict = errors.New("conflict")
)

// ValidationError names the field that is wrong and why.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// InputParams is the input part of a create request.
type InputParams struct {
	Type *string `json:"type"`
}

// CreateParams is a request to create a live stream. Nil means absent.
type CreateParams struct {
	Input          *InputParams `json:"input"`
	Name           *string      `json:"name"`
	IdleTimeoutSec *int         `json:"idle_timeout_sec"`
	MaxRuntimeSec  *int         `json:"max_runtime_sec"`
}

// UpdateParams is a request to change a live stream. Nil means unchanged.
type UpdateParams struct {
	Name           *string `json:"name"`
	IdleTimeoutSec *int    `json:"idle_timeout_sec"`
	MaxRuntimeSec  *int    `json:"max_runtime_sec"`
}

// OutputParams creates (Type required) or changes (Type must be absent) an output.
type OutputParams struct {
	Type      *string `json:"type"`
	Name      *string `json:"name"`
	URI       *string `json:"uri"`
	StreamKey *string `json:"stream_key"`
	Vendor    *string `json:"vendor"`
	PublicID  *string `json:"public_id"`
	// Enabled switches the output on or off; it may change at any time.
	Enabled *bool `json:"enabled"`
	// DVRWindowSec is the HLS output's DVR window (0 to MaxDVRWindowSec).
	DVRWindowSec *int `json:"dvr_window_sec"`
	// Renditions are the HLS output's encoded renditions ([] for none).
	Renditions *[]Rendition `json:"renditions"`
}

// Validate checks a create request.
func (p *CreateParams) Validate() error {
	if p.Input == nil {
		return invalid("input", "is required, e.g. {\"type\": \"rtmp\"}")
	}
	if p.Input.Type == nil {
		return invalid("input.type", "is required and must be \"rtmp\"")
	}
	if *p.Input.Type != "rtmp" {
		return invalid("input.type", "must be \"rtmp\", got %q", *p.Input.Type)
	}
	return validateCommon(p.Name, p.IdleTimeoutSec, p.MaxRuntimeSec)
}

// Validate checks an update request.
func (p *UpdateParams) Validate() error {
	if p.Name == nil && p.IdleTimeoutSec == nil && p.MaxRuntimeSec == nil {
		return invalid("body", "names nothing to change (name, idle_timeout_sec, max_runtime_sec)")
	}
	return validateCommon(p.Name, p.IdleTimeoutSec, p.MaxRuntimeSec)
}

func validateCommon(name *string, idle, maxRun *int) error {
	if name != nil {
		if err := validateName("name", *name); err != nil {
			return err
		}
	}
	if idle != nil && (*idle < MinIdleTimeoutSec || *idle > MaxIdleTimeoutSec) {
		return invalid("idle_timeout_sec", "must be between %d and %d, got %d", MinIdleTimeoutSec, MaxIdleTimeoutSec, *idle)
	}
	if maxRun != nil && (*maxRun < MinMaxRuntimeSec || *maxRun > MaxMaxRuntimeSec) {
		return invalid("max_runtime_sec", "must be between %d and %d, got %d", MinMaxRuntimeSec, MaxMaxRuntimeSec, *maxRun)
	}
	return nil
}

func validateName(field, name string) error {
	if !utf8.ValidString(name) {
		return invalid(field, "must be valid UTF-8")
	}
	if strings.TrimSpace(name) == "" {
		return invalid(field, "must not be empty")
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLength {
		return invalid(field, "must be at most %d characters, got %d", MaxNameLength, n)
	}
	for _, r := range name {
		// C0, DEL and C1 (U+0080–U+009F: NEL, CSI, ...), and the line and
		// paragraph separators, which break logs and terminals.
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// ValidateCreate checks a create-output request and returns its type.
func (p *OutputParams) ValidateCreate() (OutputType, error) {
	if p.Type == nil {
		return "", invalid("type", "is required: hls, archive or simulcast")
	}
	t := OutputType(*p.Type)
	switch t {
	case OutputHLS, OutputArchive:
		if p.URI != nil || p.StreamKey != nil {
			return "", invalid("uri", "is set by the studio for %s outputs and cannot be given", t)
		}
	case OutputSimulcast:
		if p.URI == nil && (p.Vendor == nil || VendorURI(*p.Vendor) == "") {
			return "", invalid("uri", "is required for simulcast outputs, e.g. rtmp://a.rtmp.youtube.com/live2 (or give vendor youtube, twitch or facebook)")
		}
	default:
		return "", invalid("type", "must be hls, archive or simulcast, got %q", *p.Type)
	}
	if p.PublicID != nil && t != OutputArchive {
		return "", invalid("public_id", "applies to archive outputs only")
	}
	if p.DVRWindowSec != nil && t != OutputHLS {
		return "", invalid("dvr_window_sec", "applies to hls outputs only")
	}
	if p.Renditions != nil && t != OutputHLS {
		return "", invalid("renditions", "applies to hls outputs only")
	}
	return t, p.validateFields(t)
}

// ValidateUpdate checks a change to an existing output of type t.
func (p *OutputParams) ValidateUpdate(t OutputType) error {
	if p.Type != nil {
		return invalid("type", "cannot be changed; delete the output and create another")
	}
	if p.Vendor != nil && t != OutputSimulcast {
		return invalid("vendor", "applies to simulcast outputs only")
	}
	if p.Name == nil && p.URI == nil && p.StreamKey == nil && p.PublicID == nil && p.Vendor == nil && p.Enabled == nil && p.DVRWindowSec == nil && p.Renditions == nil {
		return invalid("body", "names nothing to change (name, uri, stream_key, public_id, enabled, dvr_window_sec, renditions)")
	}
	if (p.URI != nil || p.StreamKey != nil) && t != OutputSimulcast {
		return invalid("uri", "is set by the studio for %s outputs and cannot be changed", t)
	}
	if p.PublicID != nil && t != OutputArchive {
		return invalid("public_id", "applies to archive outputs only")
	}
	if p.DVRWindowSec != nil && t != OutputHLS {
		return invalid("dvr_window_sec", "applies to hls outputs only")
	}
	if p.Renditions != nil && t != OutputHLS {
		return invalid("renditions", "applies to hls outputs only")
	}
	return p.validateFields(t)
}

func (p *OutputParams) validateFields(t OutputType) error {
	if p.Name != nil {
		if err := validateName("name", *p.Name); err != nil {
			return err
		}
	}
	if p.URI != nil {
		if err := ValidatePushURI(*p.URI); err != nil {
			return err
		}
	}
	if p.StreamKey != nil {
		k := *p.StreamKey
		if len(k) > MaxStreamKeyLength {
			return invalid("stream_key", "must be at most %d bytes", MaxStreamKeyLength)
		}
		if strings.ContainsAny(k, " \t\r\n/?#") {
			return invalid("stream_key", "must not contain spaces, '/', '?' or '#'")
		}
	}
	if p.Vendor != nil && !knownVendor(*p.Vendor) {
		return invalid("vendor", "must be youtube, twitch, facebook or custom, got %q", *p.Vendor)
	}
	if p.PublicID != nil {
		if err := ValidatePublicID(*p.PublicID); err != nil {
			return err
		}
	}
	if p.DVRWindowSec != nil {
		if w := *p.DVRWindowSec; w < 0 || w > MaxDVRWindowSec {
			return invalid("dvr_window_sec", "must be 0 (live edge only) to %d seconds (4 hours), got %d", MaxDVRWindowSec, w)
		}
	}
	if p.Renditions != nil {
		if err := ValidateRenditions(*p.Renditions); err != nil {
			return err
		}
	}
	return nil
}

// ValidateRenditions checks an HLS output's renditions: at most
// MaxRenditions, each of its own height, with an even height and a
// bitrate within the limits.
func ValidateRenditions(rs []Rendition) error {
	if len(rs) > MaxRenditions {
		return invalid("renditions", "may list at most %d renditions (the source is always the top one), got %d", MaxRenditions, len(rs))
	}
	seen := map[int]bool{}
	for i, r := range rs {
		field := fmt.Sprintf("renditions[%d]", i)
		switch {
		case r.Height < MinRenditionHeight || r.Height > MaxRenditionHeight || r.Height%2 != 0:
			return invalid(field+".height", "must be an even number of pixels from %d to %d, e.g. 480, got %d", MinRenditionHeight, MaxRenditionHeight, r.Height)
		case r.Bitrate < MinRenditionBitrate || r.Bitrate > MaxRenditionBitrate:
			return invalid(field+".bitrate", "must be %d to %d bits a second, e.g. 1200000, got %d", MinRenditionBitrate, MaxRenditionBitrate, r.Bitrate)
		case seen[r.Height]:
			return invalid(field+".height", "%d is listed twice: each rendition has its own height", r.Height)
		}
		seen[r.Height] = true
	}
	return nil
}

// Vendor presets: the ingest URL each platform gives its streamers.
var vendorURIs = map[string]string{
	"youtube":  "rtmp://a.rtmp.youtube.com/live2",
	"twitch":   "rtmp://live.twitch.tv/app",
	"facebook": "rtmps://live-api-s.facebook.com:443/rtmp/",
	"custom":   "",
}

// VendorURI returns a vendor preset's uri ("" for custom or unknown).
func VendorURI(vendor string) string { return vendorURIs[vendor] }

func knownVendor(v string) bool {
	_, ok := vendorURIs[v]
	return ok
}

// ValidatePushURI checks a simulcast destination.
func ValidatePushURI(raw string) error {
	if len(raw) > MaxURILength {
		return invalid("uri", "must be at most %d characters", MaxURILength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalid("uri", "is not a valid URL: %v", err)
	}
	if u.Scheme != "rtmp" && u.Scheme != "rtmps" {
		return invalid("uri", "must start with rtmp:// or rtmps://, got %q", raw)
	}
	if u.Hostname() == "" {
		return invalid("uri", "must name a host, got %q", raw)
	}
	return nil
}

// ValidatePublicID checks an asset public id, also one a client names in
// a path: it names a file in the library folder, so it is limited to 1 to
// MaxPublicIDLength letters, digits, '_', '-' and '.', and must not start
// with '.' or hold "..".
func ValidatePublicID(id string) error {
	if id == "" || len(id) > MaxPublicIDLength {
		return invalid("public_id", "must be 1 to %d characters", MaxPublicIDLength)
	}
	if id[0] == '.' || strings.Contains(id, "..") {
		return invalid("public_id", "must not start with '.' or hold '..'")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
		if !ok {
			return invalid("public_id", "may hold only letters, digits, '_', '-' and '.'")
		}
	}
	return nil
}

// OnlySwitch reports whether p only switches the output on or off, which
// any output may do while its stream is active.
func (p *OutputParams) OnlySwitch() bool {
	return p.Enabled != nil && p.Name == nil && p.URI == nil && p.StreamKey == nil && p.PublicID == nil && p.Vendor == nil && p.DVRWindowSec == nil && p.Renditions == nil
}
