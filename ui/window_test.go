package ui

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/mediatest"
)

// createByTyping opens the create dialog, types a name and taps Create.
func (h *harness) createByTyping(name string) livestream.StreamState {
	h.t.Helper()
	h.tap("New stream")
	var d *createDialog
	h.ui(func() { d = h.v.createDlg })
	if d == nil {
		h.t.Fatal("no create dialog")
	}
	h.typeInto(d.name.entry, name)
	h.tap("Create")
	var st livestream.StreamState
	h.eventually("the new stream is listed and shown", func() bool {
		for _, s := range h.v.streams {
			if s.Name == name && h.v.selected == s.ID && h.v.page != nil {
				st = s
				return true
			}
		}
		return false
	})
	return st
}

// The streamer's path: create by typing, copy server and key, reveal the
// key, activate, publish with ffmpeg and see it live with its resolution
// and codecs, go idle, reset the key (the old one is then refused).
func TestStreamFromCreateToLiveAndIdle(t *testing.T) {
	clip := mediatest.Small.Path(t)
	h := newHarness(t)
	h.eventually("the empty state says what to do", func() bool {
		return h.shows("Create a stream, then paste its server and key into OBS")
	})
	st := h.createByTyping("Evening show")
	if got, err := h.eng.Get(st.ID); err != nil || got.Name != "Evening show" {
		t.Fatalf("engine: %+v %v", got, err)
	}

	// Copy server and key.
	var p *streamPage
	h.ui(func() { p = h.v.page })
	h.ui(func() { test.Tap(p.server.button) })
	if got := h.app.Clipboard().Content(); got != h.studio.rtmp {
		t.Fatalf("clipboard %q, want the server %q", got, h.studio.rtmp)
	}
	h.ui(func() { test.Tap(p.key.copy) })
	if got := h.app.Clipboard().Content(); got != st.Input.StreamKey {
		t.Fatalf("clipboard %q, want the key", got)
	}
	// The key is hidden until revealed.
	h.ui(func() {
		if strings.Contains(h.textLocked(), st.Input.StreamKey) {
			t.Fatal("the key is shown before it is revealed")
		}
	})
	h.tap("Show")
	h.eventually("the revealed key", func() bool { return h.shows(st.Input.StreamKey) })

	h.tap("Activate")
	h.eventually("waiting for the encoder", func() bool { return h.shows("waiting for the encoder") })

	pub := mediatest.Publish(t, clip, h.studio.rtmp+"/"+st.Input.StreamKey, true)
	h.eventually("live with resolution and codecs", func() bool {
		return h.shows("live · ") && h.shows("H264 640×360") && h.shows("AAC 48000 Hz")
	})

	h.tap("Go idle")
	h.eventually("idle", func() bool { return h.shows("idle") && !h.shows("live · ") })
	if _, exited := pub.Wait(10 * time.Second); !exited {
		t.Fatal("the encoder was not disconnected")
	}

	// Reset the key: confirm, then the old key is refused.
	old := st.Input.StreamKey
	h.tap("Reset key")
	h.eventually("the confirmation says the encoder must be updated", func() bool { return h.shows("paste the new key into OBS") })
	h.tap("Yes")
	h.eventually("a new key", func() bool { return h.v.page.st.Input.StreamKey != old })
	again := mediatest.Publish(t, clip, h.studio.rtmp+"/"+old, false)
	if _, exited := again.Wait(15 * time.Second); !exited {
		t.Fatal("the old key was accepted")
	}
	if got, _ := h.eng.Get(st.ID); got.Status != livestream.StatusIdle {
		t.Fatalf("the old key made the stream %s", got.Status)
	}
}

// Simulcast destinations from a preset: add, edit, remove.
func TestDestinations(t *testing.T) {
	h := newHarness(t)
	st := h.createByTyping("Multi")
	h.tap("Add destination")
	var d *destinationDialog
	h.ui(func() { d = h.v.destDlg; d.preset.SetSelected("Twitch") })
	h.ui(func() {
		if d.uri.entry.Text != "rtmp://live.twitch.tv/app" {
			t.Fatalf("preset filled %q", d.uri.entry.Text)
		}
	})
	h.typeInto(d.key.entry, "live_123_abc")
	h.tap("Save")
	h.eventually("the destination is listed", func() bool { return h.shows("Twitch — Twitch") && h.shows("rtmp://live.twitch.tv/app") })
	got, _ := h.eng.Get(st.ID)
	if len(got.Outputs) != 3 || got.Outputs[2].StreamKey != "live_123_abc" || got.Outputs[2].Vendor != "twitch" {
		t.Fatalf("outputs %+v", got.Outputs)
	}
	// The key field is masked.
	h.ui(func() {
		if !d.key.entry.Password {
			t.Fatal("the destination key is not masked")
		}
	})

	h.tap("Edit")
	h.ui(func() { d = h.v.destDlg; d.preset.SetSelected("Custom RTMP server") })
	h.typeInto(d.name.entry, "Backup server")
	h.typeInto(d.uri.entry, "rtmps://backup.example:443/live")
	h.tap("Save")
	h.eventually("the edit is shown", func() bool { return h.shows("Backup server — Custom RTMP server") })
	got, _ = h.eng.Get(st.ID)
	if o := got.Outputs[2]; o.URI != "rtmps://backup.example:443/live" || o.Name != "Backup server" || o.Vendor != "custom" {
		t.Fatalf("after edit %+v", o)
	}

	h.tap("Remove")
	h.tap("Yes")
	h.eventually("the destination is gone", func() bool { return !h.shows("Backup server") })
	if got, _ = h.eng.Get(st.ID); len(got.Outputs) != 2 {
		t.Fatalf("outputs after remove: %+v", got.Outputs)
	}
}

func TestRenameAndDelete(t *testing.T) {
	h := newHarness(t)
	st := h.createByTyping("Old name")
	var p *streamPage
	h.ui(func() { p = h.v.page })
	h.typeInto(p.name, "New name")
	h.tap("Rename")
	h.eventually("renamed in the engine", func() bool {
		got, _ := h.eng.Get(st.ID)
		return got.Name == "New name"
	})
	h.tap("Delete")
	h.eventually("the confirmation says recordings are kept", func() bool { return h.shows("Recordings already made are kept") })
	h.tap("Yes")
	h.eventually("deleted and the empty state back", func() bool { return h.shows("No streams yet") && len(h.v.streams) == 0 })
	if _, err := h.eng.Get(st.ID); err == nil {
		t.Fatal("still in the engine")
	}
}

// Rotating the API secret in the settings: the old secret gets 401 at once.
func TestRotateSecret(t *testing.T) {
	h := newHarness(t)
	call := func(secret string) int {
		req, _ := http.NewRequest(http.MethodGet, h.url+"/v2/video/local/live_streams", nil)
		req.SetBasicAuth("key1", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := call("secret1"); c != 200 {
		t.Fatalf("before: %d", c)
	}
	h.tap("Settings")
	h.tap("Show")
	h.eventually("the secret revealed", func() bool { return h.shows("secret1") })
	h.tap("Rotate secret")
	h.tap("Yes")
	var next string
	h.eventually("a new secret shown", func() bool {
		_, next = h.studio.Credentials()
		return next != "secret1" && h.shows(next)
	})
	if c := call("secret1"); c != 401 {
		t.Fatalf("old secret: %d, want 401", c)
	}
	if c := call(next); c != 200 {
		t.Fatalf("new secret: %d", c)
	}
	if v, _, _ := h.st.Setting("api_secret"); v != next {
		t.Fatal("the new secret is not stored")
	}
}

// Closing the window: with a tray it hides and the studio keeps serving;
// without one it quits, asking first when a stream is active.
func TestCloseWindow(t *testing.T) {
	h := newHarness(t)
	quits := 0
	h.ui(func() { h.v.quit = func() { quits++ } })

	h.ui(func() { h.v.tray = true; h.v.onClose() })
	if quits != 0 {
		t.Fatal("closing with a tray quit the studio")
	}

	h.ui(func() { h.v.tray = false; h.v.onClose() })
	if quits != 1 {
		t.Fatal("closing without a tray and nothing on air did not quit")
	}

	st := h.createByTyping("On air")
	if _, err := h.eng.Activate(st.ID); err != nil {
		t.Fatal(err)
	}
	h.eventually("active", func() bool { return h.shows("waiting for the encoder") })
	h.ui(func() { h.v.onClose() })
	h.eventually("the question", func() bool { return h.shows("quitting ends them") })
	if quits != 1 {
		t.Fatal("quit before the answer")
	}
	h.tap("Yes")
	if quits != 2 {
		t.Fatal("Yes did not quit")
	}
}

// The About dialog tells the version the binary was built with.
func TestAbout(t *testing.T) {
	h := newHarness(t)
	h.ui(func() { h.v.showAbout() })
	h.eventually("the version", func() bool { return h.shows("OnAir Studio test") })
}
