// Package deps_test checks make deps (packaging/deps/install.sh): with
// everything installed it asks dpkg once and never apt, in well under a
// second; with a package the tests need removed, it installs it again.
package deps_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func installed(pkg string) bool {
	out, _ := exec.Command("dpkg-query", "-W", "-f=${Status}", pkg).Output()
	return string(out) == "install ok installed"
}

// requireDebianRoot: the test changes the system's packages, so it runs
// where make deps itself would install them: Debian or Ubuntu, as root.
func requireDebianRoot(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("not Debian or Ubuntu: make deps checks nothing here")
	}
	if os.Geteuid() != 0 {
		t.Skip("make deps installs as root; run the tests as root (as CI does) to check it")
	}
}

// With everything there, make deps does not call apt and is quick.
func TestDepsNothingToDo(t *testing.T) {
	requireDebianRoot(t)
	script, _ := filepath.Abs("install.sh")
	if out, err := exec.Command(script, "build", "test").CombinedOutput(); err != nil {
		t.Fatalf("make deps: %v\n%s", err, out)
	}
	// An apt-get that records that it was called comes first on the PATH.
	shim := t.TempDir()
	called := filepath.Join(shim, "called")
	for _, name := range []string{"apt-get", "sudo"} {
		if err := os.WriteFile(filepath.Join(shim, name), []byte("#!/bin/sh\necho \"$0 $*\" >> "+called+"\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(script, "build", "test")
	cmd.Env = append(os.Environ(), "PATH="+shim+":"+os.Getenv("PATH"))
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("make deps with everything installed: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(called); len(b) > 0 {
		t.Errorf("make deps called %s with everything installed", b)
	}
	if took > time.Second {
		t.Errorf("make deps took %v with everything installed, want < 1 s", took)
	}
	t.Logf("make deps with everything installed: %v", took)
}

// A package the tests need, removed, comes back with make deps. It runs
// alone, first, in make test (ONAIR_TEST_DEPS=1): other packages' tests
// use that package.
func TestDepsInstallsWhatIsMissing(t *testing.T) {
	requireDebianRoot(t)
	if os.Getenv("ONAIR_TEST_DEPS") != "1" {
		t.Skip("removes a package other tests use: make test runs it alone first (ONAIR_TEST_DEPS=1)")
	}
	const pkg = "xvfb"                                                                                                      // the window's tests need it; nothing installed depends on it
	if out, _ := exec.Command("apt-cache", "rdepends", "--installed", pkg).Output(); len(strings.Fields(string(out))) > 3 { // "xvfb Reverse Depends:"
		t.Fatalf("something installed depends on %s; pick another package:\n%s", pkg, out)
	}
	if !installed(pkg) {
		t.Fatalf("%s is not installed before the test", pkg)
	}
	t.Cleanup(func() {
		if !installed(pkg) {
			_ = exec.Command("apt-get", "install", "-y", "-q", "--no-install-recommends", pkg).Run()
		}
	})
	if out, err := exec.Command("apt-get", "remove", "-y", "-q", pkg).CombinedOutput(); err != nil || installed(pkg) {
		t.Fatalf("removing %s: %v\n%s", pkg, err, out)
	}
	cmd := exec.Command("make", "-C", "../..", "deps")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make deps: %v\n%s", err, out)
	}
	if !installed(pkg) || !strings.Contains(string(out), pkg) {
		t.Fatalf("make deps did not install %s again:\n%s", pkg, out)
	}
}
