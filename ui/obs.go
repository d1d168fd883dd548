package ui

import (
	"context"
	"fmt"
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
	card   *widget.Card
}

func newOBSCard(p *streamPage) *obsCard {
	c := &obsCard{p: p, status: widget.NewLabel("Looking for OBS…"), advice: widget.NewLabel("")}
	c.status.Wrapping = fyne.TextWrapWord
	c.advice.Wrapping = fyne.TextWrapWord
	c.advice.Importance = widget.WarningImportance
	c.advice.Hide()
	c.send = widget.NewButtonWithIcon("Send to OBS", theme.MailSendIcon(), func() {
		c.run("Sending the stream to OBS", func(ctx context.Context, o OBS) error { return o.Setup(ctx, c.p.id) })
	})
	c.start = widget.NewButtonWithIcon("Start streaming in OBS", theme.MediaPlayIcon(), func() {
		c.run("Starting OBS", func(ctx context.Context, o OBS) error { return o.Start(ctx, c.p.id) })
	})
	c.start.Importance = widget.HighImportance
	c.stop = widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), func() {
		c.run("Stopping OBS", func(ctx context.Context, o OBS) error { return o.Stop(ctx) })
	})
	c.card = widget.NewCard("OBS Studio", "One click instead of copying the server and key (needs OBS 28+ with its WebSocket server on)",
		container.NewVBox(container.NewHBox(c.send, c.start, c.stop), c.status, c.advice))
	return c
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

// show shows what OBS said (UI thread).
func (c *obsCard) show(snap livestream.OBSSnapshot, streamURL string) {
	if snap.At.IsZero() {
		return // not read yet: "Looking for OBS…"
	}
	if snap.Err != nil {
		c.status.SetText(snap.Err.Error())
		c.advice.Hide()
		return
	}
	st := snap.Status
	var b strings.Builder
	fmt.Fprintf(&b, "OBS %s · ", st.Version)
	switch {
	case st.Streaming && st.Server == streamURL:
		b.WriteString("streaming to this stream")
	case st.Streaming:
		fmt.Fprintf(&b, "streaming elsewhere (%s)", st.Server)
	case st.Server == streamURL:
		b.WriteString("ready for this stream: press Start")
	default:
		b.WriteString("not streaming")
	}
	if st.Streaming {
		pct := 0.0
		if st.TotalFrames > 0 {
			pct = 100 * float64(st.SkippedFrames) / float64(st.TotalFrames)
		}
		fmt.Fprintf(&b, "\nOBS sent %d frames, dropped %d (%.1f %%), for %s; network congestion %.0f %%; rendering at %.0f fps, %d frames lagged",
			st.TotalFrames, st.SkippedFrames, pct, uptime(st.Duration), 100*st.Congestion, st.FPS, st.LaggedFrames)
		if st.Reconnecting {
			b.WriteString("; OBS is reconnecting")
		}
	}
	c.status.SetText(b.String())
	if st.Advice != "" {
		c.advice.SetText(st.Advice)
		c.advice.Show()
	} else {
		c.advice.Hide()
	}
}

// watchOBS shows what the studio's OBS monitor reads while the window
// runs: the shown page's OBS card follows it, and a notification tells
// when OBS quits.
func (v *View) watchOBS(ctx context.Context) {
	v.studio.OBS().Watch(ctx, func(snap livestream.OBSSnapshot) {
		v.do(func() {
			v.obsLast = snap
			if v.page != nil {
				v.page.obs.show(snap, v.page.st.InputURI)
			}
			if snap.Lost {
				v.app.SendNotification(fyne.NewNotification("OBS closed", "Streams from OBS ended with it."))
			}
		})
	})
}
