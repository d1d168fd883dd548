package main

import (
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSlowReceiverDelaysOnlyItself: one receiver accepts and never
// answers, another answers at once, both for live_stream.created; of 20
// streams created, the healthy receiver has all 20 within 5 s.
func TestSlowReceiverDelaysOnlyItself(t *testing.T) {
	p := startServe(t, t.TempDir(), "", "")
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	var got atomic.Int64
	healthy := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) })}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go healthy.Serve(hl)
	defer healthy.Close()
	for _, u := range []string{"http://" + hung.Addr().String() + "/hook", "http://" + hl.Addr().String() + "/hook"} {
		if code, msg := p.call("POST", "/webhooks", map[string]any{"url": u, "events": []string{"live_stream.created"}}, nil); code != 201 {
			t.Fatalf("creating a webhook: %d %s", code, msg)
		}
	}
	start := time.Now()
	for range 20 {
		p.create(map[string]any{"input": map[string]any{"type": "rtmp"}})
	}
	for got.Load() < 20 {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("the healthy receiver has %d of 20 events after 5 s", got.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the healthy receiver had all 20 after %v", time.Since(start).Round(time.Millisecond))
}

// TestWebhookCap: the 21st webhook is refused with a 400 naming the cap;
// an empty event filter and link-local receivers are refused; a URL's
// password is not shown.
func TestWebhookCap(t *testing.T) {
	p := startServe(t, t.TempDir(), "", "")
	for i := range 20 {
		if code, msg := p.call("POST", "/webhooks", map[string]any{"url": "http://user:hunter2@127.0.0.1:9/" + strings.Repeat("x", i)}, nil); code != 201 {
			t.Fatalf("webhook %d: %d %s", i+1, code, msg)
		}
	}
	if code, msg := p.call("POST", "/webhooks", map[string]any{"url": "http://127.0.0.1:9/21"}, nil); code != 400 || !strings.Contains(msg, "20") {
		t.Errorf("the 21st webhook: %d %s, want 400 naming the cap", code, msg)
	}
	var list struct {
		Items []struct {
			ID  string `json:"id"`
			URL string `json:"url"`
		} `json:"items"`
	}
	if code, msg := p.call("GET", "/webhooks", nil, &list); code != 200 || len(list.Items) != 20 {
		t.Fatalf("list: %d %s", code, msg)
	}
	for _, w := range list.Items {
		if strings.Contains(w.URL, "hunter2") {
			t.Errorf("GET /webhooks shows a password: %s", w.URL)
		}
	}
	if code, msg := p.call("DELETE", "/webhooks/"+list.Items[0].ID, nil, nil); code != 200 {
		t.Fatalf("delete: %d %s", code, msg)
	}
	for _, body := range []map[string]any{
		{"url": "http://169.254.169.254/latest/meta-data/"},
		{"url": "http://[fe80::1]/x"},
		{"url": "http://127.0.0.1:9/x", "events": []string{}},
	} {
		if code, msg := p.call("POST", "/webhooks", body, nil); code != 400 {
			t.Errorf("%v: %d %s, want 400", body, code, msg)
		}
	}
	if strings.Contains(p.logs.String(), "hunter2") {
		t.Error("the log shows a webhook URL's password")
	}
}
