package main

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRemoteAccessHTTPS: `onair serve --http 0.0.0.0:PORT` serves HTTPS
// with a self-signed certificate made in the data folder: curl trusting
// that file gets the API with the credentials, plain HTTP on the port is
// refused, `onair credentials` prints the certificate's fingerprint, and 20
// wrong passwords in a row end in 429.
func TestRemoteAccessHTTPS(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("this test needs curl: %v", err)
	}
	data := t.TempDir()
	_, port, _ := net.SplitHostPort(freePort(t))
	cmd := exec.Command(binary(t), "serve", "--data", data, "--http", "0.0.0.0:"+port, "--rtmp", freePort(t), "--srt", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "ONAIR_API_KEY="+testKey, "ONAIR_API_SECRET="+testSecret)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("onair logs:\n%s", logs.String())
		}
	})
	cert := filepath.Join(data, "tls", "cert.pem")
	base := "https://127.0.0.1:" + port
	retry := []string{"--retry", "20", "--retry-connrefused", "--retry-delay", "1"} // until the studio listens
	curl := func(args ...string) (string, error) {
		c := exec.Command("curl", append(append([]string{"-s", "--max-time", "5"}, retry...), args...)...)
		out, err := c.Output() // the answer only; curl's retries are on stderr
		return string(out), err
	}
	// With the generated certificate trusted, the API answers.
	out, err := curl("--cacert", cert, "-u", testKey+":"+testSecret, "-o", "/dev/null", "-w", "%{http_code}", base+"/v2/video/local/live_streams")
	if err != nil || out != "200" {
		t.Fatalf("curl --cacert over HTTPS: %v %s", err, out)
	}
	retry = nil // it listens: and curl would retry a 429 by itself
	// Without trusting it, curl refuses the connection.
	if out, err := curl("-u", testKey+":"+testSecret, base+"/v2/video/local/live_streams"); err == nil {
		t.Fatalf("curl trusted a self-signed certificate it was not given: %s", out)
	}
	// Plain HTTP on the port is refused.
	out, _ = curl("-o", "-", "-w", " %{http_code}", "http://127.0.0.1:"+port+"/v2/video/local/live_streams")
	if !strings.HasSuffix(out, " 400") || !strings.Contains(out, "HTTPS") {
		t.Fatalf("plain HTTP on the HTTPS port: %q", out)
	}

	// TLS 1.2 with only CBC-SHA1 suites is refused; with an AEAD suite it works.
	for _, c := range []struct {
		suites []uint16
		ok     bool
	}{
		{[]uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA}, false},
		{[]uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, true},
	} {
		conn, err := tls.Dial("tcp", "127.0.0.1:"+port, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, CipherSuites: c.suites}) //nolint:gosec // only the suites are tested
		if err == nil {
			conn.Close()
		}
		if (err == nil) != c.ok {
			t.Errorf("TLS 1.2 with suites %v: %v, want success %v", c.suites, err, c.ok)
		}
	}

	// The fingerprint printed is the certificate's.
	b, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(c.Raw)
	var want []string
	for _, x := range sum {
		want = append(want, fmt.Sprintf("%02X", x))
	}
	// While the studio runs it holds the store: the fingerprint is in its log.
	if !strings.Contains(logs.String(), strings.Join(want, ":")) {
		t.Errorf("the log does not name the certificate's fingerprint %s", strings.Join(want, ":"))
	}
	if err := c.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("the certificate does not name 127.0.0.1: %v", err)
	}

	// 20 wrong passwords in a row: slowed with 429 and Retry-After.
	var codes []string
	for range 20 {
		out, _ := curl("--cacert", cert, "-u", testKey+":wrong", "-o", "/dev/null", "-w", "%{http_code}", base+"/v2/video/local/live_streams")
		codes = append(codes, out)
	}
	if codes[0] != "401" || codes[19] != "429" {
		t.Fatalf("wrong passwords answered %v", codes)
	}
	out, _ = curl("--cacert", cert, "-u", testKey+":"+testSecret, "-D", "-", "-o", "/dev/null", base+"/v2/video/local/live_streams")
	if !strings.Contains(out, " 429") || !strings.Contains(strings.ToLower(out), "retry-after:") {
		t.Errorf("right credentials from a slowed address: %s", out)
	}
	if strings.Contains(logs.String(), "wrong") {
		t.Error("the log holds a password that was tried")
	}
	if !strings.Contains(logs.String(), "failed API logins") {
		t.Error("the slowed address is not logged")
	}

	// Stopped, `onair credentials` prints the same fingerprint.
	cmd.Process.Kill()
	cmd.Wait()
	cred, err := exec.Command(binary(t), "credentials", "--data", data).CombinedOutput()
	if err != nil || !strings.Contains(string(cred), "tls_sha256="+strings.Join(want, ":")) {
		t.Fatalf("onair credentials: %v\n%s", err, cred)
	}
}
