// Command onair is OnAir Studio: `onair` opens the window, `onair serve`
// runs the same engine and API headless, `onair credentials` prints the API
// key and secret.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/onair-studio/onair/cmd/onair/studio"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func defaultDataDir() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = "."
	}
	return filepath.Join(dir, "OnAirStudio")
}

// options are what the command line says beyond the studio's Config.
type options struct {
	cmd        string // window, serve or credentials
	cfg        studio.Config
	cpuProfile string
}

// parseArgs reads the command line; done is set with the exit code when
// there is nothing more to do (--version, or a mistake, already reported).
func parseArgs(args []string, stdout, stderr io.Writer) (o options, code int, done bool) {
	o.cmd = "window"
	if len(args) > 0 && (args[0] == "serve" || args[0] == "credentials") {
		o.cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("onair", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &o.cfg
	cfg.Version = version
	fs.StringVar(&cfg.DataDir, "data", defaultDataDir(), "folder for the store, the library and logs")
	fs.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8935", "address of the API, HLS and pages")
	fs.StringVar(&cfg.RTMPAddr, "rtmp", "127.0.0.1:1935", "address of the RTMP ingest")
	fs.StringVar(&cfg.SRTAddr, "srt", "", "UDP address of the SRT ingest, or off; default: the saved setting, else 127.0.0.1:8890")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "HTTPS certificate (PEM) when --http listens beyond this computer; default: a self-signed one made in the data folder")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "the key of --tls-cert (PEM)")
	fs.BoolVar(&cfg.InsecureHTTP, "insecure-http", false, "serve plain HTTP even when --http listens beyond this computer (the secret then travels in the clear)")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "public playback address for this run, e.g. https://cdn.example.com (a CDN or edge cache in front of the studio); default: the saved setting")
	fs.StringVar(&cfg.FFmpeg, "ffmpeg", "", "the FFmpeg that measures each live stream's sound (the meters, live_stream.silent) and makes the preview's sound (Opus), or off; default: ffmpeg on the PATH")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (for performance reports)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: onair [serve|credentials] [flags]\n\n  onair              opens the studio window\n  onair serve        runs the studio headless\n  onair credentials  prints the API key and secret\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, 2, true
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "http":
			cfg.HTTPSet = true
		case "rtmp":
			cfg.RTMPSet = true
		}
	})
	if *showVersion {
		fmt.Fprintln(stdout, "onair", version)
		return o, 0, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "onair: unknown argument %q\n", fs.Arg(0))
		fs.Usage()
		return o, 2, true
	}
	return o, 0, false
}

func run(args []string, stdout, stderr io.Writer) int {
	o, code, done := parseArgs(args, stdout, stderr)
	if done {
		return code
	}
	cmd, cfg, cpuProfile := o.cmd, o.cfg, &o.cpuProfile
	logOut := stderr
	if cmd != "credentials" {
		f, err := openLogFile(cfg.DataDir, logMaxMB)
		if err != nil {
			fmt.Fprintln(stderr, "onair:", err)
			return 1
		}
		defer f.Close()
		logOut = io.MultiWriter(stderr, f)
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo}))

	switch cmd {
	case "credentials":
		k, secret, fp, err := studio.ReadCredentials(cfg.DataDir, cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			fmt.Fprintln(stderr, "onair:", err)
			fmt.Fprintln(stderr, "onair: while the studio runs, its window shows the API key and secret; or stop it and run this again")
			return 1
		}
		fmt.Fprintf(stdout, "api_key=%s\napi_secret=%s\n", k, secret)
		if fp != "" { // the HTTPS certificate's, once there is one
			fmt.Fprintf(stdout, "tls_sha256=%s\n", fp)
		}
		return 0
	case "serve":
		if *cpuProfile != "" {
			stopProfile, err := startCPUProfile(*cpuProfile)
			if err != nil {
				fmt.Fprintln(stderr, "onair:", err)
				return 1
			}
			defer stopProfile()
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		s, err := studio.Start(cfg, log)
		if err != nil {
			fmt.Fprintln(stderr, "onair:", err)
			return 1
		}
		<-ctx.Done()
		log.Info("stopping")
		s.Close()
		log.Info("stopped")
		return 0
	default:
		return runWindow(cfg, log, stderr)
	}
}

// The studio's log is rotated by size: at most logMaxMB per file, with
// logBackups older files kept beside it.
const (
	logMaxMB   = 10
	logBackups = 3
)

// openLogFile opens DATA/logs/onair.log for appending, rotated by size.
func openLogFile(dataDir string, maxMB int) (io.WriteCloser, error) {
	dir := filepath.Join(dataDir, "logs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating log folder: %w", err)
	}
	path := filepath.Join(dir, "onair.log")
	// Fail now, with a clear error, rather than at the first line.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening log file: %w", err)
	}
	f.Close()
	return &lumberjack.Logger{Filename: path, MaxSize: maxMB, MaxBackups: logBackups}, nil
}

// startCPUProfile profiles the process until the returned function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting CPU profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
