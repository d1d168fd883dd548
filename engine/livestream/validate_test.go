package livestream

import (
	"errors"
	"strings"
	"testing"
)

func p[T any](v T) *T { return &v }

func TestCreateValidation(t *testing.T) {
	rtmp := &InputParams{Type: p("rtmp")}
	cases := []struct {
		name  string
		in    CreateParams
		field string // "" = valid
	}{
		{"minimal", CreateParams{Input: rtmp}, ""},
		{"full", CreateParams{Input: rtmp, Name: p("Show"), IdleTimeoutSec: p(0), MaxRuntimeSec: p(43200)}, ""},
		{"no input", CreateParams{}, "input"},
		{"no input type", CreateParams{Input: &InputParams{}}, "input.type"},
		{"srt", CreateParams{Input: &InputParams{Type: p("srt")}}, "input.type"},
		{"idle -1", CreateParams{Input: rtmp, IdleTimeoutSec: p(-1)}, "idle_timeout_sec"},
		{"idle 1801", CreateParams{Input: rtmp, IdleTimeoutSec: p(1801)}, "idle_timeout_sec"},
		{"runtime 59", CreateParams{Input: rtmp, MaxRuntimeSec: p(59)}, "max_runtime_sec"},
		{"runtime 43201", CreateParams{Input: rtmp, MaxRuntimeSec: p(43201)}, "max_runtime_sec"},
		{"name 255 runes", CreateParams{Input: rtmp, Name: p(strings.Repeat("ü", 255))}, ""},
		{"name 256 runes", CreateParams{Input: rtmp, Name: p(strings.Repeat("ü", 256))}, "name"},
		{"name control char", CreateParams{Input: rtmp, Name: p("a\nb")}, "name"},
		{"name invalid utf8", CreateParams{Input: rtmp, Name: p("\xff")}, "name"},
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
		{"simulcast", OutputParams{Type: p("simulcast"), URI: p("rtmps://live.example.com:443/app"), StreamKey: p("abc")}, ""},
		{"simulcast no uri", OutputParams{Type: p("simulcast")}, "uri"},
		{"simulcast http", OutputParams{Type: p("simulcast"), URI: p("http://x/y")}, "uri"},
		{"simulcast no host", OutputParams{Type: p("simulcast"), URI: p("rtmp:///app")}, "uri"},
		{"key with slash", OutputParams{Type: p("simulcast"), URI: p("rtmp://x/app"), StreamKey: p("a/b")}, "stream_key"},
		{"hls with uri", OutputParams{Type: p("hls"), URI: p("rtmp://x/app")}, "uri"},
		{"archive public id", OutputParams{Type: p("archive"), PublicID: p("shows/2026/ep1")}, ""},
		{"archive dotdot", OutputParams{Type: p("archive"), PublicID: p("../x")}, "public_id"},
		{"archive bad char", OutputParams{Type: p("archive"), PublicID: p("a b")}, "public_id"},
		{"public id on simulcast", OutputParams{Type: p("simulcast"), URI: p("rtmp://x/a"), PublicID: p("x")}, "public_id"},
		{"unknown type", OutputParams{Type: p("dash")}, "type"},
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
	for i := 0; i < 1000; i++ {
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
