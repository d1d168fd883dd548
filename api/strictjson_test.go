package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/onair-studio/onair/engine/livestream"
)

// FuzzStrictJSON: whatever the bytes, decodeStrict either refuses them with
// a message naming where, or accepts a body that encoding/json reads the
// same, that is valid UTF-8 JSON and that has no key twice and no key in
// another case than its field's.
func FuzzStrictJSON(f *testing.F) {
	for _, seed := range []string{
		`{"input":{"type":"rtmp"},"name":"x","idle_timeout_sec":5,"max_runtime_sec":60}`,
		`{"INPUT":{"TYPE":"rtmp"},"NAME":"case"}`, `{"input":{"type":"rtmp"},"Input":{}}`,
		`{"name":"a","name":"b"}`, "{\"name\":\"a\xffb\"}", `{"name":"a\ud800b"}`, `{"name":"\ud83d\ude00"}`,
		`{"idle_timeout_sec":1.5}`, `{"idle_timeout_sec":1.0}`, `{"idle_timeout_sec":1e400}`, `{"name":null}`,
		`[]`, `{"input":`, `{} {}`, "\x00", `{"input":{"type":"rtmp","type":"rtmp"}}`, `{"name":"\u0085"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var p livestream.CreateParams
		err := decodeStrict(body, &p)
		if err != nil {
			msg := err.Error()
			if msg == "" || !utf8.ValidString(msg) {
				t.Fatalf("%q: message %q", body, msg)
			}
			return
		}
		if !utf8.Valid(body) || !json.Valid(body) {
			t.Fatalf("accepted invalid UTF-8 or JSON: %q", body)
		}
		var loose livestream.CreateParams
		if err := json.Unmarshal(body, &loose); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		if !reflect.DeepEqual(p, loose) {
			t.Fatalf("%q read differently: %+v vs %+v", body, p, loose)
		}
		if k := repeatedKey(t, body); k != "" {
			t.Fatalf("accepted %q with key %q twice (in some case)", body, k)
		}
	})
}

// repeatedKey returns a key that appears twice in one object, comparing
// without regard to case, or one that is not lower case (every field of
// the API is), walking the tokens of body.
func repeatedKey(t *testing.T, body []byte) string {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	type frame struct {
		seen   map[string]bool
		object bool
		key    bool // the next token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			k, _ := tok.(string)
			if k != strings.ToLower(k) {
				return k
			}
			if top.seen[strings.ToLower(k)] {
				return k
			}
			top.seen[strings.ToLower(k)] = true
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{seen: map[string]bool{}, object: true, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].key = true
		}
	}
}
