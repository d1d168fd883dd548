package ui

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// settingsPage shows the API credentials (reveal, copy, rotate), the
// listen addresses and cloud name (saved for the next start) and the data
// folder.
type settingsPage struct {
	d deps
	// again restarts the studio with the saved settings (nil: not offered).
	again   func()
	key     *copyRow
	secret  *secretField
	rotate  *widget.Button
	apiURL  *copyRow
	http    *field
	rtmp    *field
	srt     *field
	srtPass *field
	cloud   *field
	hosts   *field
	lib     *field
	tlsCert *field
	tlsKey  *field
	save    *widget.Button
	saved   *widget.Label
	restart *widget.Button
	data    *widget.Label
	openDir *widget.Button
	obsHost *field
	obsPort *field
	obsPass *field
	obsTest *widget.Button
	obsSaid *widget.Label
	hooks   *webhooksCard
	public  *publicCard
	storage *storageCard
	parts   *partsCard
	cert    *copyRow
	certRow *fyne.Container
	root    fyne.CanvasObject
	cur     Settings
}

func newSettingsPage(d deps, version string, restart func()) *settingsPage {
	s := &settingsPage{d: d, again: restart}
	clip := func() fyne.Clipboard { return d.app.Clipboard() }
	s.key = newCopyRow(clip, func() string { k, _ := d.studio.Credentials(); return k })
	s.secret = newSecretField(clip, func() string { _, sec := d.studio.Credentials(); return sec })
	s.rotate = widget.NewButtonWithIcon("Rotate secret", theme.ViewRefreshIcon(), s.confirmRotate)
	s.apiURL = newCopyRow(clip, func() string { return s.cur.HTTPURL + "/v2/video/" + s.cur.CloudName + "/live_streams" })
	s.cert = newCopyRow(clip, func() string { return s.cur.TLSFingerprint })
	s.certRow = container.NewVBox(widget.NewLabel("HTTPS certificate (SHA-256): check it matches on the other computer"), s.cert.root)
	api := widget.NewCard("REST API", "HTTP Basic: the key is the user name, the secret the password",
		container.NewVBox(widget.NewForm(
			widget.NewFormItem("Live streams", s.apiURL.root),
			widget.NewFormItem("API key", s.key.root),
			widget.NewFormItem("API secret", container.NewBorder(nil, nil, nil, s.rotate, s.secret.root)),
		), s.certRow))

	s.http = newField("API, HLS and pages", "127.0.0.1:8935")
	s.rtmp = newField("RTMP for encoders", "127.0.0.1:1935")
	s.srt = newField("SRT for encoders", "127.0.0.1:8890, or off")
	s.srtPass = newSecretEntryField("SRT passphrase", "10 to 79 characters; empty: none")
	s.cloud = newField("Cloud name", "local")
	s.hosts = newField("Other names of this computer", "e.g. studio.local, my-pc.lan")
	s.lib = newField("Recordings folder", "the library folder")
	s.tlsCert = newField("HTTPS certificate", "PEM file; empty: a self-signed one (beyond 127.0.0.1 only)")
	s.tlsKey = newField("HTTPS key", "its key, PEM file")
	s.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), s.submit)
	s.saved = widget.NewLabel("")
	s.saved.Wrapping = fyne.TextWrapWord
	s.saved.Hide()
	s.restart = widget.NewButtonWithIcon("Restart now", theme.ViewRefreshIcon(), func() {
		d.act.confirm("Restart the studio?", "Streams on air end and encoders are disconnected; they can reconnect once it is back.",
			func(ok bool) {
				if ok && s.again != nil {
					s.again()
				}
			})
	})
	s.restart.Hide()
	network := widget.NewCard("Network and folders", "Addresses to listen on (127.0.0.1 keeps the studio to this computer) and where recordings go",
		container.NewVBox(widget.NewForm(s.http.item(), s.rtmp.item(), s.srt.item(), s.srtPass.item(), s.cloud.item(), s.hosts.item(), s.lib.item(), s.tlsCert.item(), s.tlsKey.item()), container.NewHBox(s.save, s.restart), s.saved))

	s.data = widget.NewLabel("")
	s.data.Wrapping = fyne.TextWrapBreak
	s.openDir = widget.NewButtonWithIcon("Open folder", theme.FolderOpenIcon(), func() {
		if err := d.app.OpenURL(livestream.FileURL(s.cur.DataDir)); err != nil {
			d.act.showError("Opening the data folder", err)
		}
	})
	data := widget.NewCard("Data folder", "The store, the recordings library and the logs",
		container.NewBorder(nil, nil, nil, s.openDir, s.data))
	s.obsHost = newField("Host", "127.0.0.1")
	s.obsPort = newField("Port", "4455")
	s.obsPass = newSecretEntryField("Password", "OBS > Tools > WebSocket Server Settings > Show Connect Info")
	s.obsSaid = widget.NewLabel("")
	s.obsSaid.Wrapping = fyne.TextWrapWord
	s.obsTest = widget.NewButtonWithIcon("Save and test connection", theme.ConfirmIcon(), s.testOBS)
	obsCard := widget.NewCard("OBS Studio", "Its WebSocket server (OBS 28 and later: Tools > WebSocket Server Settings)",
		container.NewVBox(widget.NewForm(s.obsHost.item(), s.obsPort.item(), s.obsPass.item()), container.NewHBox(s.obsTest), s.obsSaid))
	about := widget.NewLabel("OnAir Studio " + version)
	s.hooks = newWebhooksCard(d)
	s.public = newPublicCard(d)
	s.storage = newStorageCard(d)
	s.parts = newPartsCard(func() {
		d.act.run("Starting the live preview", d.studio.RetryPreview, func(error) {
			s.parts.load(d.studio.Parts()) // it says why, when it is still off
			d.nav.partsChanged()
		})
	})
	s.root = container.NewVScroll(container.NewPadded(container.NewVBox(
		widget.NewLabelWithStyle("Settings", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		s.parts.card, api, network, s.public.card, s.storage.card, s.hooks.card, obsCard, data, about)))
	return s
}

// load shows the current settings (UI thread; the values are in memory).
func (s *settingsPage) load() {
	s.cur = s.d.studio.Settings()
	s.parts.load(s.d.studio.Parts())
	s.key.refresh()
	s.secret.refresh()
	s.apiURL.refresh()
	s.http.entry.SetText(s.cur.HTTPAddr)
	s.rtmp.entry.SetText(s.cur.RTMPAddr)
	s.srt.entry.SetText(s.cur.SRT.Addr)
	s.srtPass.entry.SetText(s.cur.SRT.Passphrase)
	s.cloud.entry.SetText(s.cur.CloudName)
	s.hosts.entry.SetText(s.cur.AllowedHosts)
	s.lib.entry.SetText(s.cur.LibraryDir)
	s.tlsCert.entry.SetText(s.cur.TLSCert)
	s.tlsKey.entry.SetText(s.cur.TLSKey)
	o := s.d.studio.OBS().Settings()
	s.obsHost.entry.SetText(o.Host)
	s.obsPort.entry.SetText(strconv.Itoa(o.Port))
	s.obsPass.entry.SetText(o.Password)
	s.data.SetText(s.cur.DataDir)
	s.cert.refresh()
	if s.cur.TLSFingerprint == "" {
		s.certRow.Hide()
	} else {
		s.certRow.Show()
	}
	s.hooks.load()
	s.public.load(s.cur)
	s.storage.load(s.cur)
}

func (s *settingsPage) confirmRotate() {
	s.d.act.confirm("Rotate the API secret?",
		"A new secret is made and works at once; scripts using the old one get 401 until they are updated.",
		func(ok bool) {
			if !ok {
				return
			}
			s.d.act.run("Rotating the API secret", func() error {
				_, err := s.d.studio.RotateSecret()
				return err
			}, func(err error) {
				if err != nil {
					s.d.act.showError("Rotating the API secret", err)
					return
				}
				s.secret.refresh()
			})
		})
}

// The settings' patterns, compiled when first used: hostName's counted
// repeats take ~1.5 ms to compile, work every start of the window did
// before its window was shown.
var (
	cloudName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`) })
	hostName  = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$`)
	})
)

// checkHosts says what is wrong with a comma-separated list of host names.
func checkHosts(list string) string {
	for h := range strings.SplitSeq(list, ",") {
		h = strings.TrimSpace(h)
		if h != "" && !hostName().MatchString(h) {
			return "Host names only, separated by commas (no ports, no http://): " + strconv.Quote(h) + " is not one."
		}
	}
	return ""
}

// testOBS saves the obs-websocket connection (it applies at once) and
// asks OBS.
func (s *settingsPage) testOBS() {
	host := strings.TrimSpace(s.obsHost.entry.Text)
	port, err := strconv.Atoi(strings.TrimSpace(s.obsPort.entry.Text))
	s.obsHost.err.set("")
	s.obsPort.err.set("")
	if host == "" {
		s.obsHost.err.set("The computer OBS runs on: 127.0.0.1 for this one.")
	}
	if err != nil || port < 1 || port > 65535 {
		s.obsPort.err.set("The port is a number from 1 to 65535 (OBS's default is 4455).")
	}
	if s.obsHost.err.Text != "" || s.obsPort.err.Text != "" {
		return
	}
	set := livestream.OBSSettings{Host: host, Port: port, Password: s.obsPass.entry.Text}
	o := s.d.studio.OBS()
	s.obsTest.Disable()
	s.obsSaid.SetText("Asking OBS…")
	var st livestream.OBSStatus
	s.d.act.run("Testing the OBS connection", func() error {
		if err := o.SaveSettings(set); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
		defer cancel()
		var err error
		st, err = o.Status(ctx)
		return err
	}, func(err error) {
		s.obsTest.Enable()
		if err != nil {
			s.obsSaid.SetText("Saved. " + err.Error())
			return
		}
		s.obsSaid.SetText(fmt.Sprintf("Saved. Connected to OBS %s (obs-websocket %s).", st.Version, st.WebSocketVersion))
	})
}

// checkFolder says what is wrong with a folder for recordings, or "".
func checkFolder(dir string) string {
	if dir == "" || !filepath.IsAbs(dir) {
		return "A full path to a folder, e.g. " + filepath.Join(string(filepath.Separator)+"home", "me", "Videos", "OnAir") + "."
	}
	return ""
}

// checkAddr says what is wrong with a listen address, or "".
func checkAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return "Write it as HOST:PORT, e.g. 127.0.0.1:8935."
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "The port is a number from 1 to 65535 (or 0 for any free one, as the studio validates)."
	}
	if host != "" && net.ParseIP(host) == nil {
		return "The host is an IP address of this computer, e.g. 127.0.0.1 or 0.0.0.0."
	}
	return ""
}

func (s *settingsPage) submit() {
	next := s.cur
	next.HTTPAddr, next.RTMPAddr, next.CloudName = s.http.entry.Text, s.rtmp.entry.Text, s.cloud.entry.Text
	next.AllowedHosts = s.hosts.entry.Text
	next.LibraryDir = strings.TrimSpace(s.lib.entry.Text)
	next.TLSCert, next.TLSKey = strings.TrimSpace(s.tlsCert.entry.Text), strings.TrimSpace(s.tlsKey.entry.Text)
	s.tlsKey.err.set("")
	if (next.TLSCert == "") != (next.TLSKey == "") {
		s.tlsKey.err.set("The certificate and its key go together: give both, or neither for a self-signed one.")
	}
	next.SRT.Addr, next.SRT.Passphrase = strings.TrimSpace(s.srt.entry.Text), s.srtPass.entry.Text
	s.srt.err.set("")
	if next.SRT.Addr != livestream.SRTOff {
		s.srt.err.set(checkAddr(next.SRT.Addr))
	}
	s.srtPass.err.set("")
	if n := len(next.SRT.Passphrase); n != 0 && (n < 10 || n > 79) {
		s.srtPass.err.set("10 to 79 characters, or empty for none.")
	}
	s.hosts.err.set(checkHosts(next.AllowedHosts))
	s.lib.err.set(checkFolder(next.LibraryDir))
	s.http.err.set(checkAddr(next.HTTPAddr))
	s.rtmp.err.set(checkAddr(next.RTMPAddr))
	if s.http.err.Text == "" && s.rtmp.err.Text == "" && next.HTTPAddr == next.RTMPAddr {
		s.rtmp.err.set("RTMP needs a port of its own.")
	}
	if !cloudName().MatchString(next.CloudName) {
		s.cloud.err.set("Lower-case letters, digits, '-' and '_', up to 64.")
	} else {
		s.cloud.err.set("")
	}
	if s.http.err.Text != "" || s.rtmp.err.Text != "" || s.srt.err.Text != "" || s.srtPass.err.Text != "" || s.cloud.err.Text != "" || s.hosts.err.Text != "" || s.lib.err.Text != "" || s.tlsKey.err.Text != "" {
		return
	}
	s.save.Disable()
	s.d.act.run("Saving the settings", func() error { return s.d.studio.SaveSettings(next) }, func(err error) {
		s.save.Enable()
		if err != nil {
			s.d.act.showError("Saving the settings", err)
			return
		}
		s.cur = next
		s.saved.SetText("Saved. They apply when the studio starts again.")
		s.saved.Show()
		if s.again != nil {
			s.restart.Show()
		}
	})
}
