package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/api"
	"github.com/onair-studio/onair/engine"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/output"
	"github.com/onair-studio/onair/engine/output/hls"
	"github.com/onair-studio/onair/store"
)

const (
	key    = "k3y"
	secret = "s3cret"
)

type fixture struct {
	t    testing.TB
	srv  *httptest.Server
	eng  *engine.Service
	st   *store.Store
	base string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, nil)
}

// newFixtureWith lets a test change the API server's parameters (set wraps
// the engine or shortens time limits) before it serves.
func newFixtureWith(t testing.TB, set func(*api.Server)) *fixture {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	eng := &engine.Service{Repo: st, RTMPURL: "rtmp://127.0.0.1:1935/live", HTTPURL: "http://127.0.0.1:8935", Outputs: output.Factories{livestream.OutputHLS: &hls.Factory{BaseURL: "http://127.0.0.1:8935"}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	a := &api.Server{Engine: eng, Credentials: func() (string, string) { return key, secret },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if set != nil {
		set(a)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		eng.Close()
		st.Close()
	})
	return &fixture{t: t, srv: srv, eng: eng, st: st, base: srv.URL + "/v2/video/local"}
}

type answer struct {
	code      int
	RequestID string          `json:"request_id"`
	Data      json.RawMessage `json:"data"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func (f *fixture) do(method, path, ctype, body string, auth bool) answer {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, f.base+path, rd)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth {
		req.SetBasicAuth(key, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		f.t.Fatalf("%s %s answered non-JSON %d: %s", method, path, resp.StatusCode, raw)
	}
	a.code = resp.StatusCode
	return a
}

func (f *fixture) snapshot() string {
	list, err := f.st.LoadStreams()
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := json.Marshal(list)
	return string(b)
}

func TestBadRequestsAreRefusedAndChangeNothing(t *testing.T) {
	f := newFixture(t)
	st, err := f.eng.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}})
	if err != nil {
		t.Fatal(err)
	}
	id := st.ID
	hlsID := st.Outputs[0].ID
	sim, err := f.eng.CreateOutput(id, livestream.OutputParams{Type: new("simulcast"), URI: new("rtmp://127.0.0.1:1/live"), StreamKey: new("k")})
	if err != nil {
		t.Fatal(err)
	}
	unknown := strings.Repeat("ab", 16)
	big := `{"input":{"type":"rtmp"},"name":"` + strings.Repeat("x", 70<<10) + `"}`
	const js = "application/json"

	cases := []struct {
		name, method, path, ctype, body string
		noAuth                          bool
		code                            int
		msg                             string
	}{
		{"garbage JSON", "POST", "/live_streams", js, `{"input":`, false, 400, "not valid JSON"},
		{"not JSON at all", "POST", "/live_streams", js, `hello`, false, 400, "not valid JSON"},
		{"array body", "POST", "/live_streams", js, `[1,2]`, false, 400, "JSON object"},
		{"empty body", "POST", "/live_streams", js, ``, false, 400, "JSON object is required"},
		{"trailing data", "POST", "/live_streams", js, `{"input":{"type":"rtmp"}} {}`, false, 400, "extra data"},
		{"missing input", "POST", "/live_streams", js, `{"name":"x"}`, false, 400, "input"},
		{"input type missing", "POST", "/live_streams", js, `{"input":{}}`, false, 400, "input.type"},
		{"input type not rtmp", "POST", "/live_streams", js, `{"input":{"type":"srt"}}`, false, 400, "input.type"},
		{"input wrong type", "POST", "/live_streams", js, `{"input":"rtmp"}`, false, 400, "input"},
		{"name wrong type", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"name":5}`, false, 400, "name"},
		{"name too long", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"name":"` + strings.Repeat("é", 256) + `"}`, false, 400, "name"},
		{"name empty", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"name":"  "}`, false, 400, "name"},
		{"unknown field", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"colour":"red"}`, false, 400, "colour"},
		{"negative idle timeout", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"idle_timeout_sec":-1}`, false, 400, "idle_timeout_sec"},
		{"huge idle timeout", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"idle_timeout_sec":99999999999999999999}`, false, 400, "idle_timeout_sec"},
		{"fractional idle timeout", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"idle_timeout_sec":1.5}`, false, 400, "idle_timeout_sec"},
		{"idle timeout as string", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"idle_timeout_sec":"10"}`, false, 400, "idle_timeout_sec"},
		{"key in upper case", "POST", "/live_streams", js, `{"INPUT":{"TYPE":"rtmp"},"NAME":"case"}`, false, 400, `INPUT: unknown field; keys are case-sensitive, did you mean "input"`},
		{"key in another case", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"Input":{"type":"rtmp"}}`, false, 400, "Input: unknown field"},
		{"nested key in another case", "POST", "/live_streams", js, `{"input":{"Type":"rtmp"}}`, false, 400, "input.Type: unknown field"},
		{"key given twice", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"name":"a","name":"b"}`, false, 400, "name: given twice"},
		{"raw invalid UTF-8 in name", "POST", "/live_streams", js, "{\"input\":{\"type\":\"rtmp\"},\"name\":\"a\xffb\"}", false, 400, "name: must be valid UTF-8"},
		{"unpaired surrogate in name", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"name":"a\ud800b"}`, false, 400, "name: must be valid UTF-8"},
		{"C1 control in name", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"name":"a\u0085b"}`, false, 400, "name: must not contain control characters"},
		{"CSI control in name", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"name":"a\u009b31m"}`, false, 400, "name: must not contain control characters"},
		{"fraction says whole number", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"idle_timeout_sec":1.5}`, false, 400, "idle_timeout_sec: must be a whole number, got the number 1.5"},
		{"1.0 is not a whole number", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"idle_timeout_sec":1.0}`, false, 400, "must be a whole number"},
		{"C1 control in output name", "PATCH", "/live_streams/" + id + "/outputs/" + sim.ID, js, `{"name":"x\u0085"}`, false, 400, "control characters"},
		{"max runtime too small", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"max_runtime_sec":59}`, false, 400, "max_runtime_sec"},
		{"max runtime too large", "POST", "/live_streams", js, `{"input":{"type":"rtmp"},"max_runtime_sec":43201}`, false, 400, "max_runtime_sec"},
		{"body over the limit", "POST", "/live_streams", js, big, false, 413, "larger than"},
		{"wrong content type", "POST", "/live_streams", "text/plain", `{"input":{"type":"rtmp"}}`, false, 415, "Content-Type"},
		{"no content type", "POST", "/live_streams", "", `{"input":{"type":"rtmp"}}`, false, 415, "Content-Type"},
		{"no credentials", "GET", "/live_streams", "", "", true, 401, "authentication required"},
		{"no credentials on create", "POST", "/live_streams", js, `{"input":{"type":"rtmp"}}`, true, 401, "authentication"},
		{"unknown stream", "GET", "/live_streams/" + unknown, "", "", false, 404, unknown},
		{"malformed id", "GET", "/live_streams/not-an-id", "", "", false, 404, "not-an-id"},
		{"patch unknown stream", "PATCH", "/live_streams/" + unknown, js, `{"name":"x"}`, false, 404, unknown},
		{"delete unknown stream", "DELETE", "/live_streams/" + unknown, "", "", false, 404, unknown},
		{"activate unknown stream", "POST", "/live_streams/" + unknown + "/activate", "", "", false, 404, unknown},
		{"reset key unknown stream", "POST", "/live_streams/" + unknown + "/reset_stream_key", "", "", false, 404, unknown},
		{"patch nothing", "PATCH", "/live_streams/" + id, js, `{}`, false, 400, "nothing to change"},
		{"patch bad timeout", "PATCH", "/live_streams/" + id, js, `{"idle_timeout_sec":1801}`, false, 400, "idle_timeout_sec"},
		{"patch input", "PATCH", "/live_streams/" + id, js, `{"input":{"type":"rtmp"}}`, false, 400, "input"},
		{"second hls output", "POST", "/live_streams/" + id + "/outputs", js, `{"type":"hls"}`, false, 409, "hls"},
		{"second archive output", "POST", "/live_streams/" + id + "/outputs", js, `{"type":"archive"}`, false, 409, "archive"},
		{"output without type", "POST", "/live_streams/" + id + "/outputs", js, `{"name":"x"}`, false, 400, "type"},
		{"output of unknown type", "POST", "/live_streams/" + id + "/outputs", js, `{"type":"dash"}`, false, 400, "type"},
		{"simulcast without uri", "POST", "/live_streams/" + id + "/outputs", js, `{"type":"simulcast"}`, false, 400, "uri"},
		{"simulcast http uri", "POST", "/live_streams/" + id + "/outputs", js, `{"type":"simulcast","uri":"http://example.com/x"}`, false, 400, "uri"},
		{"duplicate simulcast", "POST", "/live_streams/" + id + "/outputs", js, `{"type":"simulcast","uri":"rtmp://127.0.0.1:1/live","stream_key":"k"}`, false, 409, "already"},
		{"archive bad public id", "PATCH", "/live_streams/" + id + "/outputs/" + st.Outputs[1].ID, js, `{"public_id":"../etc/passwd"}`, false, 400, "public_id"},
		{"hls dvr window too long", "PATCH", "/live_streams/" + id + "/outputs/" + hlsID, js, `{"dvr_window_sec":14401}`, false, 400, "dvr_window_sec"},
		{"hls dvr window not a number", "PATCH", "/live_streams/" + id + "/outputs/" + hlsID, js, `{"dvr_window_sec":"2h"}`, false, 400, "dvr_window_sec"},
		{"archive dvr window", "PATCH", "/live_streams/" + id + "/outputs/" + st.Outputs[1].ID, js, `{"dvr_window_sec":60}`, false, 400, "dvr_window_sec"},
		{"hls uri change", "PATCH", "/live_streams/" + id + "/outputs/" + hlsID, js, `{"uri":"rtmp://x/y"}`, false, 400, "uri"},
		{"output type change", "PATCH", "/live_streams/" + id + "/outputs/" + sim.ID, js, `{"type":"hls"}`, false, 400, "type"},
		{"delete hls output", "DELETE", "/live_streams/" + id + "/outputs/" + hlsID, "", "", false, 409, "hls"},
		{"unknown output", "GET", "/live_streams/" + id + "/outputs/" + unknown, "", "", false, 404, unknown},
		{"wrong method on collection", "PUT", "/live_streams", js, `{}`, false, 405, "PUT"},
		{"wrong method on activate", "GET", "/live_streams/" + id + "/activate", "", "", false, 405, "GET"},
		{"unknown cloud name", "GET", "/../../v2/video/other/live_streams", "", "", false, 404, "other"},
		{"bad max_results", "GET", "/live_streams?max_results=0", "", "", false, 400, "max_results"},
		{"bad cursor", "GET", "/live_streams?next_cursor=zzz", "", "", false, 400, "next_cursor"},
		{"unknown route", "GET", "/live_streams/" + id + "/nothing", "", "", false, 404, "no such route"},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	before := f.snapshot()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if strings.HasPrefix(path, "/../../") {
				// leave the cloud base: address another cloud name
				req, _ := http.NewRequest(c.method, f.srv.URL+"/v2/video/other/live_streams", nil)
				req.SetBasicAuth(key, secret)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != c.code {
					t.Fatalf("code %d, want %d", resp.StatusCode, c.code)
				}
				return
			}
			a := f.do(c.method, path, c.ctype, c.body, !c.noAuth)
			if a.code != c.code {
				t.Fatalf("code %d, want %d (error %+v)", a.code, c.code, a.Error)
			}
			if a.Error == nil || !strings.Contains(a.Error.Message, c.msg) {
				t.Fatalf("error %+v does not mention %q", a.Error, c.msg)
			}
			if a.RequestID == "" {
				t.Fatal("no request_id")
			}
			if after := f.snapshot(); after != before {
				t.Fatalf("the store changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func TestWrongCredentialsAndHealth(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest(http.MethodGet, f.base+"/live_streams", nil)
	req.SetBasicAuth(key, "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("wrong secret: %d %v", resp.StatusCode, resp.Header)
	}
	for _, p := range []string{"/healthz", "/openapi.json"} {
		resp, err := http.Get(f.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !json.Valid(b) {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, b)
		}
	}
}

func TestStreamLifecycleOverHTTP(t *testing.T) {
	f := newFixture(t)
	a := f.do("POST", "/live_streams", "application/json", `{"input":{"type":"rtmp"},"name":"Show","idle_timeout_sec":30}`, true)
	if a.code != 201 {
		t.Fatalf("create: %d %+v", a.code, a.Error)
	}
	var st struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Input struct {
			StreamKey string `json:"stream_key"`
			URI       string `json:"uri"`
		} `json:"input"`
		Status    string `json:"status"`
		CreatedAt int64  `json:"created_at"`
		Outputs   []struct {
			Type     string `json:"type"`
			PublicID string `json:"public_id"`
			URI      string `json:"uri"`
		} `json:"outputs"`
		IdleTimeoutSec int `json:"idle_timeout_sec"`
		MaxRuntimeSec  int `json:"max_runtime_sec"`
	}
	json.Unmarshal(a.Data, &st)
	if !livestream.IsID(st.ID) || st.Name != "Show" || st.Status != "idle" || st.IdleTimeoutSec != 30 ||
		st.MaxRuntimeSec != 10800 || st.CreatedAt < 1e12 || st.Input.URI != "rtmp://127.0.0.1:1935/live" {
		t.Fatalf("stream %s", a.Data)
	}
	if len(st.Outputs) != 2 || st.Outputs[0].Type != "hls" || st.Outputs[1].Type != "archive" ||
		st.Outputs[1].PublicID != "live_stream_"+st.ID+"_archive" ||
		st.Outputs[0].URI != "http://127.0.0.1:8935/hls/"+st.ID+"/index.m3u8" {
		t.Fatalf("outputs %s", a.Data)
	}
	if a = f.do("PATCH", "/live_streams/"+st.ID, "application/json", `{"name":"Renamed"}`, true); a.code != 200 || !bytes.Contains(a.Data, []byte("Renamed")) {
		t.Fatalf("patch: %d %s", a.code, a.Data)
	}
	if a = f.do("POST", "/live_streams/"+st.ID+"/activate", "", "", true); a.code != 200 {
		t.Fatalf("activate: %d", a.code)
	}
	if got, _ := f.eng.Get(st.ID); got.Status != livestream.StatusActive {
		t.Fatal("not active after activate")
	}
	// hls edits wait for idle; simulcast edits do not.
	if a = f.do("PATCH", "/live_streams/"+st.ID+"/outputs/"+mustOutput(t, f, st.ID, "hls"), "application/json", `{"name":"x"}`, true); a.code != 409 {
		t.Fatalf("hls edit while active: %d", a.code)
	}
	if a = f.do("POST", "/live_streams/"+st.ID+"/outputs", "application/json", `{"type":"simulcast","uri":"rtmp://127.0.0.1:9/live","stream_key":"abc","vendor":"youtube"}`, true); a.code != 201 {
		t.Fatalf("simulcast while active: %d %+v", a.code, a.Error)
	}
	oldKey := st.Input.StreamKey
	if a = f.do("POST", "/live_streams/"+st.ID+"/reset_stream_key", "", "", true); a.code != 200 || bytes.Contains(a.Data, []byte(oldKey)) {
		t.Fatalf("reset: %d %s", a.code, a.Data)
	}
	if _, err := f.eng.Authorize(oldKey, "test", func() {}); err == nil {
		t.Fatal("old key still accepted")
	}
	if a = f.do("POST", "/live_streams/"+st.ID+"/idle", "", "", true); a.code != 200 {
		t.Fatalf("idle: %d", a.code)
	}
	if a = f.do("DELETE", "/live_streams/"+st.ID, "", "", true); a.code != 200 {
		t.Fatalf("delete: %d", a.code)
	}
	if a = f.do("GET", "/live_streams/"+st.ID, "", "", true); a.code != 404 {
		t.Fatalf("get after delete: %d", a.code)
	}
}

func mustOutput(t *testing.T, f *fixture, id string, typ livestream.OutputType) string {
	st, err := f.eng.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range st.Outputs {
		if o.Type == typ {
			return o.ID
		}
	}
	t.Fatalf("no %s output", typ)
	return ""
}

func TestPaging(t *testing.T) {
	f := newFixture(t)
	want := map[string]bool{}
	for range 7 {
		st, err := f.eng.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}})
		if err != nil {
			t.Fatal(err)
		}
		want[st.ID] = true
	}
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		q := "/live_streams?max_results=3"
		if cursor != "" {
			q += "&next_cursor=" + cursor
		}
		a := f.do("GET", q, "", "", true)
		if a.code != 200 {
			t.Fatalf("list: %d %+v", a.code, a.Error)
		}
		var pg struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
			Total      int    `json:"total_count"`
		}
		json.Unmarshal(a.Data, &pg)
		pages++
		if pg.Total != 7 || len(pg.Items) > 3 {
			t.Fatalf("page %s", a.Data)
		}
		for _, it := range pg.Items {
			if seen[it.ID] {
				t.Fatalf("%s twice", it.ID)
			}
			seen[it.ID] = true
		}
		if pg.NextCursor == "" {
			break
		}
		cursor = pg.NextCursor
	}
	if pages != 3 || len(seen) != 7 {
		t.Fatalf("pages %d seen %d", pages, len(seen))
	}
}

func TestEventsStream(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.base+"/events", nil)
	req.SetBasicAuth(key, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	st, err := f.eng.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.Activate(st.ID); err != nil {
		t.Fatal(err)
	}
	want := []string{"event: live_stream.created", "event: live_stream.active"}
	buf := make([]byte, 4096)
	var got string
	for len(want) > 0 {
		n, err := resp.Body.Read(buf)
		if err != nil {
			t.Fatalf("reading events: %v; got %q", err, got)
		}
		got += string(buf[:n])
		for len(want) > 0 && strings.Contains(got, want[0]) {
			want = want[1:]
		}
	}
	if !strings.Contains(got, st.ID) {
		t.Fatalf("events do not name the stream: %q", got)
	}
}

// Every route the API serves is described in the OpenAPI document.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	routes := map[string][]string{
		"/v2/video/{cloud_name}/live_streams":                          {"get", "post"},
		"/v2/video/{cloud_name}/live_streams/{id}":                     {"get", "patch", "delete"},
		"/v2/video/{cloud_name}/live_streams/{id}/activate":            {"post"},
		"/v2/video/{cloud_name}/live_streams/{id}/idle":                {"post"},
		"/v2/video/{cloud_name}/live_streams/{id}/reset_stream_key":    {"post"},
		"/v2/video/{cloud_name}/live_streams/{id}/stats/history":       {"get"},
		"/v2/video/{cloud_name}/live_streams/{id}/thumbnail.jpg":       {"get"},
		"/v2/video/{cloud_name}/assets/{public_id}/poster.jpg":         {"get"},
		"/v2/video/{cloud_name}/assets/{public_id}/clips":              {"post"},
		"/v2/video/{cloud_name}/live_streams/{id}/outputs":             {"get", "post"},
		"/v2/video/{cloud_name}/live_streams/{id}/outputs/{output_id}": {"get", "patch", "delete"},
		"/v2/video/{cloud_name}/assets":                                {"get"},
		"/v2/video/{cloud_name}/obs":                                   {"get", "patch"},
		"/v2/video/{cloud_name}/settings":                              {"get", "patch"},
		"/v2/video/{cloud_name}/settings/storage":                      {"get", "patch"},
		"/v2/video/{cloud_name}/settings/storage/test":                 {"post"},
		"/v2/video/{cloud_name}/live_streams/{id}/obs/setup":           {"post"},
		"/v2/video/{cloud_name}/live_streams/{id}/obs/start":           {"post"},
		"/v2/video/{cloud_name}/live_streams/{id}/obs/stop":            {"post"},
		"/v2/video/{cloud_name}/assets/{public_id}":                    {"get", "delete"},
		"/v2/video/{cloud_name}/assets/{public_id}/file":               {"get"},
		"/v2/video/{cloud_name}/events":                                {"get"},
		"/v2/video/{cloud_name}/live_streams/{id}/preview_token":       {"post"},
		"/v2/video/{cloud_name}/live_streams/{id}/whep":                {"post"},
		"/v2/video/{cloud_name}/live_streams/{id}/whep/{session_id}":   {"delete"},
		"/v2/video/{cloud_name}/webhooks":                              {"get", "post"},
		"/v2/video/{cloud_name}/webhooks/{webhook_id}":                 {"get", "patch", "delete"},
		"/v2/video/{cloud_name}/status":                                {"get"},
		"/metrics":                                                     {"get"},
		"/healthz":                                                     {"get"},
		"/openapi.json":                                                {"get"},
		"/hls/{id}/{file}":                                             {"get"},
		"/watch/{id}":                                                  {"get"},
		"/preview/{id}":                                                {"get"},
		"/web/{file}":                                                  {"get"},
	}
	for path, methods := range routes {
		for _, m := range methods {
			if _, ok := doc.Paths[path][m]; !ok {
				t.Errorf("OpenAPI lacks %s %s", m, path)
			}
		}
	}
	if len(doc.Paths) != len(routes) {
		t.Errorf("OpenAPI has %d paths, the API %d", len(doc.Paths), len(routes))
	}
}

// FuzzCreateBody: whatever the body, the API answers 201 or a 4xx, never a
// 5xx, and a refused body changes nothing.
func FuzzCreateBody(f *testing.F) {
	for _, seed := range []string{`{"input":{"type":"rtmp"}}`, `{"input":{"type":"rtmp"},"name":"x","idle_timeout_sec":5}`,
		`{"input":`, `[]`, `{"name":1}`, `{"input":{"type":"rtmp"},"max_runtime_sec":1e400}`, "\x00", `{"input":{"type":"rtmp"}}{}`} {
		f.Add(seed)
	}
	// One studio for every input (a fresh store per input would cost more
	// than the request); a created stream is deleted again.
	fx := newFixtureWith(f, nil)
	f.Fuzz(func(t *testing.T, body string) {
		fx.t = t
		before := fx.snapshot()
		a := fx.do("POST", "/live_streams", "application/json", body, true)
		switch {
		case a.code == 201:
			var st struct{ ID string }
			if err := json.Unmarshal(a.Data, &st); err != nil || st.ID == "" {
				t.Fatalf("%q: 201 without a stream: %s", body, a.Data)
			}
			if err := fx.eng.Delete(st.ID); err != nil {
				t.Fatal(err)
			}
		case a.code >= 400 && a.code < 500:
			if a.Error == nil || a.Error.Message == "" {
				t.Fatalf("%q: %d without a message", body, a.code)
			}
			if fx.snapshot() != before {
				t.Fatalf("%q was refused but changed the store", body)
			}
		default:
			t.Fatalf("%q answered %d", body, a.code)
		}
	})
}
