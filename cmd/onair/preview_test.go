package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"

	"github.com/onair-studio/onair/cmd/onair/studio"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/picture"
	"github.com/onair-studio/onair/ui/player"
)

// previewStudio is an in-process studio with one stream that ffmpeg
// publishes clip to.
func previewStudio(t *testing.T, clip mediatest.Clip) (*studio.Studio, livestream.StreamState) {
	t.Helper()
	path := clip.Path(t)
	t.Setenv("ONAIR_API_KEY", testKey)
	t.Setenv("ONAIR_API_SECRET", testSecret)
	cfg := studio.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", RTMPAddr: "127.0.0.1:0", SRTAddr: "127.0.0.1:0"}
	s, err := studio.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	st, err := s.Engine().Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}})
	if err != nil {
		t.Fatal(err)
	}
	pub := mediatest.Publish(t, path, s.RTMPURL()+"/"+st.Input.StreamKey, true)
	t.Cleanup(pub.Stop)
	deadline := time.Now().Add(15 * time.Second)
	for {
		stats, live, _ := s.Engine().Stats(st.ID)
		if live && stats.FramesReceived > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ffmpeg did not start publishing: %s", pub.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s, st
}

func whepURL(s *studio.Studio, id string) string {
	return s.HTTPURL() + "/v2/video/local/live_streams/" + id + "/whep"
}

// TestPreviewWHEP: a pion peer gets decodable video within 4 s of the
// answer; DELETE ends the session and every goroutine of it.
func TestPreviewWHEP(t *testing.T) {
	s, st := previewStudio(t, mediatest.Preview)
	time.Sleep(200 * time.Millisecond) // let the studio's own goroutines settle
	leaks := goleak.IgnoreCurrent()

	c := player.Client{URL: whepURL(s, st.ID), Username: testKey, Password: testSecret}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := c.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	answered := time.Now()
	if n := s.Preview().Sessions(); n != 1 {
		t.Fatalf("sessions after the answer: %d, want 1", n)
	}

	dec, decErr := picture.NewDecoder()
	if decErr != nil {
		t.Logf("OpenH264 not available, counting whole access units only: %v", decErr)
	} else {
		defer dec.Close()
	}
	var pic picture.Picture
	frames, first := 0, true
	timeout := time.After(4*time.Second - time.Since(answered))
loop:
	for frames < 60 {
		select {
		case au, ok := <-sess.Units():
			if !ok {
				t.Fatal("the session ended early")
			}
			if first && !au.Key {
				t.Fatal("the first access unit is not a key frame")
			}
			first = false
			if dec == nil {
				frames++
				continue
			}
			got, err := dec.Decode(au.Data, &pic)
			if err != nil {
				t.Fatalf("access unit %d does not decode: %v", frames, err)
			}
			if got {
				frames++
				if pic.Width != 640 || pic.Height != 360 {
					t.Fatalf("picture %dx%d, want 640x360", pic.Width, pic.Height)
				}
			}
		case <-timeout:
			break loop
		}
	}
	t.Logf("%d pictures within %v of the answer", frames, time.Since(answered).Round(time.Millisecond))
	if frames < 60 {
		t.Fatalf("only %d decodable pictures within 4 s of the answer, want 60", frames)
	}
	if viewers, median, p95 := s.Preview().StreamStats(st.ID); viewers != 1 || median <= 0 || median > 100*time.Millisecond || p95 < median {
		t.Errorf("preview stats: %d viewers, send delays %v / %v", viewers, median, p95)
	}

	if err := sess.Close(); err != nil {
		t.Fatalf("DELETE: %v", err)
	}
	if n := s.Preview().Sessions(); n != 0 {
		t.Fatalf("sessions after DELETE: %d", n)
	}
	stats, _, _ := s.Engine().Stats(st.ID)
	if stats.BFrames {
		t.Error("a clip without B-frames is reported with B-frames")
	}
	goleak.VerifyNone(t, leaks)
}

// TestPreviewEndsWhenIdle: idling the stream ends its preview sessions.
func TestPreviewEndsWhenIdle(t *testing.T) {
	s, st := previewStudio(t, mediatest.Preview)
	c := player.Client{URL: whepURL(s, st.ID), Username: testKey, Password: testSecret}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := c.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	select {
	case <-sess.Units():
	case <-ctx.Done():
		t.Fatal("no video")
	}
	if _, err := s.Engine().Idle(st.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sess.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the viewer's session did not end when the stream went idle")
	}
	if n := s.Preview().Sessions(); n != 0 {
		t.Fatalf("sessions after idle: %d", n)
	}
}

// offerSDP makes an offer as a browser would, with only the given video codec.
func offerSDP(t *testing.T, mime string) string {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if mime == webrtc.MimeTypeOpus {
		if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 48000, Channels: 2}, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	} else if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000,
		SDPFmtpLine: map[bool]string{true: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}[mime == webrtc.MimeTypeH264]}, PayloadType: 102}, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	kind := webrtc.RTPCodecTypeVideo
	if mime == webrtc.MimeTypeOpus {
		kind = webrtc.RTPCodecTypeAudio
	}
	if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return o.SDP
}

// reply is what the studio answered: status, headers and body.
type reply struct {
	StatusCode int
	Header     http.Header
}

func post(t *testing.T, url, ctype, body string, auth func(*http.Request)) (reply, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != nil {
		auth(req)
	}
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return reply{resp.StatusCode, resp.Header}, string(b)
}

// TestPreviewBadInput: each bad offer gets a clear 4xx; 200 offers in a row
// leave no session, goroutine or socket behind.
func TestPreviewBadInput(t *testing.T) {
	s, st := previewStudio(t, mediatest.Preview)
	basic := func(r *http.Request) { r.SetBasicAuth(testKey, testSecret) }
	url := whepURL(s, st.ID)
	good := offerSDP(t, webrtc.MimeTypeH264)
	idle, err := s.Engine().Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, url, ctype, body string
		auth                   func(*http.Request)
		code                   int
		says                   string
	}{
		{"malformed SDP", url, "application/sdp", "v=0\r\nthis is not SDP\r\n", basic, 400, "not an SDP offer"},
		{"no H.264", url, "application/sdp", offerSDP(t, webrtc.MimeTypeVP8), basic, 400, "no H.264"},
		{"audio only", url, "application/sdp", offerSDP(t, webrtc.MimeTypeOpus), basic, 400, "no H.264"},
		{"wrong id", whepURL(s, "nosuchstream0000"), "application/sdp", good, basic, 404, "not found"},
		{"no credentials", url, "application/sdp", good, nil, 401, "authentication required"},
		{"wrong secret", url, "application/sdp", good, func(r *http.Request) { r.SetBasicAuth(testKey, "nope") }, 401, "wrong API key"},
		{"bad token", url, "application/sdp", good, func(r *http.Request) { r.Header.Set("Authorization", "Bearer 1.abc") }, 401, "token"},
		{"JSON body", url, "application/json", `{"sdp":"x"}`, basic, 415, "application/sdp"},
		{"idle stream", whepURL(s, idle.ID), "application/sdp", good, basic, 409, "idle"},
	}
	for _, c := range cases {
		resp, body := post(t, c.url, c.ctype, c.body, c.auth)
		if resp.StatusCode != c.code || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d %s, want %d saying %q", c.name, resp.StatusCode, body, c.code, c.says)
		}
	}

	// A token minted by an authenticated call opens this stream's preview only.
	var tok struct {
		Token string `json:"token"`
	}
	p := &proc{t: t, httpAddr: strings.TrimPrefix(s.HTTPURL(), "http://")}
	if code, body := p.call("POST", "/live_streams/"+st.ID+"/preview_token", nil, &tok); code != 201 || tok.Token == "" {
		t.Fatalf("preview token: %d %s", code, body)
	}
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok.Token) }
	if resp, body := post(t, whepURL(s, idle.ID), "application/sdp", good, bearer); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token of another stream: %d %s", resp.StatusCode, body)
	}

	time.Sleep(200 * time.Millisecond)
	leaks := goleak.IgnoreCurrent()
	fds := openFiles(t)
	var last string
	for i := range 200 {
		auth := basic
		if i%2 == 1 {
			auth = bearer
		}
		resp, body := post(t, url, "application/sdp", good, auth)
		if resp.StatusCode != http.StatusCreated || !strings.Contains(body, "a=candidate") {
			t.Fatalf("offer %d: %d %s", i, resp.StatusCode, body)
		}
		last = s.HTTPURL() + resp.Header.Get("Location")
		if code := del(t, last, auth); code != http.StatusOK {
			t.Fatalf("DELETE %d: %d", i, code)
		}
	}
	if n := s.Preview().Sessions(); n != 0 {
		t.Fatalf("sessions after 200 offers and deletes: %d", n)
	}
	http.DefaultClient.CloseIdleConnections()
	goleak.VerifyNone(t, leaks)
	if after := openFiles(t); after > fds+2 {
		t.Errorf("open files: %d before, %d after 200 offers", fds, after)
	}
	// A deleted session is gone, and an unknown one was never there.
	for _, u := range []string{last, url + "/0123456789abcdef01234567"} {
		if code := del(t, u, basic); code != http.StatusNotFound {
			t.Errorf("DELETE %s: %d, want 404", u, code)
		}
	}
}

// del sends an authenticated DELETE and returns the status.
func del(t *testing.T, url string, auth func(*http.Request)) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	auth(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func openFiles(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("no /proc here")
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestPreviewWarnsOfBFrames: a stream with B-frames is reported in its
// stats and in the WHEP answer's warning header.
func TestPreviewWarnsOfBFrames(t *testing.T) {
	s, st := previewStudio(t, mediatest.Small)
	deadline := time.Now().Add(10 * time.Second)
	for {
		stats, _, _ := s.Engine().Stats(st.ID)
		if stats.BFrames {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("B-frames of x264's preset not detected")
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, body := post(t, whepURL(s, st.ID), "application/sdp", offerSDP(t, webrtc.MimeTypeH264), func(r *http.Request) { r.SetBasicAuth(testKey, testSecret) })
	if resp.StatusCode != http.StatusCreated || !strings.Contains(resp.Header.Get("X-OnAir-Warning"), "bframes=0") {
		t.Fatalf("answer %d, warning %q: %s", resp.StatusCode, resp.Header.Get("X-OnAir-Warning"), body)
	}
}

// TestPreviewOverHTTPS: with the API beyond loopback (HTTPS with the
// generated certificate), the window's preview client — which pins that
// certificate — still gets decodable video.
func TestPreviewOverHTTPS(t *testing.T) {
	path := mediatest.Preview.Path(t)
	t.Setenv("ONAIR_API_KEY", testKey)
	t.Setenv("ONAIR_API_SECRET", testSecret)
	cfg := studio.Config{DataDir: t.TempDir(), HTTPAddr: "0.0.0.0:0", RTMPAddr: "127.0.0.1:0", SRTAddr: "127.0.0.1:0"}
	s, err := studio.Start(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.HTTPURL(), "https://127.0.0.1:") || s.Fingerprint() == "" {
		t.Fatalf("the API beyond loopback is not HTTPS: %s", s.HTTPURL())
	}
	st, err := s.Engine().Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}})
	if err != nil {
		t.Fatal(err)
	}
	pub := mediatest.Publish(t, path, s.RTMPURL()+"/"+st.Input.StreamKey, true)
	defer pub.Stop()
	c := windowPreview{s: s}.Client(st.ID)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var sess *player.Session
	for sess == nil { // until the stream is live
		if sess, err = c.Connect(ctx); err != nil {
			var se *player.StatusError
			if !errors.As(err, &se) || se.Code != http.StatusConflict || ctx.Err() != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	defer sess.Close()
	n := 0
	for n < 30 {
		select {
		case _, ok := <-sess.Units():
			if !ok {
				t.Fatal("the session ended")
			}
			n++
		case <-ctx.Done():
			t.Fatalf("only %d access units over HTTPS", n)
		}
	}
}
