package simulcast_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/onair-studio/onair/engine/hub"
	"github.com/onair-studio/onair/engine/ingest"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/media"
	"github.com/onair-studio/onair/engine/mediatest"
	"github.com/onair-studio/onair/engine/mediatest/clipunits"
	"github.com/onair-studio/onair/engine/output"
	"github.com/onair-studio/onair/engine/output/simulcast"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// sink is a real RTMP server (the studio's ingest) that counts the video
// frames it receives on one key.
type sink struct {
	srv    *ingest.Server
	addr   string
	key    string
	frames atomic.Int64
}

func (s *sink) Authorize(key, _ string, _ func()) (ingest.Target, error) {
	if key != s.key {
		return nil, errors.New("unknown stream key")
	}
	return (*sinkTarget)(s), nil
}

type sinkTarget sink

func (t *sinkTarget) StartTracks(media.Tracks) {}
func (t *sinkTarget) WriteUnits(us []*media.Unit) {
	for _, u := range us {
		if u.Kind == media.KindVideo {
			t.frames.Add(1)
		}
	}
}
func (t *sinkTarget) Close() {}

func startSink(t *testing.T, tlsConfig *tls.Config) *sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{addr: ln.Addr().String(), key: "sink-key-" + t.Name()}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	s.srv = &ingest.Server{Listener: ln, Authorizer: s, Logger: quiet()}
	if err := s.srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// statuses records what an output reports.
type statuses struct {
	mu   sync.Mutex
	list []string
}

func (s *statuses) report(st livestream.OutputStatus, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := string(st)
	if err != nil {
		msg += ": " + err.Error()
	}
	s.list = append(s.list, msg)
}

func (s *statuses) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.list) == 0 {
		return ""
	}
	return s.list[len(s.list)-1]
}

func (s *statuses) saw(prefix string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.list {
		if strings.HasPrefix(m, prefix) {
			return true
		}
	}
	return false
}

func newOutput(t *testing.T, f *simulcast.Factory, uri, key string, st *statuses) output.Output {
	t.Helper()
	o, err := f.New(output.Params{StreamID: "s", Output: livestream.Output{Type: livestream.OutputSimulcast, URI: uri, StreamKey: key},
		Logger: quiet(), Report: st.report})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// publish feeds the small clip to s in real time (batches every 100 ms)
// until stop is closed.
func publish(t *testing.T, s *hub.Stream, stop <-chan struct{}) <-chan struct{} {
	t.Helper()
	tr, units := clipunits.Units(t, mediatest.Small)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.StartPublisher(tr)
		start := time.Now()
		us := clipunits.Copy(units)
		i := 0
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i < len(us) {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			j := i
			for j < len(us) && us[j].DTS <= time.Since(start) {
				j++
			}
			s.PublishBatch(us[i:j])
			i = j
		}
	}()
	return done
}

func eventually(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A destination that accepts TCP and never answers is errored with that
// reason and never broadcasting; the other destination and the hub's
// other readers are untouched; closing frees every goroutine.
func TestStuckDestinationStallsNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	mediatest.RequireTools(t)
	stuck, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var heldMu sync.Mutex
	go func() {
		for {
			c, err := stuck.Accept()
			if err != nil {
				return
			}
			heldMu.Lock()
			held = append(held, c) // accepted, never read
			heldMu.Unlock()
		}
	}()
	defer func() {
		stuck.Close()
		heldMu.Lock()
		for _, c := range held {
			c.Close()
		}
		heldMu.Unlock()
	}()
	good := startSink(t, nil)
	f := &simulcast.Factory{DialTimeout: time.Second, WriteTimeout: time.Second, MinBackoff: 200 * time.Millisecond, MaxBackoff: time.Second}
	var bad, ok statuses
	s := &hub.Stream{Logger: quiet()}
	// The hub's other reader stands for HLS: it must get every frame and
	// drop none (its longest wait is logged, not asserted: a clock bound
	// fails on a busy machine for reasons of its own).
	var frames atomic.Int64
	var last time.Time
	var worstGap time.Duration
	other := &hub.Reader{OnUnit: func(u *media.Unit) {
		if u.Kind == media.KindVideo {
			frames.Add(1)
			if now := time.Now(); !last.IsZero() {
				worstGap = max(worstGap, now.Sub(last))
				last = now
			} else {
				last = now
			}
		}
	}}
	s.AddReader(other)
	ob := newOutput(t, f, "rtmp://"+stuck.Addr().String()+"/app", "k", &bad)
	og := newOutput(t, f, "rtmp://"+good.addr+"/live", good.key, &ok)
	ob.Start(s)
	og.Start(s)
	stop := make(chan struct{})
	done := publish(t, s, stop)
	eventually(t, 5*time.Second, "the stuck destination errored", func() bool {
		return strings.Contains(bad.last(), "accepted the connection but did not answer within 1s")
	})
	time.Sleep(4 * time.Second) // it keeps failing, and trying
	close(stop)
	<-done
	if bad.saw("broadcasting") {
		t.Errorf("the stuck destination was reported broadcasting: %v", bad.list)
	}
	if !ok.saw("broadcasting") || good.frames.Load() < 100 {
		t.Errorf("the other destination: %v, %d frames", ok.list, good.frames.Load())
	}
	ob.Close()
	og.Close()
	s.RemoveReader(other)
	if other.Dropped() != 0 || frames.Load() < 150 {
		t.Errorf("the hub's other reader: %d frames, %d dropped, longest wait %v", frames.Load(), other.Dropped(), worstGap)
	}
	t.Logf("the other reader: %d frames, longest wait between two %v", frames.Load(), worstGap)
	s.Close()
	good.srv.Close()
}

// RTMPS: a TLS sink whose certificate the factory trusts receives the
// stream; with the system's roots only, the output is errored with the TLS
// reason.
func TestRTMPS(t *testing.T) {
	mediatest.RequireTools(t)
	cert, pool := selfSigned(t)
	sk := startSink(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	s := &hub.Stream{Logger: quiet()}
	var trusted, untrusted statuses
	f := &simulcast.Factory{TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, MinBackoff: 200 * time.Millisecond}
	ot := newOutput(t, f, "rtmps://"+sk.addr+"/live", sk.key, &trusted)
	ou := newOutput(t, &simulcast.Factory{MinBackoff: 200 * time.Millisecond}, "rtmps://"+sk.addr+"/live", sk.key, &untrusted)
	ot.Start(s)
	ou.Start(s)
	stop := make(chan struct{})
	done := publish(t, s, stop)
	eventually(t, 8*time.Second, "broadcasting over TLS", func() bool { return trusted.saw("broadcasting") && sk.frames.Load() > 30 })
	eventually(t, 5*time.Second, "the untrusted certificate refused", func() bool {
		return untrusted.last() == "errored: TLS: certificate signed by unknown authority"
	})
	close(stop)
	<-done
	ot.Close()
	ou.Close()
	s.Close()
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test sink"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}
