package ui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"net/url"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
	"github.com/onair-studio/onair/engine/picture"
	"github.com/onair-studio/onair/ui/player"
)

// Preview is how the window reaches the studio's WebRTC preview.
type Preview interface {
	// Client is the WHEP client of a stream, with the credentials.
	Client(streamID string) player.Client
	// PageURL is the browser preview page of a stream, with a fresh token.
	PageURL(streamID string) (string, error)
	// Sound is what plays the preview's sound (the FFmpeg that decodes
	// it, the computer's speaker), or why the preview has none.
	Sound() (player.Sound, error)
}

// previewRetry is the pause before the pane tries again after a failure.
const previewRetry = 3 * time.Second

// bframesHint is what the pane says when the encoder sends B-frames.
const bframesHint = "The encoder sends B-frames, which the preview cannot show smoothly. In OBS: Settings > Output > Output Mode: Advanced > x264 options: bframes=0"

// previewPane shows the live preview on a stream's page. Its player runs
// while the stream is published and the page is shown; pictures reach the
// image through do (fyne.Do), one at a time: while one waits to be drawn,
// newer ones are dropped, not queued.
type previewPane struct {
	p       *streamPage
	img     *canvas.Image
	blank   *canvas.Rectangle
	note    *widget.Label
	pause   *widget.Button
	browser *widget.Button
	retry   *widget.Button // when the preview could not start
	fetch   *widget.Button // when OpenH264 is missing and Cisco has a build
	sound   *widget.Button // the speaker: off until turned on
	card    *widget.Card

	// UI thread only:
	cancel  context.CancelFunc // of the running player, nil when stopped
	paused  bool
	failed  time.Time // when the player last stopped on an error
	noCodec bool      // OpenH264 is missing: only the browser is offered
	// otherCodec: the stream is not H.264, which the preview needs.
	otherCodec bool
	run        int  // counts player runs, to ignore a stale one's end
	playing    bool // the running player has shown a picture
	bframes    bool // the encoder sends B-frames (the hint is shown)
	soundOn    bool // the speaker is on: the player asks for the sound
	pl         *player.Player
}

func newPreviewPane(p *streamPage) *previewPane {
	pp := &previewPane{p: p}
	pp.img = canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, 16, 9)))
	pp.img.FillMode = canvas.ImageFillContain
	pp.img.ScaleMode = canvas.ImageScaleFastest
	pp.img.SetMinSize(fyne.NewSize(384, 216))
	pp.img.Hide()
	pp.blank = canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	pp.blank.SetMinSize(fyne.NewSize(384, 216))
	pp.note = widget.NewLabel("")
	pp.note.Wrapping = fyne.TextWrapWord
	pp.pause = widget.NewButtonWithIcon("Pause preview", theme.MediaPauseIcon(), pp.flip)
	pp.browser = widget.NewButtonWithIcon("Open preview in browser", theme.ComputerIcon(), pp.openBrowser)
	pp.retry = widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), pp.tryAgain)
	pp.retry.Hide()
	pp.fetch = widget.NewButtonWithIcon("Download OpenH264", theme.DownloadIcon(), pp.fetchCodec)
	pp.fetch.Importance = widget.HighImportance
	pp.fetch.Hide()
	pp.sound = widget.NewButtonWithIcon("Sound off", theme.VolumeMuteIcon(), pp.flipSound)
	pp.card = widget.NewCard("Preview", "What viewers get, within a fraction of a second",
		container.NewVBox(container.NewStack(pp.blank, pp.img), pp.note, container.NewHBox(pp.pause, pp.sound),
			container.NewHBox(pp.fetch, pp.browser, pp.retry)))
	return pp
}

// update starts or stops the player for the stream's state (UI thread).
func (pp *previewPane) update(st livestream.StreamState) {
	if pp.p.d.studio.Preview() == nil {
		if err := pp.p.d.studio.PreviewError(); err != nil {
			pp.card.Show()
			pp.img.Hide()
			pp.pause.Hide()
			pp.sound.Hide()
			pp.browser.Hide()
			pp.retry.Show()
			pp.note.SetText("The live preview is off: " + err.Error() + ".")
			return
		}
		pp.card.Hide()
		return
	}
	pp.card.Show()
	if pp.retry.Visible() { // it runs now: back to a normal card
		pp.retry.Hide()
		pp.browser.Show()
		pp.blank.Show()
	}
	switch {
	case pp.noCodec, pp.otherCodec && st.Publishing:
		pp.pause.Hide()
		pp.sound.Hide()
	case !st.Publishing:
		pp.stop()
		pp.img.Hide()
		pp.pause.Hide()
		pp.sound.Hide()
		if st.Status == livestream.StatusActive {
			pp.note.SetText("The preview starts when the encoder sends.")
		} else {
			pp.note.SetText("The preview shows here while the stream is live.")
		}
	case pp.paused:
		pp.pause.Show()
		pp.sound.Show()
		pp.note.SetText("Preview paused.")
	case pp.cancel == nil && time.Since(pp.failed) >= previewRetry:
		pp.pause.Show()
		pp.sound.Show()
		pp.start()
	}
}

// fetchCodec downloads Cisco's OpenH264 off the UI thread; once it is
// loaded the preview starts (UI thread).
func (pp *previewPane) fetchCodec() {
	pp.fetch.Disable()
	pp.note.SetText("Downloading OpenH264 from Cisco…")
	codec := pp.p.d.studio.Codec()
	pp.p.d.act.run("Downloading OpenH264", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		return codec.Fetch(ctx)
	}, func(err error) {
		pp.fetch.Enable()
		if err != nil {
			pp.note.SetText("OpenH264 was not installed: " + plain(err) + ". The browser preview works without it.")
			return
		}
		pp.fetch.Hide()
		pp.noCodec, pp.failed = false, time.Time{}
		pp.note.SetText("OpenH264 is installed.")
		pp.update(pp.p.st)
	})
}

// tryAgain starts the preview that could not start, off the UI thread, and
// shows the outcome (UI thread).
func (pp *previewPane) tryAgain() {
	pp.retry.Disable()
	pp.note.SetText("Starting the live preview…")
	pp.p.d.act.run("Starting the live preview", pp.p.d.studio.RetryPreview, func(error) {
		pp.retry.Enable()
		pp.update(pp.p.st) // says why it is still off, or plays
		pp.p.d.nav.partsChanged()
	})
}

// stats shows what the player needs to say about the input (UI thread).
func (pp *previewPane) stats(s livestream.Stats) {
	if pp.p.d.studio.Preview() == nil {
		return // no preview in this run: the card says why
	}
	if pp.cancel != nil && s.BFrames && !pp.bframes {
		pp.note.SetText(bframesHint)
	}
	pp.bframes = s.BFrames
	if other := s.VideoCodec != "" && s.VideoCodec != "h264"; other != pp.otherCodec {
		pp.otherCodec = other
		pp.blank.Hidden, pp.browser.Hidden = other, other // nothing to show, in the window or a browser
		pp.blank.Refresh()
		pp.browser.Refresh()
	}
	if pp.otherCodec {
		pp.stop()
		pp.img.Hide()
		pp.pause.Hide()
		pp.sound.Hide()
		pp.note.SetText("No preview: " + livestream.NeedsH264(s.VideoCodec) + ".")
		return
	}
	pp.update(pp.p.st) // retries after a failure
}

// start runs a player for the stream (UI thread).
func (pp *previewPane) start() {
	ctx, cancel := context.WithCancel(context.Background())
	pp.cancel = cancel
	pp.run++
	run := pp.run
	pl := &player.Player{Client: pp.p.d.studio.Preview().Client(pp.p.id)}
	pl.OnFrame = func(img *image.RGBA) {
		pp.p.d.do(func() {
			if pp.run != run {
				return
			}
			pp.img.Image = img
			pp.img.Show()
			pp.img.Refresh()
			pl.Shown()
			if !pp.playing {
				pp.playing = true
				if !pp.bframes {
					pp.note.SetText(fmt.Sprintf("Playing %d×%d as it arrives.", img.Rect.Dx(), img.Rect.Dy()))
				}
			}
		})
	}
	if pp.soundOn {
		snd, err := pp.p.d.studio.Preview().Sound()
		if err != nil {
			pp.soundOn = false
			pp.showSound()
			pp.p.d.act.showError("Turning the preview's sound on", err)
		} else {
			pl.Sound = &snd
			pl.OnSoundError = func(err error) {
				pp.p.d.do(func() {
					if pp.run == run {
						pp.note.SetText("The preview's sound stopped: " + plain(err) + ". The picture goes on.")
					}
				})
			}
		}
	}
	pp.pl = pl
	pp.playing = false
	pp.note.SetText("Connecting to the preview…")
	pp.pause.SetText("Pause preview")
	go func() {
		err := pl.Run(ctx)
		pp.p.d.do(func() { pp.ended(run, err) })
	}()
}

// ended takes the end of player run (UI thread).
func (pp *previewPane) ended(run int, err error) {
	if pp.run != run {
		return
	}
	pp.cancel = nil
	if err == nil {
		return // stopped on purpose
	}
	pp.failed = time.Now()
	pp.img.Hide()
	switch {
	case errors.Is(err, picture.ErrNoDecoder):
		pp.noCodec = true
		pp.pause.Hide()
		pp.sound.Hide()
		if d, ok := pp.p.d.studio.Codec().Offer(); ok {
			pp.fetch.Show()
			pp.note.SetText("The preview in this window needs the OpenH264 decoder. Download OpenH264 fetches Cisco's build (" +
				d.File + ", about 1 MB; its SHA-256 is checked before it is loaded) — or use the browser preview, which needs nothing.")
			return
		}
		pp.note.SetText("The preview needs the OpenH264 decoder, which is not installed (" + plain(err) + "). The browser preview works without it.")
	case errors.Is(err, player.ErrEnded):
		pp.note.SetText("The preview ended; it starts again when the stream is live.")
	default:
		pp.note.SetText("The preview stopped: " + plain(err) + ". Trying again shortly.")
	}
}

// stop ends the running player (UI thread).
func (pp *previewPane) stop() {
	if pp.cancel != nil {
		pp.cancel()
		pp.cancel = nil
		pp.run++
	}
}

func (pp *previewPane) flip() {
	pp.paused = !pp.paused
	if pp.paused {
		pp.stop()
		pp.pause.SetText("Resume preview")
		pp.pause.SetIcon(theme.MediaPlayIcon())
	} else {
		pp.pause.SetText("Pause preview")
		pp.pause.SetIcon(theme.MediaPauseIcon())
	}
	pp.update(pp.p.st)
}

// flipSound turns the preview's sound on or off (off at first: the
// window stays quiet until asked); a running preview starts again with
// or without it, so that the studio makes Opus only while it is heard.
func (pp *previewPane) flipSound() {
	pp.soundOn = !pp.soundOn
	pp.showSound()
	if pp.cancel != nil {
		pp.stop()
		pp.update(pp.p.st)
	}
}

func (pp *previewPane) showSound() {
	if pp.soundOn {
		pp.sound.SetText("Sound on")
		pp.sound.SetIcon(theme.VolumeUpIcon())
		pp.sound.Importance = widget.HighImportance
	} else {
		pp.sound.SetText("Sound off")
		pp.sound.SetIcon(theme.VolumeMuteIcon())
		pp.sound.Importance = widget.MediumImportance
	}
	pp.sound.Refresh()
}

func (pp *previewPane) openBrowser() {
	id := pp.p.id
	var page string
	pp.p.d.act.run("Opening the preview", func() error {
		var err error
		page, err = pp.p.d.studio.Preview().PageURL(id)
		return err
	}, func(err error) {
		if err != nil {
			pp.p.d.act.showError("Opening the preview", err)
			return
		}
		u, err := url.Parse(page)
		if err == nil {
			err = pp.p.d.app.OpenURL(u)
		}
		if err != nil {
			pp.p.d.act.showError("Opening the preview", err)
		}
	})
}
