package ui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/webhook"
)

// In Settings a webhook is added by typing its URL; its secret is shown
// once, it receives the next event signed with it, and the list shows the
// delivery; Remove (confirmed) removes it; a bad URL is refused in place.
func TestSettingsWebhooks(t *testing.T) {
	var mu sync.Mutex
	var secret string
	var got []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), b, time.Now(), 300e9) {
			got = append(got, string(b))
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	h := newHarness(t)
	h.ui(func() { h.v.showSettings() })
	h.eventually("the webhooks section", func() bool { return h.shows("No webhooks yet.") })

	h.typeInto(h.v.settings.hooks.url.entry, "ftp://nowhere")
	h.tap("Add webhook")
	h.eventually("a bad URL is refused", func() bool { return h.shows("must be an http:// or https:// URL") })

	h.typeInto(h.v.settings.hooks.url.entry, rcv.URL+"/hook")
	h.tap("Add webhook")
	h.eventually("the secret is shown once", func() bool { return strings.Contains(h.textLocked(), "whsec_") })
	list := h.studio.hooks.List()
	if len(list) != 1 {
		t.Fatalf("webhooks: %d", len(list))
	}
	_, ds, _ := h.studio.hooks.Get(list[0].ID)
	if len(ds) != 0 {
		t.Fatal("deliveries before any event")
	}
	var shown string
	h.ui(func() {
		for line := range strings.SplitSeq(h.textLocked(), "\n") {
			if strings.HasPrefix(line, "whsec_") && len(line) > len(shown) {
				shown = line // the label's text, not one of its wrapped lines
			}
		}
	})
	mu.Lock()
	secret = shown
	mu.Unlock()
	h.tap("Done")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret shown: %q", secret)
	}
	st := h.createByTyping("Webhook show")
	defer func() {
		if t.Failed() {
			_, ds, err := h.studio.hooks.Get(list[0].ID)
			t.Logf("secret %q deliveries %+v %v counts %+v", secret, ds, err, h.studio.hooks.Counts())
		}
	}()
	h.eventually("the receiver got live_stream.created, signed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0 && strings.Contains(got[0], `"type":"live_stream.created"`) && strings.Contains(got[0], st.ID)
	})
	h.ui(func() { h.v.showSettings() })
	h.eventually("the delivery is listed", func() bool { return h.shows("live_stream.created delivered (204)") })
	h.tap("Remove")
	h.tap("Yes")
	h.eventually("removed", func() bool { return h.shows("No webhooks yet.") && len(h.studio.hooks.List()) == 0 })
}

// The stream page shows how many HLS players watch.
func TestStreamPageShowsHLSViewers(t *testing.T) {
	mediatest.RequireTools(t)
	clip := mediatest.Small.Path(t)
	h := newHarness(t)
	st := h.createByTyping("Viewers show")
	mediatest.Publish(t, clip, h.studio.rtmp+"/"+st.Input.StreamKey, true)
	h.within(15*time.Second, "no viewers yet", func() bool { return h.shows("HLS viewers: 0") })
	uri := st.OutputURI(livestream.OutputHLS)
	for _, ua := range []string{"player-one", "player-two"} {
		req, _ := http.NewRequest(http.MethodGet, uri, nil)
		req.Header.Set("User-Agent", ua)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	h.within(5*time.Second, "two viewers", func() bool { return h.shows("HLS viewers: 2") })
}
