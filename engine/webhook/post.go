package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/onair-studio/onair/engine/livestream"
)

// errLinkLocal refuses link-local receivers (169.254.0.0/16, fe80::/10):
// the cloud metadata address lives there, and no webhook receiver does.
var errLinkLocal = errors.New("link-local addresses (169.254.x.x, fe80::) are not allowed as webhook receivers")

// transport is the HTTP transport of deliveries: it refuses to connect to
// link-local addresses, whatever name led there.
func transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		if ap, err := netip.ParseAddrPort(address); err == nil && linkLocal(ap.Addr()) {
			return errLinkLocal
		}
		return nil
	}}
	t.DialContext = dialer.DialContext
	t.MaxIdleConnsPerHost = 4
	return t
}

func linkLocal(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast()
}

// post sends one attempt; any answer but 2xx is a failure. The error
// names the status or the kind of failure, never what the target sent.
func (d *Dispatcher) post(ctx context.Context, w livestream.Webhook, it livestream.OutboxItem) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(it.Body))
	if err != nil {
		return 0, fmt.Errorf("the webhook's URL is not usable: %w", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", d.UserAgent)
	h.Set(HeaderEventID, strconv.FormatUint(it.EventID, 10))
	h.Set("Idempotency-Key", strconv.FormatUint(it.EventID, 10))
	h.Set(HeaderAttempt, strconv.Itoa(it.Attempts))
	h.Set(HeaderSignature, Sign(w.Secret, time.Now(), it.Body))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("posting to %s: %s", redact(w.URL), failure(err, d.Timeout))
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("%s answered %d %s", redact(w.URL), resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return resp.StatusCode, nil
}

// failure names the kind of a failed attempt, without the text of
// whatever answered (a banner of another protocol, say).
func failure(err error, timeout time.Duration) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.Is(err, errLinkLocal):
		return errLinkLocal.Error()
	case errors.As(err, &dnsErr):
		return "the host name was not found"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (nothing listens there)"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "the connection was reset"
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr):
		return "the receiver's TLS certificate is not trusted"
	case errors.As(err, &recErr):
		return "the receiver does not speak TLS (use http://)"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "no answer within " + timeout.String()
	case strings.Contains(err.Error(), "malformed HTTP"), strings.Contains(err.Error(), "server gave HTTP response"):
		return "the receiver did not answer in HTTP"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the receiver closed the connection without answering"
	default:
		return "the connection failed"
	}
}

// redact hides the password of a URL's user information.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// Sign is the signature header of body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against body, as a receiver does; the
// time must be within tolerance of now.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) bool {
	var ts, sig string
	for part := range strings.SplitSeq(header, ",") {
		switch {
		case len(part) > 2 && part[:2] == "t=":
			ts = part[2:]
		case len(part) > 3 && part[:3] == "v1=":
			sig = part[3:]
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return false
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return false
	}
	want := Sign(secret, time.Unix(sec, 0), body)
	return hmac.Equal([]byte(want), []byte("t="+ts+",v1="+sig))
}
