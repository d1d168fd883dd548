package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const mod = "github.com/onair-studio/onair/"

// TestDependencyDirection keeps the layering of docs/ARCHITECTURE.md true: data flows one way,
// engine, api and store never link Fyne, and the domain types need only
// the standard library.
func TestDependencyDirection(t *testing.T) {
	notEngineInternals := []string{mod + "engine/hub", mod + "engine/ingest", mod + "engine/output", mod + "store", mod + "api", mod + "ui"}
	rules := []struct {
		pkg       string
		forbidden []string
	}{
		{"engine/media", []string{mod, "github.com/yutopp/", "github.com/pion/", "go.etcd.io/", "fyne.io/"}},
		// The format code (fMP4 boxes, codec parameters) is one home that
		// outputs and the library read; it knows nothing of the studio.
		{"engine/media/mp4frag", []string{mod + "engine/hub", mod + "engine/ingest", mod + "engine/output", mod + "engine/livestream", mod + "store", mod + "api", mod + "ui", "fyne.io/", "go.etcd.io/"}},
		{"engine/library", []string{mod + "engine/hub", mod + "engine/ingest", mod + "engine/output", mod + "store", mod + "api", mod + "ui", "fyne.io/"}},
		{"engine/hub", []string{mod + "engine/ingest", mod + "engine/output", mod + "engine/livestream", mod + "store", mod + "api", mod + "ui", "fyne.io/"}},
		{"engine/ingest", []string{mod + "engine/output", mod + "store", mod + "api", mod + "ui", "fyne.io/", "go.etcd.io/"}},
		{"engine/output/hls", []string{mod + "engine/ingest", mod + "store", mod + "api", mod + "ui", "fyne.io/", "go.etcd.io/"}},
		// The engine knows outputs only through engine/output's interface and
		// the factory table it is given: no output type's package.
		{"engine", []string{mod + "engine/output/", mod + "store", mod + "api", mod + "ui", "fyne.io/", "go.etcd.io/"}},
		{"store", append(notEngineInternals[:3:3], mod+"api", mod+"ui", "fyne.io/")},
		{"api", append(notEngineInternals, "fyne.io/", "go.etcd.io/")},
		// The preview reads hubs the engine hands it; the window's player is
		// a client with no widgets and no engine code.
		{"engine/opus", []string{mod + "engine/hub", mod + "engine/ingest", mod + "engine/output", mod + "store", mod + "api", mod + "ui", "fyne.io/", "go.etcd.io/"}},
		{"engine/ffmpeg", []string{mod + "engine/hub", mod + "engine/ingest", mod + "engine/output", mod + "store", mod + "api", mod + "ui", "fyne.io/", "go.etcd.io/"}},
		{"engine/transcode", []string{mod + "engine/ingest", mod + "engine/output", mod + "store", mod + "api", mod + "ui", "fyne.io/", "go.etcd.io/"}},
		{"engine/preview", []string{mod + "engine/ingest", mod + "engine/output", mod + "store", mod + "api", mod + "ui", "fyne.io/", "go.etcd.io/"}},
		// Webhooks see events and a store they are given, nothing of the media.
		{"engine/webhook", []string{mod + "engine/hub", mod + "engine/ingest", mod + "engine/output", mod + "store", mod + "api", mod + "ui", "fyne.io/", "go.etcd.io/"}},
		// The uploader sees assets and a library it is given: no media, no store.
		{"engine/upload", []string{mod + "engine/hub", mod + "engine/ingest", mod + "engine/output", mod + "store", mod + "api", mod + "ui", "fyne.io/", "go.etcd.io/"}},
		// Viewers' pages know nothing of the engine.
		{"api/playback", []string{mod + "engine", mod + "store", mod + "ui", "fyne.io/", "go.etcd.io/"}},
		// The player decodes with engine/picture (shared with the studio's
		// stills), and nothing else of the engine.
		{"ui/player", []string{mod + "engine/hub", mod + "engine/ingest", mod + "engine/output", mod + "engine/preview", mod + "engine/library", mod + "engine/livestream", mod + "store", mod + "api", "fyne.io/", "go.etcd.io/"}},
		{"engine/picture", []string{mod, "fyne.io/", "go.etcd.io/", "github.com/pion/"}},
		{"engine/still", []string{mod + "engine/hub", mod + "engine/ingest", mod + "engine/output", mod + "store", mod + "api", mod + "ui", "fyne.io/", "go.etcd.io/"}},
		{"engine/clip", []string{mod + "engine/hub", mod + "engine/ingest", mod + "engine/output", mod + "store", mod + "api", mod + "ui", "fyne.io/", "go.etcd.io/"}},
		// The composition root starts everything but the window: headless
		// runs and test harnesses never link Fyne.
		{"cmd/onair/studio", []string{mod + "ui", "fyne.io/"}},
		{"ui", []string{mod + "engine/hub", mod + "engine/ingest", mod + "engine/output", mod + "store", mod + "api", "go.etcd.io/"}},
	}
	for _, r := range rules {
		for _, dep := range deps(t, r.pkg) {
			if strings.HasPrefix(dep, mod+"engine/media") && r.pkg == "engine/media" {
				continue
			}
			if dep == mod+r.pkg {
				continue
			}
			for _, f := range r.forbidden {
				if strings.HasPrefix(dep, f) && dep != mod+r.pkg {
					t.Errorf("%s must not depend on %s", r.pkg, dep)
				}
			}
		}
	}
	// The domain types and the connection limiter use the standard library only.
	for _, pkg := range []string{"engine/livestream", "engine/netlimit"} {
		for _, dep := range deps(t, pkg) {
			if first, _, _ := strings.Cut(dep, "/"); strings.Contains(first, ".") && dep != mod+pkg {
				t.Errorf("%s must use the standard library only, uses %s", pkg, dep)
			}
		}
	}
}

// TestEngineNamesNoOutputType: the engine's session code runs outputs by
// their factories; the output types are named only where the factory table
// is filled (cmd/onair) and in the domain types.
func TestEngineNamesNoOutputType(t *testing.T) {
	files, err := filepath.Glob("../../engine/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("engine sources: %v %v", files, err)
	}
	named := regexp.MustCompile(`livestream\.Output(HLS|Archive|Simulcast)\b|"hls"|"archive"|"simulcast"|engine/output/\w`)
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for i, line := range strings.Split(string(b), "\n") {
			if named.MatchString(line) {
				t.Errorf("%s:%d names an output type: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d engine files read", checked)
	}
}

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", mod+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}
