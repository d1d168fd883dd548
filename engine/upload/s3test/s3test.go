// Package s3test runs a real S3-compatible server for tests: VersityGW
// with its posix backend (buckets are folders), on a random loopback port.
// Install it with `make test-tools` (go install, pinned).
package s3test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/onair-studio/onair/engine/livestream"
)

// Credentials of the test server's root account.
const (
	AccessKey = "onairtest"
	SecretKey = "onairtestsecret123"
)

// Server is one VersityGW process.
type Server struct {
	t    testing.TB
	Addr string // host:port
	Dir  string // the posix root: one folder per bucket

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Binary finds versitygw: on the PATH or in GOBIN/GOPATH's bin.
func Binary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	for _, dir := range []string{os.Getenv("GOBIN"), filepath.Join(os.Getenv("HOME"), "go", "bin")} {
		if p := filepath.Join(dir, "versitygw"); dir != "" && fileExists(p) {
			return p
		}
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		if p := filepath.Join(string(bytes.TrimSpace(out)), "bin", "versitygw"); fileExists(p) {
			return p
		}
	}
	t.Fatal("this test needs VersityGW: run `make test-tools` (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
	return ""
}

// Start runs a server with an empty root; it stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &Server{t: t, Addr: addr, Dir: t.TempDir()}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// Restart starts the server again on the same address and root (after
// Stop).
func (s *Server) Restart() {
	s.t.Helper()
	cmd := exec.Command(Binary(s.t), "--port", s.Addr, "posix", s.Dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+AccessKey, "ROOT_SECRET_ACCESS_KEY="+SecretKey)
	logs := &syncBuf{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting versitygw: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + s.Addr + "/")
		if err == nil {
			resp.Body.Close()
			return
		}
		select {
		case <-done:
			s.t.Fatalf("versitygw exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("versitygw not answering on %s: %s", s.Addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the server (the root stays).
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Endpoint is the server's address as the settings take it.
func (s *Server) Endpoint() string { return "http://" + s.Addr }

// Settings are object store settings for bucket on this server.
func (s *Server) Settings(bucket string) livestream.StorageSettings {
	return livestream.StorageSettings{Endpoint: s.Endpoint(), Region: "us-east-1", Bucket: bucket, AccessKeyID: AccessKey, SecretAccessKey: SecretKey}
}

// Client is a minio-go client of the server.
func (s *Server) Client() *minio.Client {
	s.t.Helper()
	c, err := minio.New(s.Addr, &minio.Options{Creds: credentials.NewStaticV4(AccessKey, SecretKey, ""), Region: "us-east-1"})
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// MakeBucket creates a bucket.
func (s *Server) MakeBucket(name string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Client().MakeBucket(ctx, name, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		s.t.Fatalf("making bucket %s: %v", name, err)
	}
}

// Object returns an object's size, or an error when it is not there.
func (s *Server) Object(bucket, key string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := s.Client().StatObject(ctx, bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return 0, fmt.Errorf("object %s/%s: %w", bucket, key, err)
	}
	return info.Size, nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

type syncBuf struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.b) < 1<<16 {
		s.b = append(s.b, p...)
	}
	return len(p), nil
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}
