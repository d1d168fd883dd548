package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestPortTakenIsAClearError(t *testing.T) {
	for _, flag := range []string{"--http", "--rtmp"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"serve", "--data", t.TempDir(), "--http", freePort(t), "--rtmp", freePort(t), "--srt", "127.0.0.1:0"}
		for i := range args {
			if args[i] == flag {
				args[i+1] = ln.Addr().String()
			}
		}
		out, err := exec.Command(binary(t), args...).CombinedOutput()
		ln.Close()
		if code := exitCode(err); code != 1 {
			t.Fatalf("%s taken: exit %d, want 1:\n%s", flag, code, out)
		}
		if !strings.Contains(string(out), flag) || !strings.Contains(string(out), ln.Addr().String()) || !strings.Contains(string(out), "already taken") {
			t.Fatalf("%s taken: message does not name the port and flag:\n%s", flag, out)
		}
	}
}

func TestVersionAndCredentials(t *testing.T) {
	out, err := exec.Command(binary(t), "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "onair ") {
		t.Fatalf("--version: %v %q", err, out)
	}
	data := t.TempDir()
	cmd := exec.Command(binary(t), "credentials", "--data", data)
	cmd.Env = withoutCredentials()
	first, err := cmd.Output()
	if err != nil || !strings.Contains(string(first), "api_key=") || !strings.Contains(string(first), "api_secret=") {
		t.Fatalf("credentials: %v %q", err, first)
	}
	cmd = exec.Command(binary(t), "credentials", "--data", data)
	cmd.Env = withoutCredentials()
	second, _ := cmd.Output()
	if string(first) != string(second) {
		t.Fatalf("credentials changed between runs:\n%s\n%s", first, second)
	}
	cmd = exec.Command(binary(t), "credentials", "--data", data)
	cmd.Env = append(withoutCredentials(), "ONAIR_API_KEY=k", "ONAIR_API_SECRET=s")
	env, _ := cmd.Output()
	if string(env) != "api_key=k\napi_secret=s\n" {
		t.Fatalf("environment credentials not used: %q", env)
	}
	if err := exec.Command(binary(t), "serve", "--bogus").Run(); exitCode(err) != 2 {
		t.Fatalf("unknown flag: %v", err)
	}
}

func withoutCredentials() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ONAIR_API_") {
			env = append(env, kv)
		}
	}
	return env
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	ee := &exec.ExitError{}
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}
