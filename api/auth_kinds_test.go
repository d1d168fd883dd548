package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/api"
	"github.com/onair-studio/onair/engine/livestream"
)

// from sends one request from addr through the API's handler.
func (f *fixture) from(addr, method, path, authz string, basic bool) int {
	req := httptest.NewRequest(method, f.base+path, strings.NewReader("v=0\r\n"))
	req.RemoteAddr = addr + ":40000"
	req.Header.Set("Content-Type", "application/sdp")
	if basic {
		req.SetBasicAuth(key, authz)
	} else if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	rec := httptest.NewRecorder()
	f.srv.Config.Handler.ServeHTTP(rec, req)
	return rec.Code
}

// Failures of one kind never slow down the other: wrong or expired
// preview tokens (a stale tab) leave the right API credentials alone, and
// a right token does not wipe out a count of wrong passwords. The Bearer
// scheme is case-insensitive.
func TestLoginFailuresByKind(t *testing.T) {
	f := newFixture(t)
	st, err := f.eng.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}})
	if err != nil {
		t.Fatal(err)
	}
	whep := "/live_streams/" + st.ID + "/whep"
	expired, _ := api.NewPreviewToken(secret, st.ID, time.Now().Add(-api.PreviewTokenTTL-time.Minute))
	good, _ := api.NewPreviewToken(secret, st.ID, time.Now())

	// A stale tab: 30 expired tokens from 127.0.0.1, then the owner.
	for range 30 {
		if code := f.from("127.0.0.1", "POST", whep, "Bearer "+expired, false); code != 401 && code != 429 {
			t.Fatalf("an expired token: %d", code)
		}
	}
	if code := f.from("127.0.0.1", "GET", "/live_streams/"+st.ID, secret, true); code != 200 {
		t.Errorf("the owner's right credentials after 30 expired tokens: %d, want 200", code)
	}
	if code := f.from("127.0.0.1", "POST", whep, secret, true); code == 401 || code == 429 {
		t.Errorf("the owner's preview after 30 expired tokens: %d", code)
	}

	// 9 wrong passwords, a right token, 1 wrong: the address is slowed.
	for range 9 {
		f.from("127.0.0.2", "GET", "/live_streams", "wrong", true)
	}
	if code := f.from("127.0.0.2", "POST", whep, "bearer "+good, false); code == 401 || code == 429 {
		t.Errorf("a right token with a lower-case scheme: %d", code)
	}
	f.from("127.0.0.2", "GET", "/live_streams", "wrong", true)
	if code := f.from("127.0.0.2", "GET", "/live_streams", "wrong", true); code != http.StatusTooManyRequests {
		t.Errorf("10 wrong passwords around a right token: %d, want 429", code)
	}
}
