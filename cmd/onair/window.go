package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/onair-studio/onair/api"
	"github.com/onair-studio/onair/ui/player"

	"github.com/onair-studio/onair/ui"
)

// runWindow runs the studio with its window; quitting (from the window's
// menu or the tray) stops it. A port already taken is asked about in the
// window rather than printed.
func runWindow(cfg config, log *slog.Logger, stderr io.Writer) int {
	var s *studio // the latest: a restart starts another
	defer func() {
		if s != nil {
			s.Close()
		}
	}()
	ui.Run(version, func() (ui.Engine, ui.Studio, *ui.PortTaken, error) {
		var err error
		s, err = startStudio(cfg, log)
		if err != nil {
			var pt *portTakenError
			if !asPortTaken(err, &pt) {
				log.Error("the studio could not start", "error", err)
				return nil, nil, nil, err
			}
			return nil, nil, &ui.PortTaken{What: pt.what, Addr: pt.addr, UseFree: func() error {
				next, err := freeLoopbackPort(pt.addr)
				if err != nil {
					return err
				}
				if err := saveAddr(cfg.DataDir, pt.flag, next); err != nil {
					return err
				}
				if pt.flag == "--http" {
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
		return s.engine, windowStudio{s}, nil, nil
	})
	return 0
}

// windowStudio shows the studio to the window.
type windowStudio struct{ s *studio }

func (w windowStudio) Credentials() (string, string) { return w.s.Credentials() }
func (w windowStudio) Close()                        { w.s.Close() }
func (w windowStudio) RotateSecret() (string, error) { return w.s.RotateSecret() }
func (w windowStudio) Library() ui.Library           { return w.s.library }
func (w windowStudio) OBS() ui.OBS                   { return obsControl(w) }
func (w windowStudio) Preview() ui.Preview           { return windowPreview(w) }
func (w windowStudio) Webhooks() ui.Webhooks         { return w.s.webhooks }

// windowPreview is the studio's preview as the window reaches it: over
// the HTTP server, as any client does.
type windowPreview struct{ s *studio }

func (w windowPreview) Client(id string) player.Client {
	key, secret := w.s.Credentials()
	c := player.Client{URL: w.s.httpURL + "/v2/video/" + w.s.cloud + "/live_streams/" + id + "/whep", Username: key, Password: secret}
	if w.s.tls != nil {
		c.HTTP = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: pinnedTLS(*w.s.tls)}}
	}
	return c
}

func (w windowPreview) PageURL(id string) (string, error) {
	_, secret := w.s.Credentials()
	tok, _ := api.NewPreviewToken(secret, id, time.Now())
	u := w.s.httpURL + "/preview/" + id
	if w.s.cloud != "local" {
		u += "?cloud=" + url.QueryEscape(w.s.cloud)
	}
	return u + "#token=" + tok, nil
}

func (w windowStudio) Settings() ui.Settings {
	set := w.s.saved()
	return ui.Settings{HTTPAddr: set.HTTPAddr, RTMPAddr: set.RTMPAddr, CloudName: set.CloudName, AllowedHosts: set.AllowedHosts,
		LibraryDir: set.LibraryDir, TLSCert: set.TLSCert, TLSKey: set.TLSKey, DataDir: w.s.cfg.DataDir, RTMPURL: w.s.rtmpURL, HTTPURL: w.s.httpURL, TLSFingerprint: w.s.fingerprint()}
}

func (w windowStudio) SaveSettings(set ui.Settings) error {
	return w.s.save(savedSettings{HTTPAddr: set.HTTPAddr, RTMPAddr: set.RTMPAddr, CloudName: set.CloudName,
		AllowedHosts: set.AllowedHosts, LibraryDir: set.LibraryDir, TLSCert: set.TLSCert, TLSKey: set.TLSKey})
}
