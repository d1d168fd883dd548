package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/onair-studio/onair/cmd/onair/studio"
	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/picture"
	"github.com/onair-studio/onair/ui"
	"github.com/onair-studio/onair/ui/player"
)

// runWindow runs the studio with its window; quitting (from the window's
// menu or the tray) stops it. A port already taken is asked about in the
// window rather than printed.
func runWindow(cfg studio.Config, log *slog.Logger, _ io.Writer) int {
	var s *studio.Studio // the latest: a restart starts another
	defer func() {
		if s != nil {
			s.Close()
		}
	}()
	speaker := &player.Output{} // the preview's sound, opened when first turned on
	ui.Run(version, func() (ui.Engine, ui.Studio, *ui.PortTaken, error) {
		var err error
		s, err = studio.Start(cfg, log)
		if err != nil {
			pt, ok := studio.AsPortTaken(err)
			if !ok {
				log.Error("the studio could not start", "error", err)
				return nil, nil, nil, err
			}
			return nil, nil, &ui.PortTaken{What: pt.What, Addr: pt.Addr, UseFree: func() error {
				next, err := pt.UseFreePort(cfg.DataDir)
				if err != nil {
					return err
				}
				if pt.Flag == "--http" {
					cfg.HTTPAddr, cfg.HTTPSet = next, true
				} else {
					cfg.RTMPAddr, cfg.RTMPSet = next, true
				}
				return nil
			}}, nil
		}
		// A restart from the window uses what was saved there, over the
		// command line's addresses.
		cfg.HTTPSet, cfg.RTMPSet = false, false
		if d, ok := picture.CiscoBuild(); ok && picture.LoadDecoder() != nil {
			// Cisco's OpenH264, fetched from the preview card before: loaded
			// when its SHA-256 still matches.
			if err := picture.LoadFetched(d, s.CodecDir()); err == nil {
				log.Info("loaded OpenH264 from Cisco's build", "file", d.File)
			}
		}
		return s.Engine(), windowStudio{s, speaker}, nil, nil
	}, func() { log.Info("the window shows the studio") })
	return 0
}

// windowStudio shows the studio to the window.
// windowStudio is the studio as the window reaches it; out is the
// computer's sound output, one for the process (across restarts).
type windowStudio struct {
	s   *studio.Studio
	out *player.Output
}

func (w windowStudio) Credentials() (string, string) { return w.s.Credentials() }
func (w windowStudio) Close()                        { w.s.Close() }
func (w windowStudio) RotateSecret() (string, error) { return w.s.RotateSecret() }
func (w windowStudio) Library() ui.Library           { return w.s.Recordings() }
func (w windowStudio) OBS() ui.OBS                   { return w.s.OBS() }
func (w windowStudio) PreviewError() error           { return w.s.PreviewError() }
func (w windowStudio) RetryPreview() error           { return w.s.RetryPreview() }
func (w windowStudio) Parts() []livestream.Part      { return w.s.Parts() }
func (w windowStudio) Codec() ui.Codec               { return ciscoCodec{dir: w.s.CodecDir()} }
func (w windowStudio) Stills() ui.Stills             { return w.s }
func (w windowStudio) Clips() ui.Clips               { return w.s }

// ciscoCodec fetches Cisco's OpenH264 for this system into dir.
type ciscoCodec struct{ dir string }

func (c ciscoCodec) Offer() (picture.Download, bool) { return picture.CiscoBuild() }

func (c ciscoCodec) Fetch(ctx context.Context) error {
	d, ok := picture.CiscoBuild()
	if !ok {
		return errors.New("no OpenH264 build from Cisco for this system: install openh264 from the system's packages")
	}
	if _, err := picture.Fetch(ctx, &http.Client{Timeout: 2 * time.Minute}, d, c.dir); err != nil {
		return err
	}
	return picture.LoadFetched(d, c.dir)
}

func (w windowStudio) Preview() ui.Preview {
	if w.s.Preview() == nil {
		return nil
	}
	return windowPreview(w)
}
func (w windowStudio) Webhooks() ui.Webhooks { return w.s.Webhooks() }

func (w windowStudio) CheckS3() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return w.s.CheckS3(ctx)
}

func (w windowStudio) Settings() ui.Settings {
	return ui.Settings{Settings: w.s.Settings(), DataDir: w.s.DataDir(), RTMPURL: w.s.RTMPURL(), HTTPURL: w.s.HTTPURL(),
		TLSFingerprint: w.s.Fingerprint()}
}

func (w windowStudio) SaveSettings(set ui.Settings) error { return w.s.SaveSettings(set.Settings) }

// windowPreview is the studio's preview as the window reaches it: over
// the HTTP server, as any client does.
type windowPreview struct {
	s   *studio.Studio
	out *player.Output
}

func (w windowPreview) Client(id string) player.Client {
	key, secret := w.s.Credentials()
	u, hc := w.s.PreviewWHEP(id)
	return player.Client{URL: u, Username: key, Password: secret, HTTP: hc}
}

func (w windowPreview) PageURL(id string) (string, error) { return w.s.PreviewPage(id), nil }

func (w windowPreview) Sound() (player.Sound, error) {
	bin, err := w.s.FFmpeg()
	if err != nil {
		return player.Sound{}, err
	}
	if err := w.out.Open(); err != nil {
		return player.Sound{}, err
	}
	return player.Sound{FFmpeg: bin, Out: w.out}, nil
}
