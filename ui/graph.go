package ui

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onair-studio/onair/engine/livestream"
)

// series is one line of a graph: a value per sample (ok false: none).
type series struct {
	name   string
	colour fyne.ThemeColorName
	value  func(livestream.Sample) (float64, bool)
}

// graph draws a stream's recent history — one or more series over the
// last five minutes, and marks where outputs dropped media — on a raster
// drawn in Go (no canvas object per point). Pointing at it (hover, or a
// tap) shows the values at that second. Set is called on the UI thread.
type graph struct {
	widget.BaseWidget
	title  string
	format func(float64) string
	lines  []series
	// marks, when set, puts a mark under the seconds it is true for.
	marks func(livestream.Sample) bool
	// floor is the least top of the value axis (a frame rate graph of a
	// still picture is not all noise).
	floor float64

	samples []livestream.Sample
	span    time.Duration // the time axis
	at      int           // the sample pointed at; -1 none
	head    *canvas.Text
	raster  *canvas.Raster
	box     *fyne.Container
}

func newGraph(title string, format func(float64) string, lines ...series) *graph {
	g := &graph{title: title, format: format, lines: lines, at: -1, span: livestream.HistorySeconds * time.Second}
	// A caption without a label's padding: the graphs stay compact.
	g.head = canvas.NewText(title, theme.Color(theme.ColorNameForeground))
	g.head.TextSize = theme.CaptionTextSize()
	g.raster = canvas.NewRaster(g.draw)
	g.raster.SetMinSize(fyne.NewSize(240, 46))
	g.box = container.NewBorder(g.head, nil, nil, nil, g.raster)
	g.ExtendBaseWidget(g)
	return g
}

// CreateRenderer is Fyne's: the heading over the drawing.
func (g *graph) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(g.box) }

// set shows samples, oldest first (UI thread).
func (g *graph) set(samples []livestream.Sample) {
	g.samples = samples
	if g.at >= len(samples) {
		g.at = -1
	}
	g.showHead()
	g.raster.Refresh()
}

// showHead writes the heading in the theme's text colour (which follows
// the system's light or dark mode).
func (g *graph) showHead() {
	g.head.Text = g.heading()
	g.head.Color = theme.Color(theme.ColorNameForeground)
	g.head.Refresh()
}

// values returns the graph's data: each series' values by sample (NaN
// where it has none). Tests read what the graph draws through it.
func (g *graph) values() [][]float64 {
	out := make([][]float64, len(g.lines))
	for i, l := range g.lines {
		out[i] = make([]float64, len(g.samples))
		for j, s := range g.samples {
			out[i][j] = math.NaN()
			if v, ok := l.value(s); ok {
				out[i][j] = v
			}
		}
	}
	return out
}

// heading is the title with the latest values, or those of the second
// pointed at.
func (g *graph) heading() string {
	if len(g.samples) == 0 {
		return g.title
	}
	i, when := len(g.samples)-1, "now"
	if g.at >= 0 {
		i, when = g.at, g.samples[g.at].At.Local().Format("15:04:05")
	}
	var b strings.Builder
	b.WriteString(g.title + " · " + when + ":")
	s := g.samples[i]
	for _, l := range g.lines {
		v, ok := l.value(s)
		switch {
		case !ok:
			b.WriteString(" " + l.name + " –")
		case len(g.lines) == 1:
			b.WriteString(" " + g.format(v))
		default:
			b.WriteString(" " + l.name + " " + g.format(v))
		}
	}
	if g.marks != nil && g.marks(s) {
		fmt.Fprintf(&b, " · %d dropped", s.Dropped)
	}
	return b.String()
}

// top is the value axis' top for values: the largest value with some headroom,
// rounded to a figure that reads well.
func (g *graph) top(values [][]float64) float64 {
	top := g.floor
	for _, vs := range values {
		for _, v := range vs {
			if !math.IsNaN(v) && v > top {
				top = v
			}
		}
	}
	if top <= 0 {
		return 1
	}
	top *= 1.15
	p := math.Pow(10, math.Floor(math.Log10(top)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if top <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// draw paints the graph at w×h pixels: a faint grid, each series as a
// line over a light fill, drop marks along the bottom, and the second
// pointed at.
func (g *graph) draw(w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	if w < 4 || h < 4 {
		return img
	}
	v := fyne.CurrentApp().Settings().ThemeVariant()
	th := fyne.CurrentApp().Settings().Theme()
	grid := withAlpha(th.Color(theme.ColorNameForeground, v), 0x28)
	for _, f := range []float64{0, 0.5, 1} {
		y := int(f * float64(h-1))
		for x := 0; x < w; x += 3 {
			set(img, x, y, grid)
		}
	}
	if len(g.samples) == 0 {
		return img
	}
	end := g.samples[len(g.samples)-1].At
	xOf := func(t time.Time) float64 {
		return float64(w-1) * (1 - float64(end.Sub(t))/float64(g.span))
	}
	values := g.values() // once per drawing: the axis and the lines
	top := g.top(values)
	yOf := func(val float64) float64 { return float64(h-1) * (1 - val/top) }
	for i, vs := range values {
		c := withAlpha(th.Color(g.lines[i].colour, v), 0xff)
		fill := withAlpha(c, 0x30)
		px, py := math.NaN(), math.NaN()
		for j, val := range vs {
			if math.IsNaN(val) {
				px = math.NaN()
				continue
			}
			x, y := xOf(g.samples[j].At), yOf(val)
			if !math.IsNaN(px) {
				if i == 0 { // the first series is filled down to the axis
					for col := int(px); col <= int(x); col++ {
						t := 0.0
						if x > px {
							t = (float64(col) - px) / (x - px)
						}
						for yy := int(py+(y-py)*t) + 1; yy < h; yy++ {
							set(img, col, yy, fill)
						}
					}
				}
				line(img, px, py, x, y, c)
			}
			px, py = x, y
		}
	}
	if g.marks != nil {
		red := withAlpha(th.Color(theme.ColorNameError, v), 0xff)
		for _, s := range g.samples {
			if g.marks(s) {
				x := int(xOf(s.At))
				for yy := h - h/5; yy < h; yy++ {
					set(img, x, yy, red)
					set(img, x+1, yy, red)
				}
			}
		}
	}
	if g.at >= 0 {
		x := int(xOf(g.samples[g.at].At))
		fg := withAlpha(th.Color(theme.ColorNameForeground, v), 0xa0)
		for y := range h {
			set(img, x, y, fg)
		}
	}
	return img
}

// set paints one pixel (none outside the image), without boxing the
// colour as image.Image's Set would.
func set(img *image.NRGBA, x, y int, c color.NRGBA) {
	if (image.Point{x, y}).In(img.Rect) {
		i := img.PixOffset(x, y)
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
}

// line draws from (x0,y0) to (x1,y1), two pixels thick.
func line(img *image.NRGBA, x0, y0, x1, y1 float64, c color.NRGBA) {
	n := int(math.Max(math.Abs(x1-x0), math.Abs(y1-y0))) + 1
	for k := 0; k <= n; k++ {
		t := float64(k) / float64(n)
		x, y := int(x0+(x1-x0)*t), int(y0+(y1-y0)*t)
		set(img, x, y, c)
		set(img, x, y-1, c)
	}
}

func withAlpha(c color.Color, a uint8) color.NRGBA {
	if c == nil { // a colour the theme does not have
		c = color.Gray{Y: 0x80}
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = a
	return n
}

// point shows the values at x (in the widget's coordinates).
func (g *graph) point(x float32) {
	if len(g.samples) == 0 {
		return
	}
	w := g.raster.Size().Width
	if w <= 0 {
		return
	}
	end := g.samples[len(g.samples)-1].At
	t := end.Add(-time.Duration(float64(g.span) * float64(1-(x-g.raster.Position().X)/w)))
	best, bestD := -1, time.Duration(math.MaxInt64)
	for i, s := range g.samples {
		d := s.At.Sub(t)
		if d < 0 {
			d = -d
		}
		if d < bestD {
			best, bestD = i, d
		}
	}
	if bestD > 2*time.Second {
		best = -1 // before the history starts
	}
	if best != g.at {
		g.at = best
		g.showHead()
		g.raster.Refresh()
	}
}

// MouseIn, MouseMoved and MouseOut follow the pointer (desktop).
func (g *graph) MouseIn(e *desktop.MouseEvent)    { g.point(e.Position.X) }
func (g *graph) MouseMoved(e *desktop.MouseEvent) { g.point(e.Position.X) }
func (g *graph) MouseOut() {
	g.at = -1
	g.showHead()
	g.raster.Refresh()
}

// Tapped shows the values where tapped (touch screens).
func (g *graph) Tapped(e *fyne.PointEvent) { g.point(e.Position.X) }

var (
	_ desktop.Hoverable = (*graph)(nil)
	_ fyne.Tappable     = (*graph)(nil)
)

// sparkline is a small line of recent values with no axes: the streams
// list's bitrate beside each live stream.
type sparkline struct {
	widget.BaseWidget
	vals   []float64
	raster *canvas.Raster
}

func newSparkline() *sparkline {
	s := &sparkline{}
	s.raster = canvas.NewRaster(s.draw)
	s.raster.SetMinSize(fyne.NewSize(48, 18))
	s.ExtendBaseWidget(s)
	return s
}

// CreateRenderer is Fyne's.
func (s *sparkline) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(s.raster) }

// set shows vals, oldest first; none hides it (UI thread).
func (s *sparkline) set(vals []float64) {
	s.vals = vals
	if len(vals) < 2 {
		s.Hide()
		return
	}
	s.Show()
	s.raster.Refresh()
}

func (s *sparkline) draw(w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	if len(s.vals) < 2 || w < 2 || h < 2 {
		return img
	}
	top := 0.0
	for _, v := range s.vals {
		top = max(top, v)
	}
	if top <= 0 {
		top = 1
	}
	c := withAlpha(fyne.CurrentApp().Settings().Theme().Color(theme.ColorNamePrimary, fyne.CurrentApp().Settings().ThemeVariant()), 0xff)
	step := float64(w-1) / float64(len(s.vals)-1)
	for i := 1; i < len(s.vals); i++ {
		y0 := float64(h-2) * (1 - s.vals[i-1]/top)
		y1 := float64(h-2) * (1 - s.vals[i]/top)
		line(img, step*float64(i-1), y0+1, step*float64(i), y1+1, c)
	}
	return img
}
