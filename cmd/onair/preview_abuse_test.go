package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pion/webrtc/v4"

	"github.com/onair-studio/onair/api"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/mediatest"
)

// TestStalePreviewTab: a preview page left open after its token expired
// stops trying and says the link expired; 30 failed token attempts from
// this computer do not lock out the owner's right credentials, for the API
// or for the window's preview.
func TestStalePreviewTab(t *testing.T) {
	s, st := previewStudio(t, mediatest.Preview)
	basic := func(r *http.Request) { r.SetBasicAuth(testKey, testSecret) }
	expired, _ := api.NewPreviewToken(testSecret, st.ID, time.Now().Add(-api.PreviewTokenTTL-time.Minute))
	offer := offerSDP(t, webrtc.MimeTypeH264)
	p := &proc{t: t, httpAddr: strings.TrimPrefix(s.HTTPURL(), "http://")}
	// The real page with the expired link, for 60 s: it stops at the first
	// 401 and says so, and the owner is still let in.
	ctx := chromium(t)
	if _, err := chromedp.Run(ctx, chromedp.Navigate(s.HTTPURL()+"/preview/"+st.ID+"#token="+expired)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Second)
	status, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status").textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status, "expired") || strings.Contains(status, "Trying again") {
		t.Errorf("after 60 s the page says %q; want that the link expired, and no retrying", status)
	}
	for i := range 30 {
		r, body := post(t, whepURL(s, st.ID), "application/sdp", offer, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+expired) })
		if r.StatusCode != http.StatusUnauthorized && r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("expired token, attempt %d: %d %s", i+1, r.StatusCode, body)
		}
	}
	if code, msg := p.call("GET", "/live_streams/"+st.ID, nil, nil); code != http.StatusOK {
		t.Fatalf("the owner's API call after 30 failed tokens: %d %s", code, msg)
	}
	r, body := post(t, whepURL(s, st.ID), "application/sdp", offer, basic)
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("the owner's preview (as the window asks for it) after 30 failed tokens: %d %s", r.StatusCode, body)
	}
	del(t, s.HTTPURL()+r.Header.Get("Location"), basic)
}

// TestPreviewTokenCannotTakeEverySession: 200 offers with one token get at
// most the per-token cap; the owner still gets a session of that stream
// and of another.
func TestPreviewTokenCannotTakeEverySession(t *testing.T) {
	s, st := previewStudio(t, mediatest.Preview)
	other, err := s.Engine().Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}})
	if err != nil {
		t.Fatal(err)
	}
	pub := mediatest.Publish(t, mediatest.Preview.Path(t), s.RTMPURL()+"/"+other.Input.StreamKey, true)
	t.Cleanup(pub.Stop)
	tok, _ := api.NewPreviewToken(testSecret, st.ID, time.Now())
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	offer := offerSDP(t, webrtc.MimeTypeH264)
	ok := 0
	for range 200 {
		r, body := post(t, whepURL(s, st.ID), "application/sdp", offer, bearer)
		switch r.StatusCode {
		case http.StatusCreated:
			ok++
		case http.StatusConflict:
		default:
			t.Fatalf("an offer with the token: %d %s", r.StatusCode, body)
		}
	}
	if ok == 0 || ok > 4 {
		t.Errorf("%d of 200 offers with one token got a session; want 1..4 (the per-token cap)", ok)
	}
	// Sessions that never connected are not viewers.
	if v, _, _ := s.Preview().StreamStats(st.ID); v != 0 {
		t.Errorf("stats.preview.viewers is %d with %d sessions that never connected", v, ok)
	}
	basic := func(r *http.Request) { r.SetBasicAuth(testKey, testSecret) }
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, live, _ := s.Engine().Stats(other.ID); live {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second stream did not go live: %s", pub.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, id := range []string{st.ID, other.ID} {
		if r, body := post(t, whepURL(s, id), "application/sdp", offer, basic); r.StatusCode != http.StatusCreated {
			t.Errorf("the owner's offer for %s: %d %s", id, r.StatusCode, body)
		}
	}
}
