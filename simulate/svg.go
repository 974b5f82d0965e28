package simulate

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Colours of the targets, in manifest order (Tableau 10, reds last so
// they are not mistaken for failures), of failed calls and of windows.
var (
	targetColors = []string{"#4e79a7", "#59a14f", "#76b7b2", "#b07aa1", "#edc948", "#9c755f", "#ff9da7", "#f28e2b", "#e15759", "#bab0ac"}
	failedColor  = "#555555"
	windowColors = map[WindowKind]string{Outage: "#d62728", RateLimit: "#ff7f0e", Errors: "#9467bd", Slow: "#8c564b"}
)

// Chart geometry, in SVG user units.
const (
	chartWidth   = 980
	plotLeft     = 70
	plotRight    = 700
	legendLeft   = 720
	plotHeight   = 360
	bottomMargin = 60
	laneHeight   = 14
	maxLanes     = 4
	panelHeight  = 150 // each panel of lines under the shares
	panelGap     = 30
)

// WriteSVG draws r's time series as a stand-alone SVG image: the share of
// calls each target served per bucket, stacked, with the calls that
// failed on top, the scenario's windows shaded, a legend and axes; and
// under it two panels of lines per bucket: the calls' end-to-end p50 and
// p99 latency, and the upstream tries they made per call.
//
// The image carries its data, for tools and tests: each bucket of each
// series is a <rect class="cell"> with data-series (a target, or
// "failed"), data-bucket, data-from-ms, data-to-ms, data-calls,
// data-count and data-share, and a <title> a viewer shows on hover; each
// window is a <rect class="window"> with data-kind, data-target,
// data-from-ms and data-to-ms; each point of a panel is a <circle
// class="point"> with data-panel ("latency" or "tries"), data-series,
// data-bucket and data-value (seconds, or tries per call).
func (r *Result) WriteSVG(w io.Writer) error {
	bw := bufio.NewWriter(w)
	c := &chart{w: bw, r: r}
	c.draw()
	return bw.Flush()
}

type chart struct {
	w     *bufio.Writer
	r     *Result
	top   float64 // y of 100%
	end   time.Duration
	lanes int
}

func (c *chart) x(d time.Duration) float64 {
	if c.end <= 0 {
		return plotLeft
	}
	return plotLeft + float64(plotRight-plotLeft)*float64(d)/float64(c.end)
}

func (c *chart) y(share float64) float64 { return c.top + plotHeight*(1-share) }

func (c *chart) printf(format string, args ...any) { fmt.Fprintf(c.w, format, args...) }

func (c *chart) draw() {
	r := c.r
	c.lanes = min(len(r.Windows), maxLanes)
	c.top = 44 + float64(laneHeight*c.lanes) + 6
	if n := len(r.Series); n > 0 {
		c.end = r.Series[n-1].To
	}
	legendBottom := c.top + float64(20*(len(r.Targets)+1+len(c.kinds()))) + 30
	height := int(max(c.top+plotHeight+bottomMargin, legendBottom) + 2*(panelGap+panelHeight+bottomMargin))
	// Wide enough for the longest legend entry, at about 7 units a
	// character of 12-unit sans-serif.
	width := chartWidth
	for s := 0; s < c.series(); s++ {
		width = max(width, legendLeft+18+7*(len([]rune(c.name(s)))+10)+10)
	}

	c.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12"`,
		width, height, width, height)
	c.printf(` data-model="%s" data-seed="%d" data-calls="%d" data-bucket-ms="%s" data-duration-ms="%s">`+"\n",
		esc(r.Model), r.Seed, r.Calls, ms(r.Bucket), ms(r.Duration))
	c.printf("<title>llmroute simulate: %s, traffic share per target</title>\n", esc(r.Model))
	c.printf(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	c.printf(`<text x="%d" y="22" font-size="15" font-weight="bold">Traffic share per target: %s</text>`+"\n", plotLeft, esc(r.Model))
	c.printf(`<text x="%d" y="38" fill="#555555">%s, %d calls, %s failed, seed %d, virtual time</text>`+"\n",
		plotLeft, esc(r.Routing), r.Calls, pct(ratio(r.Failed, r.Calls)), r.Seed)

	c.grid()
	c.areas()
	c.cells()
	c.windows()
	c.axes()
	c.legend()
	top := c.top + plotHeight + bottomMargin + panelGap
	c.panel(top, "latency", "end-to-end latency of the calls started in each bucket", []line{
		{"p50", "#4e79a7", c.perBucket(func(b *Bucket) float64 { return b.P50.Seconds() })},
		{"p99", "#e15759", c.perBucket(func(b *Bucket) float64 { return b.P99.Seconds() })},
	}, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + " s" })
	top += panelHeight + bottomMargin + panelGap
	c.panel(top, "tries", "upstream tries per call, hedges and retries included", []line{
		{"tries per call", "#59a14f", c.perBucket(func(b *Bucket) float64 { return ratio(b.Tries, b.Calls) })},
	}, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) })
	c.printf("</svg>\n")
}

// stack returns, per bucket, the cumulative shares below and above series
// s; series 0..len(Targets)-1 are the targets, the last is failed calls.
func (c *chart) stack(s int) (lo, hi []float64) {
	lo = make([]float64, len(c.r.Series))
	hi = make([]float64, len(c.r.Series))
	for bi := range c.r.Series {
		b := &c.r.Series[bi]
		if b.Calls == 0 {
			continue
		}
		sum := 0
		for i := 0; i < s; i++ {
			sum += c.count(b, i)
		}
		lo[bi] = float64(sum) / float64(b.Calls)
		hi[bi] = float64(sum+c.count(b, s)) / float64(b.Calls)
	}
	return lo, hi
}

func (c *chart) count(b *Bucket, s int) int {
	if s < len(c.r.Targets) {
		return b.Served[s]
	}
	return b.Failed
}

func (c *chart) series() int { return len(c.r.Targets) + 1 }

func (c *chart) name(s int) string {
	if s < len(c.r.Targets) {
		return c.r.Targets[s].Target
	}
	return "failed"
}

func (c *chart) color(s int) string {
	if s < len(c.r.Targets) {
		return targetColors[s%len(targetColors)]
	}
	return failedColor
}

func (c *chart) grid() {
	c.printf(`<g class="grid" stroke="#e0e0e0">` + "\n")
	for _, p := range []float64{0, 0.25, 0.5, 0.75, 1} {
		c.printf(`<line x1="%d" y1="%s" x2="%d" y2="%s"/>`+"\n", plotLeft, num(c.y(p)), plotRight, num(c.y(p)))
	}
	c.printf("</g>\n")
}

// areas draws each series as a stacked step area: flat across each
// bucket, as the buckets are what was measured.
func (c *chart) areas() {
	c.printf(`<g class="areas" stroke="none">` + "\n")
	for s := 0; s < c.series(); s++ {
		lo, hi := c.stack(s)
		var d strings.Builder
		n := len(c.r.Series)
		// The upper edge left to right, then the lower edge back, each
		// a step line with a point only where its level changes.
		c.steps(&d, hi, 0, n, 1, "M")
		c.steps(&d, lo, n-1, -1, -1, "L")
		d.WriteString("Z")
		c.printf(`<path class="area" data-series="%s" fill="%s" d="%s"/>`+"\n", esc(c.name(s)), c.color(s), d.String())
	}
	c.printf("</g>\n")
}

// steps writes the step line through levels[from..to) (walking by dir)
// to d, starting with the command first.
func (c *chart) steps(d *strings.Builder, levels []float64, from, to, dir int, first string) {
	edge := func(bi int, start bool) time.Duration {
		b := &c.r.Series[bi]
		if start == (dir > 0) {
			return b.From
		}
		return b.To
	}
	cmd := first
	for bi := from; bi != to; bi += dir {
		if bi == from || levels[bi] != levels[bi-dir] {
			fmt.Fprintf(d, "%s%s %s ", cmd, num(c.x(edge(bi, true))), num(c.y(levels[bi])))
			cmd = "L"
		}
		if next := bi + dir; next == to || levels[next] != levels[bi] {
			fmt.Fprintf(d, "L%s %s ", num(c.x(edge(bi, false))), num(c.y(levels[bi])))
		}
	}
}

// cells draws an invisible rectangle per bucket and series that carries
// its numbers and a tooltip.
func (c *chart) cells() {
	c.printf(`<g class="cells" fill="#000000" fill-opacity="0">` + "\n")
	for s := 0; s < c.series(); s++ {
		lo, hi := c.stack(s)
		for bi := range c.r.Series {
			b := &c.r.Series[bi]
			n := c.count(b, s)
			share := ratio(n, b.Calls)
			c.printf(`<rect class="cell" data-series="%s" data-bucket="%d" data-from-ms="%s" data-to-ms="%s" data-calls="%d" data-count="%d" data-share="%s" x="%s" y="%s" width="%s" height="%s">`,
				esc(c.name(s)), bi, ms(b.From), ms(b.To), b.Calls, n, strconv.FormatFloat(share, 'f', 4, 64),
				num(c.x(b.From)), num(c.y(hi[bi])), num(c.x(b.To)-c.x(b.From)), num(c.y(lo[bi])-c.y(hi[bi])))
			c.printf("<title>%s, %s–%s: %d of %d calls (%s)</title></rect>\n",
				esc(c.name(s)), fmtOffset(b.From), fmtOffset(b.To), n, b.Calls, pct(share))
		}
	}
	c.printf("</g>\n")
}

// windows shades the scenario's windows over the plot and labels each
// above it, one lane per window so overlapping labels stay readable.
func (c *chart) windows() {
	if len(c.r.Windows) == 0 {
		return
	}
	c.printf(`<g class="windows">` + "\n")
	for i, win := range c.r.Windows {
		col := windowColors[win.Kind]
		x0, x1 := c.x(win.From), c.x(win.To)
		label := fmt.Sprintf("%s %s–%s: %s", kindLabel(win.Kind), fmtOffset(win.From), fmtOffset(win.To), win.Target)
		c.printf(`<rect class="window" data-kind="%s" data-target="%s" data-from-ms="%s" data-to-ms="%s" x="%s" y="%s" width="%s" height="%d" fill="%s" fill-opacity="0.18" stroke="%s" stroke-dasharray="4 3"><title>%s</title></rect>`+"\n",
			esc(string(win.Kind)), esc(win.Target), ms(win.From), ms(win.To),
			num(x0), num(c.top), num(x1-x0), plotHeight, col, col, esc(label))
		if i < maxLanes {
			y := 44 + float64(laneHeight*(i+1)) - 3
			c.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="3"/>`+"\n", num(x0), num(y+2), num(x1), num(y+2), col)
			c.printf(`<text x="%s" y="%s" font-size="11" fill="%s">%s</text>`+"\n", num(x0), num(y-1), col, esc(label))
		}
	}
	c.printf("</g>\n")
}

func (c *chart) axes() {
	bottom := c.top + plotHeight
	c.printf(`<g class="axes" fill="#333333">` + "\n")
	c.printf(`<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#333333"/>`+"\n", plotLeft, num(c.top), plotLeft, num(bottom))
	c.printf(`<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#333333"/>`+"\n", plotLeft, num(bottom), plotRight, num(bottom))
	for _, p := range []float64{0, 0.25, 0.5, 0.75, 1} {
		c.printf(`<text x="%d" y="%s" text-anchor="end">%d%%</text>`+"\n", plotLeft-6, num(c.y(p)+4), int(p*100))
	}
	if c.end > 0 {
		step := niceStep(c.end, 8)
		for t := time.Duration(0); t <= c.end; t += step {
			x := num(c.x(t))
			c.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333333"/>`+"\n", x, num(bottom), x, num(bottom+5))
			c.printf(`<text x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", x, num(bottom+18), fmtOffset(t))
		}
	}
	c.printf(`<text x="%d" y="%s" text-anchor="middle">virtual time since the start (buckets of %s)</text>`+"\n",
		(plotLeft+plotRight)/2, num(bottom+40), fmtOffset(c.r.Bucket))
	c.printf(`<text transform="translate(20 %s) rotate(-90)" text-anchor="middle">share of calls</text>`+"\n", num(c.top+plotHeight/2))
	c.printf("</g>\n")
}

func (c *chart) kinds() []WindowKind {
	var out []WindowKind
	for _, k := range windowKinds {
		for _, w := range c.r.Windows {
			if w.Kind == k {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

func (c *chart) legend() {
	c.printf(`<g class="legend">` + "\n")
	y := c.top
	for s := 0; s < c.series(); s++ {
		label := fmt.Sprintf("failed calls (%s)", pct(ratio(c.r.Failed, c.r.Calls)))
		if s < len(c.r.Targets) {
			label = fmt.Sprintf("%s (%s)", c.r.Targets[s].Target, pct(c.r.Targets[s].Share))
		}
		c.printf(`<rect class="key" data-series="%s" x="%d" y="%s" width="12" height="12" fill="%s"/>`, esc(c.name(s)), legendLeft, num(y), c.color(s))
		c.printf(`<text x="%d" y="%s">%s</text>`+"\n", legendLeft+18, num(y+10), esc(label))
		y += 20
	}
	for _, k := range c.kinds() {
		col := windowColors[k]
		c.printf(`<rect x="%d" y="%s" width="12" height="12" fill="%s" fill-opacity="0.18" stroke="%s" stroke-dasharray="4 3"/>`, legendLeft, num(y), col, col)
		c.printf(`<text x="%d" y="%s">%s window</text>`+"\n", legendLeft+18, num(y+10), kindLabel(k))
		y += 20
	}
	c.printf("</g>\n")
}

// line is one series of a panel: a value per bucket, NaN where the
// bucket had no calls.
type line struct {
	name, color string
	values      []float64
}

func (c *chart) perBucket(f func(*Bucket) float64) []float64 {
	out := make([]float64, len(c.r.Series))
	for i := range c.r.Series {
		b := &c.r.Series[i]
		if b.Calls == 0 {
			out[i] = math.NaN()
			continue
		}
		out[i] = f(b)
	}
	return out
}

// panel draws lines in a plot of its own at top, from 0 to the first
// round tick at or above the highest value (at most four ticks), with the
// scenario's windows shaded as in the shares above.
// Each point is a <circle class="point"> carrying data-panel,
// data-series, data-bucket and data-value.
func (c *chart) panel(top float64, class, title string, lines []line, label func(float64) string) {
	hi := 0.0
	for _, l := range lines {
		for _, v := range l.values {
			if !math.IsNaN(v) {
				hi = max(hi, v)
			}
		}
	}
	step := niceNumber(hi / 4)
	ticks := max(1, int(math.Ceil(hi/step-1e-9)))
	hi = step * float64(ticks)
	y := func(v float64) float64 { return top + panelHeight*(1-v/hi) }
	bottom := top + panelHeight
	c.printf(`<g class="panel" data-panel="%s">`+"\n", class)
	c.printf(`<text x="%d" y="%s" font-weight="bold">%s</text>`+"\n", plotLeft, num(top-10), esc(title))
	for i := 0; i <= ticks; i++ {
		v := step * float64(i)
		c.printf(`<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#e0e0e0"/>`, plotLeft, num(y(v)), plotRight, num(y(v)))
		c.printf(`<text x="%d" y="%s" text-anchor="end" fill="#333333">%s</text>`+"\n", plotLeft-6, num(y(v)+4), esc(label(v)))
	}
	for _, win := range c.r.Windows {
		col := windowColors[win.Kind]
		c.printf(`<rect x="%s" y="%s" width="%s" height="%d" fill="%s" fill-opacity="0.12"/>`+"\n",
			num(c.x(win.From)), num(top), num(c.x(win.To)-c.x(win.From)), panelHeight, col)
	}
	c.printf(`<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#333333"/>`+"\n", plotLeft, num(top), plotLeft, num(bottom))
	c.printf(`<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#333333"/>`+"\n", plotLeft, num(bottom), plotRight, num(bottom))
	if c.end > 0 {
		step := niceStep(c.end, 8)
		for t := time.Duration(0); t <= c.end; t += step {
			c.printf(`<text x="%s" y="%s" text-anchor="middle" fill="#333333">%s</text>`+"\n", num(c.x(t)), num(bottom+18), fmtOffset(t))
		}
	}
	ly := top
	for _, l := range lines {
		var d strings.Builder
		cmd := "M"
		for bi, v := range l.values {
			if math.IsNaN(v) {
				cmd = "M"
				continue
			}
			b := &c.r.Series[bi]
			fmt.Fprintf(&d, "%s%s %s ", cmd, num(c.x((b.From+b.To)/2)), num(y(v)))
			cmd = "L"
		}
		c.printf(`<path class="line" data-series="%s" fill="none" stroke="%s" stroke-width="2" d="%s"/>`+"\n", esc(l.name), l.color, strings.TrimSpace(d.String()))
		for bi, v := range l.values {
			if math.IsNaN(v) {
				continue
			}
			b := &c.r.Series[bi]
			c.printf(`<circle class="point" data-panel="%s" data-series="%s" data-bucket="%d" data-value="%s" cx="%s" cy="%s" r="2" fill="%s"><title>%s, %s–%s: %s</title></circle>`+"\n",
				class, esc(l.name), bi, strconv.FormatFloat(v, 'f', 4, 64), num(c.x((b.From+b.To)/2)), num(y(v)), l.color,
				esc(l.name), fmtOffset(b.From), fmtOffset(b.To), esc(label(math.Round(v*100)/100)))
		}
		c.printf(`<rect x="%d" y="%s" width="12" height="3" fill="%s"/><text x="%d" y="%s">%s</text>`+"\n", legendLeft, num(ly+5), l.color, legendLeft+18, num(ly+10), esc(l.name))
		ly += 20
	}
	c.printf("</g>\n")
}

// niceNumber returns the smallest of 1, 2 or 5 times a power of ten that
// is at least v (and 1 for v of 0 or less).
func niceNumber(v float64) float64 {
	if v <= 0 || math.IsNaN(v) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func kindLabel(k WindowKind) string {
	switch k {
	case RateLimit:
		return "rate limit"
	case Slow:
		return "latency"
	}
	return string(k)
}

// num formats a coordinate with at most one decimal.
func num(f float64) string {
	s := strconv.FormatFloat(f, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0")
}

// ms formats a duration as whole milliseconds.
func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// esc escapes s for SVG text and attribute values.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
