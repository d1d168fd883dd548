package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/webhook"
)

// receiver is a webhook receiver on a fixed loopback address, which a test
// can take down and bring back.
type receiver struct {
	t      *testing.T
	addr   string
	secret string
	mu     sync.Mutex
	events []hookEvent
	ids    map[string]int // deliveries per event id
	bad    int            // deliveries whose signature did not verify
	srv    *http.Server
}

type hookEvent struct {
	ID, Type, StreamID string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, addr: freePort(t), ids: map[string]int{}}
	r.up()
	t.Cleanup(r.down)
	return r
}

func (r *receiver) up() {
	r.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port was ours a moment ago
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.handle)}
	go r.srv.Serve(ln)
}

func (r *receiver) down() {
	if r.srv != nil {
		r.srv.Close()
		r.srv = nil
	}
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !webhook.Verify(r.secret, req.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute) {
		r.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	// A wrong secret would not verify the same delivery.
	if webhook.Verify(r.secret+"x", req.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute) {
		r.t.Error("a delivery verifies with a wrong secret")
	}
	var ev struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		StreamID string `json:"live_stream_id"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID != req.Header.Get(webhook.HeaderEventID) {
		r.t.Errorf("delivery body %s (event id header %q): %v", body, req.Header.Get(webhook.HeaderEventID), err)
	}
	r.ids[ev.ID]++
	if r.ids[ev.ID] == 1 { // receivers drop repeats by the event id
		r.events = append(r.events, hookEvent{ev.ID, ev.Type, ev.StreamID})
	}
	w.WriteHeader(http.StatusNoContent)
}

// types returns the types received for stream id, in order.
func (r *receiver) types(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.StreamID == id && !strings.HasPrefix(e.Type, "output.") && !strings.HasPrefix(e.Type, "asset.") {
			out = append(out, e.Type)
		}
	}
	return out
}

func (r *receiver) waitTypes(t *testing.T, id string, want []string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := r.types(id)
		if strings.Join(got, " ") == strings.Join(want, " ") {
			return
		}
		if time.Now().After(deadline) || len(got) > len(want) {
			t.Fatalf("events of %s: %v, want %v", id, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWebhooksFullSessionAndOutage: a receiver gets every event of a
// session in order, signed; with the receiver down for 20 s and the studio
// killed and restarted meanwhile, every event arrives once it is back,
// none twice (of those the studio had recorded as delivered before).
func TestWebhooksFullSessionAndOutage(t *testing.T) {
	clip := mediatest.Clip{Width: 320, Height: 240, FPS: 25, Seconds: 4, VideoKbps: 400, AudioKbps: 64}.Path(t)
	data := t.TempDir()
	p := startServe(t, data, "", "")
	rcv := newReceiver(t)
	var hook struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if code, msg := p.call("POST", "/webhooks", map[string]any{"url": "http://" + rcv.addr + "/hooks"}, &hook); code != 201 || !strings.HasPrefix(hook.Secret, "whsec_") {
		t.Fatalf("creating the webhook: %d %s", code, msg)
	}
	rcv.mu.Lock()
	rcv.secret = hook.Secret
	rcv.mu.Unlock()

	// A full session: create, publish (ffmpeg), active, the encoder leaves,
	// idle, delete.
	st := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "idle_timeout_sec": 1})
	pub := mediatest.Publish(t, clip, "rtmp://"+p.rtmpAddr+"/live/"+st.Input.StreamKey, false)
	if err, ok := pub.Wait(30 * time.Second); !ok || err != nil {
		t.Fatalf("ffmpeg: %v %v %s", err, ok, pub.Output())
	}
	p.waitStatus(st.ID, "idle", 15*time.Second)
	if code, msg := p.call("DELETE", "/live_streams/"+st.ID, nil, nil); code != 200 {
		t.Fatalf("delete: %d %s", code, msg)
	}
	rcv.waitTypes(t, st.ID, []string{"live_stream.created", "live_stream.active", "live_stream.connected",
		"live_stream.disconnected", "live_stream.idle", "live_stream.deleted"}, 15*time.Second)

	// Those deliveries recorded (nothing queued) before the crash below: an
	// event the receiver got but the studio had not yet recorded is, after
	// a kill -9, rightly sent again with the same event id.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var v struct {
			Queued int `json:"queued"`
		}
		if code, msg := p.call("GET", "/webhooks/"+hook.ID, nil, &v); code != 200 {
			t.Fatalf("webhook: %d %s", code, msg)
		}
		if v.Queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still queued 10 s after the receiver got them", v.Queued)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The receiver goes down; events happen; the studio is killed and
	// started again; the receiver comes back 20 s after it went down.
	rcv.down()
	downAt := time.Now()
	st2 := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "name": "During the outage"})
	if code, msg := p.call("PATCH", "/live_streams/"+st2.ID, map[string]any{"name": "Renamed in the outage"}, nil); code != 200 {
		t.Fatalf("rename: %d %s", code, msg)
	}
	if code, msg := p.call("POST", "/live_streams/"+st2.ID+"/reset_stream_key", nil, nil); code != 200 {
		t.Fatalf("reset key: %d %s", code, msg)
	}
	p.kill9() // right after the answers: the events must be in the outbox already
	p = startServe(t, data, p.httpAddr, p.rtmpAddr)
	if code, msg := p.call("DELETE", "/live_streams/"+st2.ID, nil, nil); code != 200 {
		t.Fatalf("delete: %d %s", code, msg)
	}
	time.Sleep(time.Until(downAt.Add(20 * time.Second)))
	if n := len(rcv.types(st2.ID)); n != 0 {
		t.Fatalf("%d events arrived while the receiver was down", n)
	}
	rcv.up()
	rcv.waitTypes(t, st2.ID, []string{"live_stream.created", "live_stream.updated", "live_stream.key_reset", "live_stream.deleted"}, 90*time.Second)

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.bad != 0 {
		t.Errorf("%d deliveries did not verify", rcv.bad)
	}
	for id, n := range rcv.ids {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	// The outcomes are visible through the API.
	var got struct {
		Deliveries []struct {
			Outcome string `json:"outcome"`
			Error   string `json:"error"`
		} `json:"recent_deliveries"`
	}
	if code, msg := p.call("GET", "/webhooks/"+hook.ID, nil, &got); code != 200 || len(got.Deliveries) == 0 {
		t.Fatalf("webhook: %d %s", code, msg)
	}
	outcomes := map[string]int{}
	for _, d := range got.Deliveries {
		outcomes[d.Outcome]++
	}
	if outcomes["delivered"] == 0 || outcomes["failed"] == 0 {
		t.Errorf("recent outcomes %v: want delivered and failed ones", outcomes)
	}
}

// TestWebhooksBadInput: URLs must be http(s), event filters known names;
// unknown ids answer 404; the secret is shown only at creation.
func TestWebhooksBadInput(t *testing.T) {
	p := startServe(t, t.TempDir(), "", "")
	for _, body := range []map[string]any{
		{"url": "ftp://example.com/x"}, {"url": "not a url"}, {}, {"url": "http://127.0.0.1:9/x", "events": []string{"live_stream.exploded"}},
	} {
		if code, msg := p.call("POST", "/webhooks", body, nil); code != 400 {
			t.Errorf("%v: %d %s", body, code, msg)
		}
	}
	var hook struct {
		ID     string   `json:"id"`
		Secret string   `json:"secret"`
		Events []string `json:"events"`
	}
	if code, msg := p.call("POST", "/webhooks", map[string]any{"url": "http://127.0.0.1:9/x", "events": []string{"live_stream.active"}}, &hook); code != 201 {
		t.Fatalf("%d %s", code, msg)
	}
	var again struct {
		Secret string `json:"secret"`
	}
	if code, _ := p.call("GET", "/webhooks/"+hook.ID, nil, &again); code != 200 || again.Secret != "" {
		t.Errorf("GET shows the secret: %q", again.Secret)
	}
	if code, _ := p.call("GET", "/webhooks/wh_nope", nil, nil); code != 404 {
		t.Errorf("unknown webhook: %d", code)
	}
	if code, _ := p.call("DELETE", "/webhooks/"+hook.ID, nil, nil); code != 200 {
		t.Errorf("delete: %d", code)
	}
	if code, _ := p.call("DELETE", "/webhooks/"+hook.ID, nil, nil); code != 404 {
		t.Errorf("second delete: %d", code)
	}
}
