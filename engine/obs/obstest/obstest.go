// Package obstest runs a real OBS Studio for tests: headless under its own
// Xvfb, with a throw-away configuration (one scene with a colour source,
// 640×360 at 30 fps, x264 with a key frame every 2 s, AAC) and
// obs-websocket listening on a chosen port with a password.
package obstest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/onair-studio/onair/engine/mediatest"
)

// OBS is a running OBS Studio.
type OBS struct {
	t     testing.TB
	Port  int
	home  string
	stopX func() // its virtual screen
	obs   *exec.Cmd
	done  chan struct{}
}

// Require fails the test when OBS Studio or Xvfb is missing: the tests
// that need them promise a real OBS (apt-get install obs-studio xvfb).
func Require(t testing.TB) {
	t.Helper()
	for _, b := range []string{"obs", "Xvfb"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Fatalf("%s is required by this test (apt-get install obs-studio xvfb): %v", b, err)
		}
	}
}

// Start runs OBS with obs-websocket on 127.0.0.1:port; it is stopped when
// the test ends.
func Start(t testing.TB, port int, password string) *OBS {
	t.Helper()
	Require(t)
	o := &OBS{t: t, Port: port, home: t.TempDir(), done: make(chan struct{})}
	o.writeConfig(t, port, password)
	display, stopX := mediatest.Xvfb(t, "1280x800x24")
	o.stopX = stopX
	time.Sleep(300 * time.Millisecond)
	o.obs = exec.Command("obs", "--profile", "P", "--collection", "S", "--scene", "Scene",
		"--minimize-to-tray", "--multi", "--disable-missing-files-check")
	o.obs.Dir = "/usr/bin" // OBS finds its data relative to its binary's folder
	o.obs.Env = append(os.Environ(), "HOME="+o.home, "DISPLAY="+display, "LIBGL_ALWAYS_SOFTWARE=1", "QT_QPA_PLATFORM=xcb")
	out, err := os.Create(filepath.Join(o.home, "obs.out"))
	if err != nil {
		t.Fatal(err)
	}
	o.obs.Stdout, o.obs.Stderr = out, out
	if err := o.obs.Start(); err != nil {
		t.Fatalf("starting OBS: %v", err)
	}
	go func() { o.obs.Wait(); close(o.done) }()
	t.Cleanup(o.Kill)
	return o
}

// globalINI is OBS's global settings (format: websocket port, whether a
// password is needed, the password).
const globalINI = `[General]
Pre19Defaults=false
Pre21Defaults=false
Pre23Defaults=false
Pre24.1Defaults=false
FirstRun=true
LastVersion=486539266
EnableAutoUpdates=false
ConfirmOnExit=false
WarnBeforeStartingStream=false
WarnBeforeStoppingStream=false
SysTrayEnabled=false

[Basic]
Profile=P
ProfileDir=P
SceneCollection=S
SceneCollectionFile=S

[BasicWindow]
PreviewEnabled=false
SysTrayEnabled=false
WarnBeforeStartingStream=false
WarnBeforeStoppingStream=false

[OBSWebSocket]
FirstLoad=false
ServerEnabled=true
ServerPort=%d
AuthRequired=%t
ServerPassword=%s
AlertsEnabled=false
`

// basicINI is the test profile: 640×360 at 30 fps, stereo 48 kHz, the
// advanced output with x264.
const basicINI = `[General]
Name=P

[Video]
BaseCX=640
BaseCY=360
OutputCX=640
OutputCY=360
FPSType=0
FPSCommon=30

[Audio]
SampleRate=48000
ChannelSetup=Stereo

[Output]
Mode=Advanced
Reconnect=false

[AdvOut]
Encoder=obs_x264
TrackIndex=1
ApplyServiceSettings=true
Track1Bitrate=128
`

// writeConfig writes OBS's settings into the test's home: a profile that
// streams 640×360 at 800 kbit/s without B-frames, one colour scene, and
// obs-websocket on port (with password, if any).
func (o *OBS) writeConfig(t testing.TB, port int, password string) {
	t.Helper()
	cfg := filepath.Join(o.home, ".config", "obs-studio")
	write := func(rel, body string) {
		p := filepath.Join(cfg, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("global.ini", fmt.Sprintf(globalINI, port, password != "", password))
	write("basic/profiles/P/basic.ini", basicINI)
	write("basic/profiles/P/streamEncoder.json", `{"rate_control":"CBR","bitrate":800,"keyint_sec":2,"preset":"ultrafast","profile":"main","tune":"","x264opts":"bframes=0"}`)
	write("basic/profiles/P/service.json", `{"type":"rtmp_custom","settings":{"server":"rtmp://127.0.0.1:9/none","key":"none"}}`)
	scene, _ := json.Marshal(map[string]any{
		"name": "S", "current_scene": "Scene", "current_program_scene": "Scene",
		"scene_order": []any{map[string]any{"name": "Scene"}},
		"sources": []any{
			map[string]any{"id": "color_source_v3", "versioned_id": "color_source_v3", "name": "Background",
				"settings": map[string]any{"color": 4281545523, "width": 640, "height": 360}, "enabled": true},
			map[string]any{"id": "scene", "versioned_id": "scene", "name": "Scene", "enabled": true,
				"settings": map[string]any{"items": []any{map[string]any{"name": "Background", "id": 1, "visible": true,
					"pos": map[string]any{"x": 0, "y": 0}, "scale": map[string]any{"x": 1, "y": 1}, "align": 5}}, "id_counter": 1}},
		},
		"groups": []any{}, "transitions": []any{}, "current_transition": "Cut", "transition_duration": 0,
	})
	write("basic/scenes/S.json", string(scene))
}

// Kill stops OBS at once (as a crash would) and its display.
func (o *OBS) Kill() {
	if o.obs.Process != nil {
		o.obs.Process.Kill()
		<-o.done
	}
	if o.stopX != nil {
		o.stopX()
	}
}

// Log returns OBS's newest log file, for a failing test to show.
func (o *OBS) Log() string {
	files, _ := filepath.Glob(filepath.Join(o.home, ".config", "obs-studio", "logs", "*.txt"))
	if len(files) == 0 {
		b, _ := os.ReadFile(filepath.Join(o.home, "obs.out"))
		return string(b)
	}
	b, _ := os.ReadFile(files[len(files)-1])
	return string(b)
}
