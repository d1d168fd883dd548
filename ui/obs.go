package ui

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// obsCard is the stream page's OBS Studio card: send this stream's server
// and key to OBS, start and stop OBS's stream, and OBS's own figures.
type obsCard struct {
	p      *streamPage
	status *widget.Label
	advice *widget.Label
	send   *widget.Button
	start  *widget.Button
	stop   *widget.Button
	// retry looks for OBS now, when it was not found (the studio looks
	// again by itself, less often the longer OBS is away).
	retry *widget.Button
	// via picks how OBS sends (RTMP, or SRT when the studio listens for
	// it); hidden without SRT.
	via *widget.RadioGroup
	// seen is the protocol OBS was last seen set to for this stream: the
	// choice follows it when it changes (not at every status).
	seen string
	card *widget.Card
}

func newOBSCard(p *streamPage) *obsCard {
	c := &obsCard{p: p, status: widget.NewLabel("Looking for OBS…"), advice: widget.NewLabel("")}
	c.status.Wrapping = fyne.TextWrapWord
	c.advice.Wrapping = fyne.TextWrapWord
	c.advice.Importance = widget.WarningImportance
	c.advice.Hide()
	c.send = widget.NewButtonWithIcon("Send to OBS", theme.MailSendIcon(), func() {
		via := c.ingest()
		c.run("Sending the stream to OBS", func(ctx context.Context, o OBS) error { return o.Setup(ctx, c.p.id, via) })
	})
	c.start = widget.NewButtonWithIcon("Start streaming in OBS", theme.MediaPlayIcon(), func() {
		via := c.ingest()
		c.run("Starting OBS", func(ctx context.Context, o OBS) error { return o.Start(ctx, c.p.id, via) })
	})
	c.start.Importance = widget.HighImportance
	c.stop = widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), func() {
		c.run("Stopping OBS", func(ctx context.Context, o OBS) error { return o.Stop(ctx) })
	})
	c.retry = widget.NewButtonWithIcon("Look again", theme.ViewRefreshIcon(), func() { c.p.d.studio.OBS().Refresh() })
	c.retry.Hide()
	c.via = widget.NewRadioGroup([]string{"RTMP", "SRT"}, nil)
	c.via.Horizontal = true
	c.via.Required = true
	c.via.SetSelected("RTMP")
	if p.st.SRTURI == "" {
		c.via.Hide()
	}
	c.card = widget.NewCard("OBS Studio", "One click instead of copying the server and key (OBS 28+)",
		container.NewVBox(container.NewHBox(c.start, c.stop), container.NewHBox(c.send, c.via), c.status, container.NewHBox(c.retry), c.advice))
	return c
}

// ingest is the protocol picked for OBS (UI thread).
func (c *obsCard) ingest() livestream.Ingest {
	if c.via.Visible() && c.via.Selected == "SRT" {
		return livestream.IngestSRT
	}
	return livestream.IngestRTMP
}

// run makes an OBS call off the UI thread; the monitor then reads OBS
// again and the card shows it.
func (c *obsCard) run(what string, f func(context.Context, OBS) error) {
	o := c.p.d.studio.OBS()
	c.p.d.act.run(what, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return f(ctx, o)
	}, func(err error) {
		if err != nil {
			c.p.d.act.showError(what, err)
		}
	})
}

// show shows what OBS said about stream st (UI thread).
func (c *obsCard) show(snap livestream.OBSSnapshot, st livestream.StreamState) {
	if snap.At.IsZero() {
		return // not read yet: "Looking for OBS…"
	}
	if snap.Err != nil {
		c.status.SetText(snap.Err.Error())
		c.advice.Hide()
		c.retry.Show()
		return
	}
	c.retry.Hide()
	ours := snap.Status.Server != "" && (snap.Status.Server == st.InputURI || snap.Status.Server == st.SRTURI)
	via := "RTMP"
	if snap.Status.Server == st.SRTURI {
		via = "SRT"
	}
	if ours && via != c.seen && c.via.Visible() {
		c.seen = via
		c.via.SetSelected(via)
	}
	o := snap.Status
	var b strings.Builder
	fmt.Fprintf(&b, "OBS %s · ", o.Version)
	switch {
	case o.Streaming && ours:
		fmt.Fprintf(&b, "streaming to this studio over %s", via)
	case o.Streaming:
		fmt.Fprintf(&b, "streaming elsewhere (%s)", scrubServer(o.Server))
	case ours:
		fmt.Fprintf(&b, "set to this studio over %s: press Start", via)
	default:
		b.WriteString("not streaming")
	}
	if o.Streaming {
		pct := 0.0
		if o.TotalFrames > 0 {
			pct = 100 * float64(o.SkippedFrames) / float64(o.TotalFrames)
		}
		fmt.Fprintf(&b, "\nOBS sent %d frames, dropped %d (%.1f %%), for %s; network congestion %.0f %%; rendering at %.0f fps, %d frames lagged",
			o.TotalFrames, o.SkippedFrames, pct, uptime(o.Duration), 100*o.Congestion, o.FPS, o.LaggedFrames)
		if o.Reconnecting {
			b.WriteString("; OBS is reconnecting")
		}
	}
	c.status.SetText(b.String())
	if o.Advice != "" {
		c.advice.SetText(o.Advice)
		c.advice.Show()
	} else {
		c.advice.Hide()
	}
}

// scrubServer leaves out an SRT URL's query (its stream id holds a key,
// maybe a passphrase) from a server shown on screen.
func scrubServer(server string) string {
	if u, err := url.Parse(server); err == nil && u.RawQuery != "" {
		u.RawQuery = ""
		return u.String() + "?…"
	}
	return server
}

// watchOBS shows what the studio's OBS monitor reads while the window
// runs: the shown page's OBS card follows it, and a notification tells
// when OBS quits.
func (v *View) watchOBS(ctx context.Context) {
	v.studio.OBS().Watch(ctx, func(snap livestream.OBSSnapshot) {
		v.do(func() {
			v.obsLast = snap
			if v.page != nil {
				v.page.obs.show(snap, v.page.st)
			}
			if snap.Lost {
				v.app.SendNotification(fyne.NewNotification("OBS closed", "Streams from OBS ended with it."))
			}
		})
	})
}
