package studio

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// allowedHosts are the names the API answers to besides loopback names and
// IP addresses: the listen address's host when it is a name, and the
// allowed_hosts setting (comma-separated).
func allowedHosts(setting, listenAddr string) []string {
	var hosts []string
	if h, _, err := net.SplitHostPort(listenAddr); err == nil && h != "" && net.ParseIP(h) == nil {
		hosts = append(hosts, h)
	}
	for h := range strings.SplitSeq(setting, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// listen opens addr, naming the flag when the port is taken.
func listen(addr, flag string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if isAddrInUse(err) {
			what := map[string]string{"--http": "HTTP (API, HLS and pages)", "--rtmp": "RTMP (encoders)"}[flag]
			return nil, &PortTakenError{Addr: addr, Flag: flag, What: what, err: err}
		}
		return nil, fmt.Errorf("listening on %s (%s): %w", addr, flag, err)
	}
	return ln, nil
}

// PortTakenError says another program listens on a port the studio needs.
type PortTakenError struct {
	// Addr is the address asked for, Flag its command-line flag (--http or
	// --rtmp), What what it serves, for people.
	Addr, Flag, What string
	err              error
}

func (e *PortTakenError) Error() string {
	return fmt.Sprintf("port of %s is already taken by another program: choose another with %s ADDR (%v)", e.Addr, e.Flag, e.err)
}

func (e *PortTakenError) Unwrap() error { return e.err }

// AsPortTaken finds a *PortTakenError in err's chain.
func AsPortTaken(err error) (*PortTakenError, bool) {
	var pt *PortTakenError
	ok := errors.As(err, &pt)
	return pt, ok
}

// UseFreePort saves a free port on the same host for the taken one, for
// the next start, and returns it.
func (e *PortTakenError) UseFreePort(dataDir string) (string, error) {
	next, err := freeLoopbackPort(e.Addr)
	if err != nil {
		return "", err
	}
	st, err := openStore(dataDir)
	if err != nil {
		return "", err
	}
	defer func() { _ = st.Close() }() // the write is committed before
	set, err := st.LoadSettings()
	if err != nil {
		return "", err
	}
	if e.Flag == "--rtmp" {
		set.RTMPAddr = next
	} else {
		set.HTTPAddr = next
	}
	if err := st.SaveSettings(set); err != nil {
		return "", fmt.Errorf("saving the new port: %w", err)
	}
	return next, nil
}

// freeLoopbackPort returns a free port on the host of addr.
func freeLoopbackPort(addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// urlHost is the host:port clients should use for a listen address.
func urlHost(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(ta.Port))
}

// ReadCredentials returns the API key and secret of the studio whose data
// folder is dataDir (it must not be running: it holds the store), and the
// fingerprint of its HTTPS certificate ("" before there is one); certFile
// and keyFile are --tls-cert and --tls-key when given.
func ReadCredentials(dataDir, certFile, keyFile string) (key, secret, fp string, err error) {
	st, err := openStore(dataDir)
	if err != nil {
		return "", "", "", err
	}
	defer func() { _ = st.Close() }() // read only
	if key, secret, err = credentials(st); err != nil {
		return "", "", "", err
	}
	if certFile == "" {
		set, _ := st.LoadSettings()
		certFile, keyFile = set.TLSCert, set.TLSKey
	}
	return key, secret, certFingerprint(dataDir, certFile, keyFile), nil
}
