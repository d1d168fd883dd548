package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

func TestStateSurvivesCleanStopAndKill9(t *testing.T) {
	clip := mediatest.Small.Path(t)
	data := t.TempDir()
	p := startServe(t, data, "", "")

	a := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "name": "Main show", "idle_timeout_sec": 5})
	b := p.create(map[string]any{"input": map[string]any{"type": "rtmp"}, "max_runtime_sec": 600})
	if code, msg := p.call("PATCH", "/live_streams/"+b.ID, map[string]any{"name": "Renamed"}, nil); code != 200 {
		t.Fatalf("patch: %d %s", code, msg)
	}
	var sim outputJSON
	if code, msg := p.call("POST", "/live_streams/"+a.ID+"/outputs", map[string]any{
		"type": "simulcast", "uri": "rtmp://127.0.0.1:9/live2", "stream_key": "yt-key", "vendor": "youtube"}, &sim); code != 201 {
		t.Fatalf("add simulcast: %d %s", code, msg)
	}
	var b2 streamJSON
	if code, msg := p.call("POST", "/live_streams/"+b.ID+"/reset_stream_key", nil, &b2); code != 200 {
		t.Fatalf("reset: %d %s", code, msg)
	}

	// Clean stop, then everything is back.
	p.stop()
	p = startServe(t, data, "", "")
	gotA, gotB := p.get(a.ID), p.get(b.ID)
	if gotA.Name != "Main show" || gotA.Input.StreamKey != a.Input.StreamKey || gotA.IdleTimeoutSec != 5 || len(gotA.Outputs) != 3 {
		t.Fatalf("stream A after restart: %+v", gotA)
	}
	if gotB.Name != "Renamed" || gotB.Input.StreamKey != b2.Input.StreamKey || gotB.MaxRuntimeSec != 600 || gotA.Status != "idle" {
		t.Fatalf("stream B after restart: %+v", gotB)
	}

	// kill -9 in the middle of traffic: a publisher on A and API writes.
	pub := mediatest.Publish(t, clip, gotA.Input.URI+"/"+gotA.Input.StreamKey, true)
	p.waitStatus(a.ID, "active", 15*time.Second)
	var mu sync.Mutex
	var created []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		client := &http.Client{Timeout: 5 * time.Second}
		for range 20000 { // bounded; the kill comes long before the end
			select {
			case <-stop:
				return
			default:
			}
			req, _ := http.NewRequest(http.MethodPost, p.base()+"/live_streams", bytes.NewReader([]byte(`{"input":{"type":"rtmp"}}`)))
			req.Header.Set("Content-Type", "application/json")
			req.SetBasicAuth(testKey, testSecret)
			resp, err := client.Do(req)
			if err != nil {
				return // the server is gone
			}
			var env struct {
				Data streamJSON `json:"data"`
			}
			json.NewDecoder(resp.Body).Decode(&env)
			resp.Body.Close()
			if resp.StatusCode == http.StatusCreated {
				mu.Lock()
				created = append(created, env.Data.ID)
				mu.Unlock()
			}
		}
	})
	time.Sleep(1500 * time.Millisecond)
	p.kill9()
	close(stop)
	wg.Wait()
	pub.Stop()
	if len(created) < 3 {
		t.Fatalf("only %d streams were created before the kill", len(created))
	}

	p = startServe(t, data, "", "")
	for _, id := range append(created, a.ID, b.ID) {
		if code, msg := p.call("GET", "/live_streams/"+id, nil, nil); code != 200 {
			t.Fatalf("stream %s answered as created is gone after kill -9: %d %s", id, code, msg)
		}
	}
	if st := p.get(a.ID); st.Status != "idle" {
		t.Fatalf("after a restart the stream should be idle, is %s", st.Status)
	}
	// The same stream key still publishes.
	mediatest.Publish(t, clip, "rtmp://"+p.rtmpAddr+"/live/"+gotA.Input.StreamKey, true)
	p.waitStatus(a.ID, "active", 15*time.Second)
	t.Logf("%d streams created under traffic, all present after kill -9", len(created))
}
