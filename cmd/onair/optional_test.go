package main

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onair-studio/onair/cmd/onair/studio"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/mediatest"
)

// errWineUDP is what every UDP listener of the Windows build meets under
// Wine 8 (and behind some firewalls).
var errWineUDP = &net.OpError{Op: "listen", Net: "udp", Err: errors.New("wsaioctl: winapi error #10045")}

// The preview's UDP port cannot be opened on any address: the studio
// starts and serves without it, the status names the preview as down with
// the reason, WHEP says why, and RTMP → HLS works. Once UDP is allowed, a
// retry starts the preview without a restart.
func TestStudioServesWithoutThePreview(t *testing.T) {
	mediatest.RequireTools(t)
	clip := mediatest.Small.Path(t)
	t.Setenv("ONAIR_API_KEY", testKey)
	t.Setenv("ONAIR_API_SECRET", testSecret)
	var tried atomic.Int32
	var allowed atomic.Bool
	cfg := studio.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", RTMPAddr: "127.0.0.1:0", SRTAddr: "127.0.0.1:0",
		ListenUDP: func(network, addr string) (net.PacketConn, error) {
			if allowed.Load() {
				return net.ListenPacket(network, addr)
			}
			tried.Add(1)
			return nil, errWineUDP
		}}
	s, err := studio.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("the studio did not start without its preview: %v", err)
	}
	t.Cleanup(s.Close)
	if n := tried.Load(); n < 2 {
		t.Errorf("the preview tried %d addresses, want its own and another", n)
	}
	call := func(method, path string, out any) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, s.HTTPURL()+"/v2/video/"+s.CloudName()+path, nil)
		req.SetBasicAuth(testKey, testSecret)
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/sdp")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, b)
			}
		}
		return resp.StatusCode, string(b)
	}
	var status struct {
		Data struct {
			Parts []livestream.Part `json:"parts"`
		} `json:"data"`
	}
	if code, body := call("GET", "/status", &status); code != 200 {
		t.Fatalf("status: %d %s", code, body)
	}
	up := map[string]livestream.Part{}
	for _, p := range status.Data.Parts {
		up[p.Name] = p
	}
	if p := up["preview"]; p.Up || !strings.Contains(p.Reason, "10045") || !strings.Contains(p.Reason, "firewall") {
		t.Errorf("the preview's part: %+v", p)
	}
	for _, name := range []string{"store", "http", "rtmp", "srt"} {
		if !up[name].Up {
			t.Errorf("%s is down: %+v", name, up[name])
		}
	}

	st, err := s.Engine().Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := call("POST", "/live_streams/"+st.ID+"/whep", nil); code != http.StatusServiceUnavailable || !strings.Contains(body, "10045") {
		t.Errorf("WHEP without a preview: %d %s", code, body)
	}
	pub := mediatest.Publish(t, clip, s.RTMPURL()+"/"+st.Input.StreamKey, true)
	t.Cleanup(pub.Stop)
	_, pl := mediaPlaylist(t, st.OutputURI(livestream.OutputHLS), 20*time.Second)
	if !strings.Contains(pl, "#EXTINF") {
		t.Errorf("no segment in the playlist:\n%s", pl)
	}

	if err := s.RetryPreview(); err == nil || !strings.Contains(err.Error(), "10045") {
		t.Errorf("a retry while UDP is still refused: %v", err)
	}
	allowed.Store(true)
	if err := s.RetryPreview(); err != nil {
		t.Fatalf("a retry once UDP is allowed: %v", err)
	}
	var after struct {
		Data struct {
			Parts []livestream.Part `json:"parts"`
		} `json:"data"`
	}
	if code, body := call("GET", "/status", &after); code != 200 || !partUp(after.Data.Parts, "preview") {
		t.Errorf("after the retry: %d %s", code, body)
	}
	if code, body := call("POST", "/live_streams/"+st.ID+"/whep", nil); code == http.StatusServiceUnavailable {
		t.Errorf("WHEP after the retry: %d %s", code, body)
	}
}

func partUp(parts []livestream.Part, name string) bool {
	for _, p := range parts {
		if p.Name == name {
			return p.Up && p.Reason == ""
		}
	}
	return false
}

// Asked to serve beyond this computer with a certificate that cannot be
// loaded, the studio starts anyway and serves this computer only: the
// status names remote access as down with the reason, the API answers on
// 127.0.0.1, and nothing listens beyond loopback.
func TestStudioServesLocallyWithoutHTTPS(t *testing.T) {
	t.Setenv("ONAIR_API_KEY", testKey)
	t.Setenv("ONAIR_API_SECRET", testSecret)
	missing := filepath.Join(t.TempDir(), "missing")
	cfg := studio.Config{DataDir: t.TempDir(), HTTPAddr: "0.0.0.0:0", RTMPAddr: "127.0.0.1:0", SRTAddr: "off",
		TLSCert: missing + "/cert.pem", TLSKey: missing + "/key.pem"}
	s, err := studio.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("the studio did not start without HTTPS: %v", err)
	}
	t.Cleanup(s.Close)
	if !strings.HasPrefix(s.HTTPURL(), "http://127.0.0.1:") {
		t.Fatalf("the studio serves %s, want this computer only", s.HTTPURL())
	}
	req, _ := http.NewRequest(http.MethodGet, s.HTTPURL()+"/v2/video/"+s.CloudName()+"/status", nil)
	req.SetBasicAuth(testKey, testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var status struct {
		Data struct {
			Parts []livestream.Part `json:"parts"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&status); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status: %d %v", resp.StatusCode, err)
	}
	var remote *livestream.Part
	for i, p := range status.Data.Parts {
		if p.Name == "remote" {
			remote = &status.Data.Parts[i]
		}
	}
	if remote == nil || remote.Up || !strings.Contains(remote.Reason, "cert.pem") || !strings.Contains(remote.Reason, "serves this computer only") {
		t.Errorf("the remote-access part: %+v", remote)
	}
}
