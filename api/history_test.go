package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// GET …/stats/history: 409 while the stream is idle, 400 for a bad
// seconds (naming it), 404 for an unknown stream; once active, a sample a
// second (the engine's sampler), at most seconds of them, oldest first.
func TestStatsHistoryOverHTTP(t *testing.T) {
	f := newFixture(t)
	a := f.do("POST", "/live_streams", "application/json", `{"input":{"type":"rtmp"},"name":"Show"}`, true)
	if a.code != 201 {
		t.Fatalf("create: %d %+v", a.code, a.Error)
	}
	var st struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(a.Data, &st); err != nil {
		t.Fatal(err)
	}
	path := "/live_streams/" + st.ID + "/stats/history"
	if a := f.do("GET", path, "", "", true); a.code != 409 || !strings.Contains(a.Error.Message, "idle") {
		t.Fatalf("idle: %d %+v", a.code, a.Error)
	}
	for _, bad := range []string{"0", "-1", "301", "abc", "1.5", "99999999999999999999"} {
		if a := f.do("GET", path+"?seconds="+bad, "", "", true); a.code != 400 || !strings.Contains(a.Error.Message, "seconds") {
			t.Errorf("seconds=%s: %d %+v", bad, a.code, a.Error)
		}
	}
	if a := f.do("GET", "/live_streams/0123456789abcdef0123456789abcdef/stats/history", "", "", true); a.code != 404 {
		t.Errorf("unknown stream: %d", a.code)
	}
	if a := f.do("GET", path, "", "", false); a.code != 401 {
		t.Errorf("without credentials: %d", a.code)
	}
	if a := f.do("POST", "/live_streams/"+st.ID+"/activate", "", "", true); a.code != 200 {
		t.Fatalf("activate: %d", a.code)
	}
	type history struct {
		IntervalSec int `json:"interval_sec"`
		Samples     []struct {
			At         int64   `json:"at"`
			Publishing bool    `json:"publishing"`
			Bitrate    float64 `json:"bitrate_kbps"`
		} `json:"samples"`
	}
	var h history
	deadline := time.Now().Add(10 * time.Second)
	for len(h.Samples) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d samples after 10 s", len(h.Samples))
		}
		time.Sleep(500 * time.Millisecond)
		a := f.do("GET", path, "", "", true)
		if a.code != 200 {
			t.Fatalf("active: %d %+v", a.code, a.Error)
		}
		if err := json.Unmarshal(a.Data, &h); err != nil {
			t.Fatal(err)
		}
	}
	if h.IntervalSec != 1 {
		t.Errorf("interval_sec %d", h.IntervalSec)
	}
	for i, s := range h.Samples {
		if s.Publishing || s.Bitrate != 0 {
			t.Errorf("sample %d without an encoder: %+v", i, s)
		}
		if i > 0 && s.At-h.Samples[i-1].At < 500 {
			t.Errorf("samples %d and %d are %d ms apart", i-1, i, s.At-h.Samples[i-1].At)
		}
	}
	a = f.do("GET", path+"?seconds=2", "", "", true)
	var two history
	if err := json.Unmarshal(a.Data, &two); err != nil || len(two.Samples) != 2 {
		t.Fatalf("seconds=2: %d samples, %v", len(two.Samples), err)
	}
	if last := h.Samples[len(h.Samples)-1].At; two.Samples[1].At < last {
		t.Errorf("seconds=2 did not give the newest: %d before %d", two.Samples[1].At, last)
	}
}
