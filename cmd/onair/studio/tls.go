package studio

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// loopbackOnly reports whether addr (host:port) listens on this computer
// only: then the API is plain HTTP; beyond it, HTTPS.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// certFiles are the self-signed certificate's files in the data folder.
func certFiles(dataDir string) (cert, key string) {
	return filepath.Join(dataDir, "tls", "cert.pem"), filepath.Join(dataDir, "tls", "key.pem")
}

// loadCertificate returns the certificate the studio serves HTTPS with: the
// given files, or the data folder's self-signed one, made at first use.
func loadCertificate(dataDir, certFile, keyFile string) (tls.Certificate, error) {
	if certFile != "" || keyFile != "" {
		if certFile == "" || keyFile == "" {
			return tls.Certificate{}, errors.New("--tls-cert and --tls-key go together")
		}
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("loading the TLS certificate %s: %w", certFile, err)
		}
		return c, nil
	}
	cf, kf := certFiles(dataDir)
	if c, err := tls.LoadX509KeyPair(cf, kf); err == nil {
		return c, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return tls.Certificate{}, fmt.Errorf("loading the studio's certificate %s: %w", cf, err)
	}
	if err := makeSelfSigned(cf, kf); err != nil {
		return tls.Certificate{}, err
	}
	c, err := tls.LoadX509KeyPair(cf, kf)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("loading the new certificate: %w", err)
	}
	return c, nil
}

// makeSelfSigned writes a self-signed certificate for this computer's
// names and addresses (Syncthing does the same): clients trust it by its
// fingerprint or by the file.
func makeSelfSigned(certFile, keyFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("making a key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "OnAir Studio on " + host, Organization: []string{"OnAir Studio"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if host != "" && host != "localhost" {
		tmpl.DNSNames = append(tmpl.DNSNames, host, host+".local")
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, n.IP)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("making the certificate: %w", err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(certFile), err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", keyFile, err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", certFile, err)
	}
	return nil
}

// fingerprint is the SHA-256 of a certificate's DER, as AB:CD:… .
func fingerprint(c tls.Certificate) string {
	if len(c.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(c.Certificate[0])
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// serverTLS is the API's TLS: 1.3, or 1.2 with forward-secret AEAD suites
// only (Go's defaults for 1.2 still include two CBC suites with SHA-1).
func serverTLS(c tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{c},
		MinVersion:   tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

// pinnedTLS trusts exactly the studio's own certificate: the window's
// preview client reaches the studio on 127.0.0.1, which a certificate made
// for a host name does not name.
func pinnedTLS(c tls.Certificate) *tls.Config {
	want := fingerprint(c)
	return &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // verified below, against the studio's own certificate
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || fingerprint(tls.Certificate{Certificate: raw}) != want {
				return errors.New("the studio's certificate is not the one it serves")
			}
			return nil
		},
	}
}

// certFingerprint is the fingerprint of the given certificate files, or of
// the data folder's self-signed one when none is given; "" when there is
// none yet.
func certFingerprint(dataDir, certFile, keyFile string) string {
	if certFile == "" {
		certFile, keyFile = certFiles(dataDir)
	}
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return ""
	}
	return fingerprint(c)
}
