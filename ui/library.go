package ui

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// libraryShown is how many recordings the library screen lists.
const libraryShown = 1000

// libraryPage lists the recordings: stream, date, duration, size, status;
// each opens in the system's player, shows its folder, or is deleted.
type libraryPage struct {
	d      deps
	items  []livestream.Asset // UI thread
	total  int
	list   *widget.List
	count  *widget.Label
	folder *widget.Label
	// rows finds a row's widgets from the object the list hands back.
	rows map[fyne.CanvasObject]*libraryRow
	root fyne.CanvasObject
	// posters are the recordings' pictures read so far, and asked the
	// ones read or being read (UI thread).
	posters map[string]image.Image
	asked   map[string]bool
	// clip is the clip dialog opened last (UI thread).
	clip *clipDialog
}

// Posters in the list: their width, and how many are kept in memory.
const (
	posterWidth = 96
	maxPosters  = 200
)

func newLibraryPage(d deps) *libraryPage {
	l := &libraryPage{d: d, rows: map[fyne.CanvasObject]*libraryRow{}, posters: map[string]image.Image{}, asked: map[string]bool{}}
	l.count = widget.NewLabel("")
	l.folder = widget.NewLabel("")
	l.folder.Truncation = fyne.TextTruncateEllipsis
	openDir := widget.NewButtonWithIcon("Open folder", theme.FolderOpenIcon(), func() { l.openFolder() })
	l.list = widget.NewList(func() int { return len(l.items) }, l.makeRow, l.updateRow)
	top := container.NewVBox(
		widget.NewLabelWithStyle("Library", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewBorder(nil, nil, nil, openDir, l.folder),
		l.count,
	)
	l.root = container.NewPadded(container.NewBorder(top, nil, nil, nil, l.list))
	return l
}

// libraryRow is the widgets of one row.
type libraryRow struct {
	poster *canvas.Image
	title  *widget.Label
	detail *widget.Label
	badge  *badge
	play   *widget.Button
	reveal *widget.Button
	clip   *widget.Button
	remove *widget.Button
}

func (l *libraryPage) makeRow() fyne.CanvasObject {
	r := &libraryRow{title: widget.NewLabel("recording"), detail: widget.NewLabel("date"), badge: newBadge()}
	r.title.TextStyle.Bold = true
	r.title.Truncation = fyne.TextTruncateEllipsis
	r.detail.Truncation = fyne.TextTruncateEllipsis
	r.play = widget.NewButtonWithIcon("Open", theme.MediaPlayIcon(), nil)
	r.reveal = widget.NewButtonWithIcon("Show in folder", theme.FolderOpenIcon(), nil)
	r.clip = widget.NewButtonWithIcon("Clip…", theme.ContentCutIcon(), nil)
	r.remove = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), nil)
	r.poster = canvas.NewImageFromResource(theme.FileVideoIcon())
	r.poster.FillMode = canvas.ImageFillContain
	r.poster.SetMinSize(fyne.NewSize(posterWidth, posterWidth*9/16))
	buttons := container.NewHBox(container.NewCenter(r.badge.root), r.play, r.clip, r.reveal, r.remove)
	c := container.NewBorder(nil, nil, r.poster, buttons, container.NewVBox(r.title, r.detail))
	l.rows[c] = r
	return c
}

func (l *libraryPage) updateRow(i widget.ListItemID, o fyne.CanvasObject) {
	r := l.rows[o]
	if r == nil || i >= len(l.items) {
		return
	}
	a := l.items[i]
	l.showPoster(r.poster, a)
	title := l.streamName(a)
	if a.Clip != nil {
		title += " · clip"
	}
	r.title.SetText(title)
	detail := assetDetail(a)
	if sent, total, ok := l.d.studio.Library().UploadProgress(a.PublicID); ok && total > 0 {
		detail = fmt.Sprintf("%d %% · ", sent*100/total) + detail
	}
	r.detail.SetText(detail)
	text, c := assetStatus(a)
	r.badge.set(text, c)
	id := a.PublicID
	r.play.OnTapped = func() { l.open(id) }
	r.reveal.OnTapped = func() { l.openFolder() }
	if a.LocalGone {
		r.reveal.Disable() // only in the object store
	} else {
		r.reveal.Enable()
	}
	r.clip.OnTapped = func() { l.showClip(a) }
	if a.Status == livestream.AssetReady && !a.LocalGone {
		r.clip.Enable()
	} else {
		r.clip.Disable()
	}
	r.remove.OnTapped = func() { l.confirmDelete(a) }
	if a.Status == livestream.AssetRecording || a.Status == livestream.AssetProcessing {
		r.remove.Disable()
	} else {
		r.remove.Enable()
	}
}

// showPoster shows a recording's poster, asking for it the first time (a
// recording's icon meanwhile, and when it has none: still recording, not
// H.264, or its file only in the object store).
func (l *libraryPage) showPoster(c *canvas.Image, a livestream.Asset) {
	if img := l.posters[a.PublicID]; img != nil {
		if c.Image != img {
			c.Resource, c.Image = nil, img
			c.Refresh()
		}
		return
	}
	if c.Image != nil || c.Resource == nil {
		c.Image, c.Resource = nil, theme.FileVideoIcon()
		c.Refresh()
	}
	if a.Status != livestream.AssetReady || l.asked[a.PublicID] {
		return
	}
	if len(l.asked) >= maxPosters {
		clear(l.asked)
		clear(l.posters)
	}
	l.asked[a.PublicID] = true
	id, stills := a.PublicID, l.d.studio.Stills()
	go func() {
		b, err := stills.Poster(id, -1, 2*posterWidth) // sharp on a 2× screen
		if err != nil {
			return
		}
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		l.d.do(func() {
			if l.asked[id] {
				l.posters[id] = img
				l.list.Refresh()
			}
		})
	}()
}

// streamName is the recorded stream's name while it exists, else the
// recording's public id.
func (l *libraryPage) streamName(a livestream.Asset) string {
	if st, ok := l.d.nav.find(a.StreamID); ok {
		return st.Name
	}
	return a.PublicID
}

// assetDetail is a recording's date, length, size and picture.
func assetDetail(a livestream.Asset) string {
	parts := []string{a.Started.Local().Format("2 Jan 2006 15:04"), uptime(a.Duration), size(a.Bytes)}
	if a.Width > 0 {
		parts = append(parts, fmt.Sprintf("%d×%d", a.Width, a.Height))
	}
	if r := a.Remote; r != nil {
		switch r.Status {
		case livestream.RemoteUploaded:
			parts = append(parts, "in the bucket "+r.Bucket)
		case livestream.RemoteUploading:
			parts = append(parts, "copying to the bucket "+r.Bucket+"…")
		case livestream.RemoteFailed:
			parts = append(parts, "not yet in the bucket ("+r.Error+"); tried again")
		}
	}
	parts = append(parts, a.PublicID+".mp4")
	if a.Error != "" {
		parts = append(parts, a.Error)
	}
	return strings.Join(parts, " · ")
}

func assetStatus(a livestream.Asset) (string, color.Color) {
	switch a.Status {
	case livestream.AssetRecording:
		return "recording", colourLive
	case livestream.AssetDamaged:
		return "damaged", colourError
	case livestream.AssetProcessing:
		return "cutting", colourWaiting
	}
	if a.LocalGone {
		return "in the cloud", colourOK
	}
	return "ready", colourOK
}

// size writes a byte count for people.
func size(b int64) string {
	switch {
	case b >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(b)/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(b)/1e6)
	}
	return fmt.Sprintf("%d kB", b/1000)
}

// recording reports whether a listed recording is in progress or being
// copied to the bucket, so the screen follows it each second (UI thread).
func (l *libraryPage) recording() bool {
	for _, a := range l.items {
		if a.Status == livestream.AssetRecording || (a.Remote != nil && a.Remote.Status == livestream.RemoteUploading) {
			return true
		}
	}
	return false
}

// reload lists the recordings again, off the UI thread.
func (l *libraryPage) reload() {
	lib := l.d.studio.Library()
	go func() {
		items, total, _ := lib.List(nil, libraryShown, "")
		dir := lib.Dir()
		l.d.do(func() {
			l.items, l.total = items, total
			l.folder.SetText(dir)
			switch {
			case total == 0:
				l.count.SetText("No recordings yet. Every session of a stream is recorded here while its recording is on.")
			case total > len(items):
				l.count.SetText(fmt.Sprintf("%d recordings, the newest %d shown", total, len(items)))
			default:
				l.count.SetText(fmt.Sprintf("%d recording(s)", total))
			}
			l.list.Refresh()
		})
	}()
}

// open plays a recording in the system's player: its file, or from the
// object store when the file is only there.
func (l *libraryPage) open(publicID string) {
	var u *url.URL
	l.d.act.run("Opening the recording", func() (err error) {
		u, err = l.d.studio.Library().URL(publicID)
		return err
	}, func(err error) {
		if err == nil {
			err = l.d.app.OpenURL(u)
		}
		if err != nil {
			l.d.act.showError("Opening the recording", err)
		}
	})
}

func (l *libraryPage) openFolder() {
	dir := l.d.studio.Library().Dir()
	if err := l.d.app.OpenURL(livestream.FileURL(dir)); err != nil {
		l.d.act.showError("Opening the library folder", err)
	}
}

func (l *libraryPage) confirmDelete(a livestream.Asset) {
	l.d.act.confirm("Delete this recording?",
		fmt.Sprintf("%s (%s, %s) is removed from the library and its file deleted.", l.streamName(a), a.Started.Local().Format("2 Jan 2006 15:04"), uptime(a.Duration)),
		func(ok bool) {
			if !ok {
				return
			}
			l.d.act.run("Deleting the recording", func() error { return l.d.studio.Library().Delete(a.PublicID) }, func(err error) {
				if err != nil {
					l.d.act.showError("Deleting the recording", err)
				}
				l.reload()
			})
		})
}

// recordingText says what the stream's archive does now, with the
// current file's length and size while it records.
func recordingText(st livestream.StreamState, cur *livestream.Asset) (string, bool) {
	out, ok := st.Output(livestream.OutputArchive)
	switch {
	case !ok:
		return "This stream has no archive output.", false
	case out.Disabled:
		return "Recording is off: sessions are not saved.", false
	case out.Status == livestream.OutputErrored:
		return "Recording stopped: " + out.LastError, true
	case st.Status != livestream.StatusActive:
		return "Every session is recorded to the library.", false
	case cur != nil && cur.Status == livestream.AssetRecording:
		return fmt.Sprintf("● Recording · %s · %s · file %s.mp4", uptime(cur.Duration), size(cur.Bytes), cur.PublicID), false
	}
	return "Recording starts when the encoder sends video.", false
}
