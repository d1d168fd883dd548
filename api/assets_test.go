package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/api"
	"github.com/onair-studio/onair/engine/library"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/store"
)

// The asset routes over a real library: pages newest first with cursors,
// one asset with its download URL, ranges, the stream filter, refused ids,
// and deletes (409 while recording).
func TestAssetsOverHTTP(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "assets.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lib := &library.Library{Folder: filepath.Join(dir, "library"), Repo: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := lib.Start(); err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, func(s *api.Server) { s.Assets = lib })
	sid := strings.Repeat("a", 32)
	base := time.Date(2026, 12, 1, 8, 0, 0, 0, time.Local)
	var ids []string
	for i := range 3 {
		file, a, err := lib.Create(sid, "show", base.Add(time.Duration(i)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		file.WriteString("0123456789abcdef")
		file.Close()
		ids = append(ids, a.PublicID)
		if i < 2 {
			a.Status, a.Bytes, a.Duration = livestream.AssetReady, 16, 1500*time.Millisecond
			if err := lib.Finish(a); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Two pages of two, newest first.
	var page struct {
		Items []struct {
			PublicID string  `json:"public_id"`
			Status   string  `json:"status"`
			Duration float64 `json:"duration"`
			URL      string  `json:"url"`
			EndedAt  *int64  `json:"ended_at"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
		TotalCount int    `json:"total_count"`
	}
	a := f.do("GET", "/assets?max_results=2", "", "", true)
	if a.code != 200 || json.Unmarshal(a.Data, &page) != nil || page.TotalCount != 3 || len(page.Items) != 2 || page.NextCursor == "" {
		t.Fatalf("first page: %d %s", a.code, a.Data)
	}
	if page.Items[0].PublicID != ids[2] || page.Items[0].Status != "recording" || page.Items[0].EndedAt != nil || page.Items[1].PublicID != ids[1] {
		t.Errorf("first page order: %s", a.Data)
	}
	a = f.do("GET", "/assets?max_results=2&next_cursor="+page.NextCursor, "", "", true)
	page.NextCursor = ""
	if json.Unmarshal(a.Data, &page) != nil || len(page.Items) != 1 || page.Items[0].PublicID != ids[0] || page.NextCursor != "" {
		t.Fatalf("second page: %s", a.Data)
	}
	if page.Items[0].Duration != 1.5 || !strings.HasSuffix(page.Items[0].URL, "/v2/video/local/assets/"+ids[0]+"/file") {
		t.Errorf("asset view: %s", a.Data)
	}
	if a = f.do("GET", "/assets?live_stream_id="+strings.Repeat("b", 32), "", "", true); !strings.Contains(string(a.Data), `"total_count":0`) {
		t.Errorf("filter: %s", a.Data)
	}

	// The file, whole and in part.
	get := func(path, rng string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, f.base+path, nil)
		req.SetBasicAuth(key, secret)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/assets/"+ids[0]+"/file", ""); code != 200 || body != "0123456789abcdef" {
		t.Errorf("file: %d %q", code, body)
	}
	if code, body := get("/assets/"+ids[0]+"/file", "bytes=4-7"); code != http.StatusPartialContent || body != "4567" {
		t.Errorf("range: %d %q", code, body)
	}
	if code, _ := get("/assets/"+ids[0]+"/file", "bytes=99-"); code != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("range outside: %d", code)
	}
	// Many ranges: a few are served, thousands of one-byte parts are refused.
	if code, body := get("/assets/"+ids[0]+"/file", "bytes=0-0,2-2,4-4"); code != http.StatusPartialContent || !strings.Contains(body, "multipart") && !strings.Contains(body, "--") {
		t.Errorf("three ranges: %d %q", code, body)
	}
	many := make([]string, 5000)
	for i := range many {
		many[i] = "0-0"
	}
	if code, body := get("/assets/"+ids[0]+"/file", "bytes="+strings.Join(many, ",")); code != http.StatusRequestedRangeNotSatisfiable || len(body) > 1000 {
		t.Errorf("5,000 ranges: %d, %d bytes", code, len(body))
	}

	// Refused ids and queries change nothing.
	for _, q := range []string{"/assets/..%2Fonair.db", "/assets/%2Fetc%2Fpasswd/file", "/assets/a%5Cb", "/assets/a%00b", "/assets/.hidden",
		"/assets?max_results=0", "/assets?live_stream_id=x", "/assets?next_cursor=zz"} {
		if a := f.do("GET", q, "", "", true); a.code != 400 {
			t.Errorf("GET %s: %d", q, a.code)
		}
	}
	if a := f.do("GET", "/assets/nothing_here", "", "", true); a.code != 404 {
		t.Errorf("unknown: %d", a.code)
	}
	if a := f.do("GET", "/assets", "", "", false); a.code != 401 {
		t.Errorf("without credentials: %d", a.code)
	}
	if a := f.do("DELETE", "/assets/"+ids[2], "", "", true); a.code != 409 {
		t.Errorf("delete while recording: %d", a.code)
	}
	path := filepath.Join(lib.Dir(), ids[0]+".mp4")
	if a := f.do("DELETE", "/assets/"+ids[0], "", "", true); a.code != 200 {
		t.Errorf("delete: %d %s", a.code, a.Data)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("file after delete: %v", err)
	}
	if a := f.do("GET", "/assets/"+ids[0], "", "", true); a.code != 404 {
		t.Errorf("deleted: %d", a.code)
	}
}
