package livestream

import (
	"errors"
	"strings"
	"testing"
)

func TestCreateValidation(t *testing.T) {
	rtmp := &InputParams{Type: new("rtmp")}
	cases := []struct {
		name  string
		in    CreateParams
		field string // "" = valid
	}{
		{"minimal", CreateParams{Input: rtmp}, ""},
		{"full", CreateParams{Input: rtmp, Name: new("Show"), IdleTimeoutSec: new(0), MaxRuntimeSec: new(43200)}, ""},
		{"no input", CreateParams{}, "input"},
		{"no input type", CreateParams{Input: &InputParams{}}, "input.type"},
		{"srt", CreateParams{Input: &InputParams{Type: new("srt")}}, "input.type"},
		{"idle -1", CreateParams{Input: rtmp, IdleTimeoutSec: new(-1)}, "idle_timeout_sec"},
		{"idle 1801", CreateParams{Input: rtmp, IdleTimeoutSec: new(1801)}, "idle_timeout_sec"},
		{"runtime 59", CreateParams{Input: rtmp, MaxRuntimeSec: new(59)}, "max_runtime_sec"},
		{"runtime 43201", CreateParams{Input: rtmp, MaxRuntimeSec: new(43201)}, "max_runtime_sec"},
		{"name 255 runes", CreateParams{Input: rtmp, Name: new(strings.Repeat("ü", 255))}, ""},
		{"name 256 runes", CreateParams{Input: rtmp, Name: new(strings.Repeat("ü", 256))}, "name"},
		{"name control char", CreateParams{Input: rtmp, Name: new("a\nb")}, "name"},
		{"name invalid utf8", CreateParams{Input: rtmp, Name: new("\xff")}, "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.in.Validate()
			checkField(t, err, c.field)
		})
	}
}

func TestOutputValidation(t *testing.T) {
	cases := []struct {
		name  string
		in    OutputParams
		field string
	}{
		{"simulcast", OutputParams{Type: new("simulcast"), URI: new("rtmps://live.example.com:443/app"), StreamKey: new("abc")}, ""},
		{"simulcast no uri", OutputParams{Type: new("simulcast")}, "uri"},
		{"simulcast http", OutputParams{Type: new("simulcast"), URI: new("http://x/y")}, "uri"},
		{"simulcast no host", OutputParams{Type: new("simulcast"), URI: new("rtmp:///app")}, "uri"},
		{"key with slash", OutputParams{Type: new("simulcast"), URI: new("rtmp://x/app"), StreamKey: new("a/b")}, "stream_key"},
		{"hls with uri", OutputParams{Type: new("hls"), URI: new("rtmp://x/app")}, "uri"},
		{"archive public id", OutputParams{Type: new("archive"), PublicID: new("shows-2026.ep1")}, ""},
		{"archive slash", OutputParams{Type: new("archive"), PublicID: new("shows/ep1")}, "public_id"},
		{"archive leading dot", OutputParams{Type: new("archive"), PublicID: new(".hidden")}, "public_id"},
		{"archive backslash", OutputParams{Type: new("archive"), PublicID: new(`a\b`)}, "public_id"},
		{"archive NUL", OutputParams{Type: new("archive"), PublicID: new("a\x00b")}, "public_id"},
		{"archive dotdot", OutputParams{Type: new("archive"), PublicID: new("../x")}, "public_id"},
		{"archive bad char", OutputParams{Type: new("archive"), PublicID: new("a b")}, "public_id"},
		{"public id on simulcast", OutputParams{Type: new("simulcast"), URI: new("rtmp://x/a"), PublicID: new("x")}, "public_id"},
		{"dvr window", OutputParams{Type: new("hls"), DVRWindowSec: new(7200)}, ""},
		{"dvr window negative", OutputParams{Type: new("hls"), DVRWindowSec: new(-1)}, "dvr_window_sec"},
		{"dvr window over 4 h", OutputParams{Type: new("hls"), DVRWindowSec: new(4*3600 + 1)}, "dvr_window_sec"},
		{"dvr window on archive", OutputParams{Type: new("archive"), DVRWindowSec: new(60)}, "dvr_window_sec"},
		{"unknown type", OutputParams{Type: new("dash")}, "type"},
		{"no type", OutputParams{}, "type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.in.ValidateCreate()
			checkField(t, err, c.field)
		})
	}
}

func checkField(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != field {
		t.Fatalf("want a validation error on %s, got %v", field, err)
	}
}

func TestIdsAndKeys(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id, k := NewID(), NewStreamKey()
		if !IsID(id) || seen[id] || seen[k] {
			t.Fatalf("bad or repeated id/key %q %q", id, k)
		}
		if len(k) < 22 || strings.ContainsAny(k, "+/=") {
			t.Fatalf("stream key %q is not URL-safe or too short", k)
		}
		seen[id], seen[k] = true, true
	}
	for _, bad := range []string{"", "ABCDEF0123456789abcdef0123456789", strings.Repeat("a", 31), strings.Repeat("g", 32)} {
		if IsID(bad) {
			t.Fatalf("IsID(%q)", bad)
		}
	}
}

func TestValidateRenditions(t *testing.T) {
	ok := [][]Rendition{nil, {{Height: 480, Bitrate: 1_200_000}}, {{Height: 1080, Bitrate: 20_000_000}, {Height: 144, Bitrate: 100_000}}}
	for _, rs := range ok {
		if err := ValidateRenditions(rs); err != nil {
			t.Errorf("%v: %v", rs, err)
		}
	}
	for field, rs := range map[string][]Rendition{
		"renditions":            {{Height: 720, Bitrate: 1e6}, {Height: 480, Bitrate: 1e6}, {Height: 360, Bitrate: 1e6}, {Height: 240, Bitrate: 1e6}},
		"renditions[0].height":  {{Height: 481, Bitrate: 1e6}},
		"renditions[1].height":  {{Height: 480, Bitrate: 1e6}, {Height: 480, Bitrate: 5e5}},
		"renditions[0].bitrate": {{Height: 480, Bitrate: 99_999}},
	} {
		var ve *ValidationError
		if err := ValidateRenditions(rs); !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("%v: %v; want an error on %s", rs, err, field)
		}
	}
}
