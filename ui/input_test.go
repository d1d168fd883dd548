package ui

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Bad input in every form shows a message next to its field and changes
// nothing in the store.
func TestBadInputShowsInlineMessages(t *testing.T) {
	h := newHarness(t)
	st := h.createByTyping("Checked")
	before := h.snapshot()

	h.tap("New stream")
	var d *createDialog
	h.ui(func() { d = h.v.createDlg })
	cases := []struct {
		name    string
		e       func() *fieldError
		set     func()
		message string
	}{
		{"empty name", func() *fieldError { return d.name.err }, func() { h.typeInto(d.name.entry, "") }, "Enter a name."},
		{"300-character name", func() *fieldError { return d.name.err }, func() { h.typeInto(d.name.entry, strings.Repeat("n", 300)) }, "At most 255 characters"},
		{"non-numeric idle timeout", func() *fieldError { return d.idle.err }, func() { h.typeInto(d.name.entry, "ok"); h.typeInto(d.idle.entry, "soon") }, "Enter a number of minutes."},
		{"idle timeout out of range", func() *fieldError { return d.idle.err }, func() { h.typeInto(d.idle.entry, "31") }, "From 0 to 30 minutes."},
		{"runtime out of range", func() *fieldError { return d.maxRun.err }, func() { h.typeInto(d.idle.entry, "2"); h.typeInto(d.maxRun.entry, "13") }, "From 1 minute"},
		{"runtime not a number", func() *fieldError { return d.maxRun.err }, func() { h.typeInto(d.maxRun.entry, "x") }, "From 1 minute"},
	}
	for _, c := range cases {
		c.set()
		h.tap("Create")
		h.ui(func() {
			if e := c.e(); !e.Visible() || !strings.Contains(e.Text, c.message) {
				t.Errorf("%s: message %q (shown %v), want %q", c.name, e.Text, e.Visible(), c.message)
			}
		})
		if h.snapshot() != before {
			t.Fatalf("%s changed the store", c.name)
		}
	}
	h.tap("Cancel")

	// The destination form.
	h.ui(func() { h.v.open(st.ID) })
	h.tap("Add destination")
	var dd *destinationDialog
	h.ui(func() { dd = h.v.destDlg; dd.preset.SetSelected("Custom RTMP server") })
	dcases := []struct {
		name    string
		e       func() *fieldError
		set     func()
		message string
	}{
		{"empty URL", func() *fieldError { return dd.uri.err }, func() { h.typeInto(dd.uri.entry, ""); h.typeInto(dd.key.entry, "k") }, "Enter the platform's server URL."},
		{"http URL", func() *fieldError { return dd.uri.err }, func() { h.typeInto(dd.uri.entry, "http://example.com/live") }, "Use an rtmp:// or rtmps:// URL"},
		{"empty key", func() *fieldError { return dd.key.err }, func() { h.typeInto(dd.uri.entry, "rtmp://example.com/live"); h.typeInto(dd.key.entry, "") }, "Enter the stream key"},
		{"empty destination name", func() *fieldError { return dd.name.err }, func() { h.typeInto(dd.key.entry, "k"); h.typeInto(dd.name.entry, " ") }, "Enter a name."},
	}
	for _, c := range dcases {
		c.set()
		h.tap("Save")
		h.ui(func() {
			if e := c.e(); !e.Visible() || !strings.Contains(e.Text, c.message) {
				t.Errorf("%s: message %q, want %q", c.name, e.Text, c.message)
			}
		})
		if h.snapshot() != before {
			t.Fatalf("%s changed the store", c.name)
		}
	}
	h.tap("Cancel")

	// Rename to nothing.
	var p *streamPage
	h.ui(func() { p = h.v.page })
	h.typeInto(p.name, "")
	h.tap("Rename")
	h.ui(func() {
		if !p.nameErr.Visible() || p.nameErr.Text != "Enter a name." {
			t.Errorf("rename to nothing: %q", p.nameErr.Text)
		}
	})
	// Settings.
	h.tap("Settings")
	var s *settingsPage
	h.ui(func() { s = h.v.settings })
	h.typeInto(s.http.entry, "localhost")
	h.typeInto(s.rtmp.entry, "127.0.0.1:99999")
	h.typeInto(s.cloud.entry, "Bad Name")
	h.typeInto(s.hosts.entry, "studio.local, http://x:80")
	h.tap("Save")
	h.ui(func() {
		if !strings.Contains(s.http.err.Text, "HOST:PORT") || !strings.Contains(s.rtmp.err.Text, "1 to 65535") || !strings.Contains(s.cloud.err.Text, "Lower-case") ||
			!strings.Contains(s.hosts.err.Text, `"http://x:80" is not one`) {
			t.Errorf("settings messages: %q %q %q %q", s.http.err.Text, s.rtmp.err.Text, s.cloud.err.Text, s.hosts.err.Text)
		}
	})
	if set, _ := h.st.LoadSettings(); set.HTTPAddr != "127.0.0.1:0" && set.HTTPAddr != "" {
		t.Fatal("bad settings were saved")
	}
	if h.snapshot() != before {
		t.Fatal("the store changed")
	}
}

// A change made over the REST API appears in the window within a second.
func TestAPIChangesAppearWithinASecond(t *testing.T) {
	h := newHarness(t)
	call := func(method, path, body string) {
		req, _ := http.NewRequest(method, h.url+"/v2/video/local"+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.SetBasicAuth(h.studio.Credentials())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
		}
	}
	start := time.Now()
	call("POST", "/live_streams", `{"input":{"type":"rtmp"},"name":"From a script"}`)
	h.within(time.Second, "a stream created over the API", func() bool { return h.shows("From a script") })
	t.Logf("created over the API, shown after %v", time.Since(start))
	var id string
	h.ui(func() { id = h.v.streams[0].ID; h.v.open(id) })
	start = time.Now()
	call("POST", "/live_streams/"+id+"/activate", "")
	h.within(time.Second, "activated over the API", func() bool { return h.shows("waiting for the encoder") })
	call("PATCH", "/live_streams/"+id, `{"name":"Renamed by a script"}`)
	h.within(time.Second, "renamed over the API", func() bool { return h.shows("Renamed by a script") })
	t.Logf("activated and renamed over the API, shown after %v", time.Since(start))
}

// Good settings are saved for the next start, and the window says so.
func TestSettingsSaved(t *testing.T) {
	h := newHarness(t)
	h.tap("Settings")
	var s *settingsPage
	h.ui(func() { s = h.v.settings })
	h.typeInto(s.http.entry, "0.0.0.0:9935")
	h.typeInto(s.rtmp.entry, "0.0.0.0:1936")
	h.typeInto(s.cloud.entry, "studio")
	h.typeInto(s.hosts.entry, "studio.local, my-pc.lan")
	h.tap("Save")
	h.eventually("saved", func() bool { return h.shows("They apply when the studio starts again") })
	set, err := h.st.LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string][2]string{"http_addr": {set.HTTPAddr, "0.0.0.0:9935"}, "rtmp_addr": {set.RTMPAddr, "0.0.0.0:1936"},
		"cloud_name": {set.CloudName, "studio"}, "allowed_hosts": {set.AllowedHosts, "studio.local, my-pc.lan"}} {
		if v[0] != v[1] {
			t.Errorf("%s stored %q, want %q", k, v[0], v[1])
		}
	}
}
