package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/onair-studio/onair/engine"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/output"
	"github.com/onair-studio/onair/engine/output/hls"
	"github.com/onair-studio/onair/store"
)

// page is the shape of a list answer's data.
type page struct {
	Items      []streamView `json:"items"`
	NextCursor string       `json:"next_cursor,omitempty"`
	Total      int          `json:"total_count"`
}

// The list and GET answers, written around cached views, are what
// encoding/json makes of the views, also after changes.
func TestCachedViewsMatchEncoding(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "onair.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng := &engine.Service{Repo: st, RTMPURL: "rtmp://127.0.0.1:1935/live", HTTPURL: "http://127.0.0.1:8935", Outputs: output.Factories{livestream.OutputHLS: &hls.Factory{BaseURL: "http://127.0.0.1:8935"}}, Logger: quiet}
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	a := &Server{Engine: eng, Credentials: func() (string, string) { return "k", "s" }, Logger: quiet}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	typ := "rtmp"
	for range 5 {
		if _, err := eng.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: &typ}}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(path string) json.RawMessage {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/video/local"+path, nil)
		req.SetBasicAuth("k", "s")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, err)
		}
		return env.Data
	}
	same := func(what string, got json.RawMessage, want any) {
		t.Helper()
		wb, _ := json.Marshal(want)
		var g, w any
		json.Unmarshal(got, &g)
		json.Unmarshal(wb, &w)
		// Active streams carry live stats, which are not cached: check they
		// are there, then compare the rest.
		stripStats(t, g)
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("%s:\ngot  %s\nwant %s", what, got, wb)
		}
	}
	check := func() {
		all, _ := eng.List()
		items, total, more, _ := eng.ListPage(nil, 3)
		want := page{Total: total}
		for _, st := range items {
			want.Items = append(want.Items, viewStream(st, false))
		}
		if more {
			last := items[len(items)-1]
			want.NextCursor = encodeCursor(livestream.ListPosition{CreatedAt: last.CreatedAt, ID: last.ID})
		}
		same("page", get("/live_streams?max_results=3"), want)
		same("whole list", get("/live_streams?max_results=10"), page{Items: views(all), Total: len(all)})
		same("one stream", get("/live_streams/"+all[0].ID), viewStream(all[0], false))
	}
	check()
	all, _ := eng.List()
	name := `renamed "quoted" <b>`
	if _, err := eng.Update(all[0].ID, livestream.UpdateParams{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Activate(all[1].ID); err != nil {
		t.Fatal(err)
	}
	check()
	if got := get("/live_streams/" + all[0].ID); !json.Valid(got) || !reflect.DeepEqual(decodeName(t, got), name) {
		t.Fatalf("GET after rename: %s", got)
	}
}

func views(sts []livestream.StreamState) []streamView {
	var out []streamView
	for _, st := range sts {
		out = append(out, viewStream(st, false))
	}
	return out
}

func decodeName(t *testing.T, b json.RawMessage) string {
	var v struct{ Name string }
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Name
}

// stripStats removes the stats object of active streams in a decoded view
// or page, failing when an active stream has none or an idle one has one.
func stripStats(t *testing.T, v any) {
	t.Helper()
	check := func(m map[string]any) {
		_, has := m["stats"]
		if active := m["status"] == "active"; active != has {
			t.Fatalf("stream %v (%v) has stats: %v", m["id"], m["status"], has)
		}
		delete(m, "stats")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	if items, ok := m["items"].([]any); ok {
		for _, it := range items {
			check(it.(map[string]any))
		}
		return
	}
	check(m)
}
