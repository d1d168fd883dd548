package api_test

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onair-studio/onair/api"
	"github.com/onair-studio/onair/engine/livestream"
)

// rawRequest writes head (and body) on a new connection and returns the
// connection with a reader of its answer.
func rawRequest(t *testing.T, f *fixture, head string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	return c, bufio.NewReader(c)
}

func basic() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"+secret))
}

// A body that never finishes arriving is answered 408 when the body's time
// limit passes, and the connection closes.
func TestSlowBodyTimesOut(t *testing.T) {
	t.Run("body limit first", func(t *testing.T) { slowBody(t, 300*time.Millisecond, 30*time.Second) })
	// As the studio runs: both limits 30 s, both set when the request starts.
	t.Run("equal limits", func(t *testing.T) { slowBody(t, 300*time.Millisecond, 300*time.Millisecond) })
}

func slowBody(t *testing.T, body, response time.Duration) {
	f := newFixtureWith(t, func(a *api.Server) { a.BodyTimeout, a.ResponseTimeout = body, response })
	before := f.snapshot()
	c, rd := rawRequest(t, f, "POST /v2/video/local/live_streams HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "+basic()+
		"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"input\":")
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "too long") {
		t.Fatalf("answer %d %s", resp.StatusCode, b)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("answered after %v, limit 300 ms", d)
	}
	if _, err := rd.ReadByte(); err != io.EOF {
		t.Fatalf("connection not closed after the timeout: %v", err)
	}
	if f.snapshot() != before {
		t.Fatal("the store changed")
	}
}

// A 10 MB body announced with Expect: 100-continue gets 413 at once, not
// "100 Continue".
func TestExpectContinueTooLarge(t *testing.T) {
	f := newFixture(t)
	c, rd := rawRequest(t, f, "POST /v2/video/local/live_streams HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "+basic()+
		"\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\nExpect: 100-continue\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := rd.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(line, "HTTP/1.1 413") {
		t.Fatalf("first answer line %q, want 413", line)
	}
}

func TestHeadOnGetRoutes(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest(http.MethodHead, f.base+"/live_streams", nil)
	req.SetBasicAuth(key, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") == "" {
		t.Fatalf("HEAD answered %d %v", resp.StatusCode, resp.Header)
	}
	req, _ = http.NewRequest(http.MethodPut, f.base+"/live_streams", nil)
	req.SetBasicAuth(key, secret)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if a := resp.Header.Get("Allow"); a != "GET, HEAD, POST" {
		t.Fatalf("Allow %q", a)
	}
}

// What a hostile page in the user's browser can send: a form post, a
// cross-site fetch, a request by a rebound DNS name. None changes anything.
func TestCrossSiteAndRebindingRefused(t *testing.T) {
	f := newFixtureWith(t, func(a *api.Server) { a.AllowedHosts = []string{"studio.example"} })
	st, err := f.eng.Activate(mustCreate(t, f).ID)
	if err != nil {
		t.Fatal(err)
	}
	id := st.ID
	host := strings.TrimPrefix(f.srv.URL, "http://")
	_, port, _ := net.SplitHostPort(host)
	cases := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		body    string
		code    int
		msg     string
	}{
		{"form post from another site", "POST", "/idle", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"}, "a=b", 403, "cross-site"},
		{"fetch from another site", "POST", "/idle", map[string]string{"Sec-Fetch-Site": "cross-site"}, "", 403, "cross-site"},
		{"form post without origin", "POST", "/idle", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "a=b", 415, "no body"},
		{"text post", "POST", "/reset_stream_key", map[string]string{"Content-Type": "text/plain"}, "x", 415, "no body"},
		{"JSON with members", "POST", "/idle", map[string]string{"Content-Type": "application/json"}, `{"now":true}`, 400, "no body"},
		{"rebound name", "POST", "/idle", map[string]string{"Host": "evil.example:" + port}, "", 403, "evil.example"},
		{"rebound name on a read", "GET", "", map[string]string{"Host": "evil.example:" + port}, "", 403, "evil.example"},
		{"rebound name, same-origin page", "PATCH", "", map[string]string{"Host": "evil.example:" + port, "Origin": "http://evil.example:" + port, "Content-Type": "application/json"}, `{"name":"x"}`, 403, "host"},
	}
	before := f.snapshot()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, _ := http.NewRequest(c.method, f.base+"/live_streams/"+id+c.path, body)
			req.SetBasicAuth(key, secret)
			for k, v := range c.headers {
				if k == "Host" {
					req.Host = v
					continue
				}
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.code || !strings.Contains(string(b), c.msg) {
				t.Fatalf("answer %d %s, want %d with %q", resp.StatusCode, b, c.code, c.msg)
			}
			if got, _ := f.eng.Get(id); got.Status != livestream.StatusActive {
				t.Fatal("the stream went idle")
			}
			if f.snapshot() != before {
				t.Fatal("the store changed")
			}
		})
	}
	// What the studio's own clients send still works.
	for _, h := range []string{"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "studio.example:" + port, "STUDIO.example."} {
		req, _ := http.NewRequest(http.MethodPost, f.base+"/live_streams/"+id+"/activate", nil)
		req.Host = h
		req.Header.Set("Origin", "http://"+h)
		req.SetBasicAuth(key, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("Host %s: %d", h, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, f.base+"/live_streams/"+id+"/idle", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.SetBasicAuth(key, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st, _ := f.eng.Get(id); resp.StatusCode != http.StatusOK || st.Status != livestream.StatusIdle {
		t.Fatalf("same-origin idle with {}: %d, %s", resp.StatusCode, st.Status)
	}
}

func mustCreate(t *testing.T, f *fixture) livestream.StreamState {
	t.Helper()
	st, err := f.eng.Create(livestream.CreateParams{Input: &livestream.InputParams{Type: new("rtmp")}})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
