package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strings"
	"time"
)

// The chart's geometry, in SVG user units: two panels sharing the x axis,
// one slot per UTC hour.
const (
	chartW, chartH = 760, 470
	plotL, plotR   = 64, 744
	slotW          = float64(plotR-plotL) / 24

	webTop, webBottom = 70, 230  // webhooks per hour
	frtTop, frtBottom = 290, 420 // first responses by hour

	// Okabe–Ito colours, told apart with colour-blindness too; the series
	// differ in dash and marker shape as well.
	colAccepted  = "#0072B2"
	colProcessed = "#E69F00"
	colFRT       = "#56B4E9"
	colOver      = "#D55E00"
	colGrid      = "#d9d9d9"
	colText      = "#333333"
)

// Chart draws the day's hourly figures as an SVG image: webhooks accepted
// and processed per UTC hour (from the delivery log, which holds the
// authentic webhooks the pipeline kept), and below them the median first response
// (business time) of the waiting periods that started in each hour, against
// the target. Hand-written SVG with a title and a description for screen
// readers, no script, no external font; like Render it depends only on d.
func Chart(d *Data) []byte {
	var b bytes.Buffer
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	at := d.GeneratedAt.UTC().Format("15:04")
	title := fmt.Sprintf("Support, %s (UTC), by hour", d.Day)
	if !d.Complete {
		title += fmt.Sprintf(", so far (generated %s UTC)", at)
	}
	p(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="chart-title chart-desc" font-family="sans-serif" font-size="11" fill="%s">`+"\n",
		chartW, chartH, chartW, chartH, colText)
	p("<title id=\"chart-title\">%s</title>\n", esc(title))
	p("<desc id=\"chart-desc\">%s</desc>\n", esc(describe(d)))
	p(`<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", chartW, chartH)
	p(`<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", plotL, esc(title))

	// Today's hours after the generation time have no figures yet.
	if !d.Complete {
		from := d.GeneratedAt.UTC()
		x := plotL + slotW*(float64(from.Hour())+float64(from.Minute())/60)
		for _, panel := range [][2]int{{webTop, webBottom}, {frtTop, frtBottom}} {
			p(`<rect class="not-yet" x="%.1f" y="%d" width="%.1f" height="%d" fill="#f2f2f2"/>`+"\n", x, panel[0]-10, float64(plotR)-x, panel[1]-panel[0]+10)
			p(`<text x="%.1f" y="%d" font-size="10" fill="#666666">not yet</text>`+"\n", x+4, panel[0]+2)
		}
	}

	// Panel 1: webhooks per hour.
	var top int64
	for _, h := range d.Hours {
		top = max(top, h.Accepted, h.Processed)
	}
	step := niceStep(float64(top) / 4)
	webMax := math.Max(step*math.Ceil(float64(top)/step), step)
	p(`<text x="%d" y="%d" font-size="13" font-weight="bold">Webhooks per hour</text>`+"\n", plotL, webTop-20)
	p(`<text x="%d" y="%d" font-size="10">%s</text>`+"\n", plotL, webTop-7, esc(webSubtitle))
	legend(p)
	for v := 0.0; v <= webMax+step/2; v += step {
		y := scale(v, webMax, webTop, webBottom)
		p(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/>`+"\n", plotL, plotR, y, y, colGrid)
		p(`<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", plotL-6, y+4, count(v))
	}
	series := []struct {
		name, label, colour, dash string
		value                     func(Hour) int64
	}{
		// Accepted is drawn wide and processed narrow on top of it, so
		// both show where they coincide, as they do on a healthy day.
		{"accepted", "accepted", colAccepted, ` stroke-width="4"`, func(h Hour) int64 { return h.Accepted }},
		{"processed", "processed", colProcessed, ` stroke-width="1.5" stroke-dasharray="6 3"`, func(h Hour) int64 { return h.Processed }},
	}
	for _, s := range series {
		var pts []string
		for h, hr := range d.Hours {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", slotX(h), scale(float64(s.value(hr)), webMax, webTop, webBottom)))
		}
		p(`<g class="series" data-series="%s">`+"\n", s.name)
		p(`<polyline points="%s" fill="none" stroke="%s"%s/>`+"\n", strings.Join(pts, " "), s.colour, s.dash)
		for h, hr := range d.Hours {
			x, y := slotX(h), scale(float64(s.value(hr)), webMax, webTop, webBottom)
			tip := fmt.Sprintf("%s: %d %s", hourSpan(h), s.value(hr), s.label)
			if s.name == "accepted" {
				p(`<circle class="point" data-hour="%02d" data-value="%d" cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s</title></circle>`+"\n",
					h, s.value(hr), x, y, s.colour, esc(tip))
			} else {
				p(`<rect class="point" data-hour="%02d" data-value="%d" x="%.1f" y="%.1f" width="5" height="5" fill="%s"><title>%s</title></rect>`+"\n",
					h, s.value(hr), x-2.5, y-2.5, s.colour, esc(tip))
			}
		}
		p("</g>\n")
	}
	if note := webNote(d); note != "" {
		// A note of several sentences is set on lines that fit the panel.
		lines := wrap(note, 95)
		x := float64(plotL+plotR) / 2
		p(`<text x="%.1f" y="%d" text-anchor="middle" font-size="12">`, x, (webTop+webBottom)/2-8*(len(lines)-1))
		for i, l := range lines {
			dy := 0
			if i > 0 {
				dy = 16
			}
			p(`<tspan x="%.1f" dy="%d">%s</tspan>`, x, dy, esc(l))
		}
		p("</text>\n")
	}

	// Panel 2: first responses by the hour the customer started waiting.
	target := d.Target.Seconds()
	longest := target
	for _, h := range d.Hours {
		if h.FRT.N > 0 {
			longest = math.Max(longest, h.FRT.Median)
		}
	}
	fstep := durStep(longest / 4)
	frtMax := math.Max(fstep*math.Ceil(longest/fstep), fstep)
	p(`<text x="%d" y="%d" font-size="13" font-weight="bold">First response, by the hour the customer started waiting</text>`+"\n", plotL, frtTop-20)
	p(`<text x="%d" y="%d" font-size="10">median, in business time</text>`+"\n", plotL, frtTop-7)
	for v := 0.0; v <= frtMax+fstep/2; v += fstep {
		y := scale(v, frtMax, frtTop, frtBottom)
		p(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/>`+"\n", plotL, plotR, y, y, colGrid)
		p(`<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", plotL-6, y+4, shortDur(v))
	}
	p(`<g class="series" data-series="first_response">` + "\n")
	for h, hr := range d.Hours {
		w := slotW * 0.6
		x := slotX(h) - w/2
		if hr.FRT.N == 0 {
			p(`<rect class="point" data-hour="%02d" data-value="" x="%.1f" y="%d" width="%.1f" height="0" fill="%s"><title>%s</title></rect>`+"\n",
				h, x, frtBottom, w, colFRT, esc(frtTip(h, hr)))
			continue
		}
		y := scale(hr.FRT.Median, frtMax, frtTop, frtBottom)
		fill := colFRT
		if target > 0 && hr.FRT.Median > target {
			fill = colOver
		}
		p(`<rect class="point" data-hour="%02d" data-value="%.0f" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n",
			h, hr.FRT.Median, x, y, w, math.Max(frtBottom-y, 1), fill, esc(frtTip(h, hr)))
	}
	p("</g>\n")
	if target > 0 {
		y := scale(target, frtMax, frtTop, frtBottom)
		p(`<line class="target" x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5" stroke-dasharray="4 3"/>`+"\n", plotL, plotR, y, y, colOver)
	}
	frtLegend(p, target)
	if note := frtNote(d); note != "" {
		p(`<text x="%.1f" y="%d" text-anchor="middle" font-size="12">%s</text>`+"\n", float64(plotL+plotR)/2, (frtTop+frtBottom)/2, esc(note))
	}

	// The shared x axis: a tick per hour, a label every three.
	for _, y0 := range []int{webBottom, frtBottom} {
		p(`<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s"/>`+"\n", plotL, plotR, y0, y0, colText)
		for h := 0; h <= 24; h++ {
			x := plotL + slotW*float64(h)
			p(`<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="%s"/>`+"\n", x, x, y0, y0+4, colText)
			if h%3 == 0 && h < 24 {
				p(`<text x="%.1f" y="%d" text-anchor="middle">%02d:00</text>`+"\n", x, y0+16, h)
			}
		}
	}
	p(`<text x="%d" y="%d" text-anchor="end" font-size="10">hour (UTC)</text>`+"\n", plotR, chartH-12)
	p("</svg>\n")
	return b.Bytes()
}

// webSubtitle says what the webhook series count: the delivery log's
// entries, which exist for authentic webhooks only.
const webSubtitle = "delivery log: accepted by hour received, processed by hour completed; rejected and refused: day totals only"

// legend draws the webhook series' keys, each in its colour, dash and
// marker, so the two lines are told apart without colour too.
func legend(p func(string, ...any)) {
	x := plotR - 220
	y := webTop - 24
	p(`<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="4"/>`+"\n", x, x+24, y, y, colAccepted)
	p(`<circle cx="%d" cy="%d" r="4" fill="%s"/>`+"\n", x+12, y, colAccepted)
	p(`<text x="%d" y="%d">accepted</text>`+"\n", x+30, y+4)
	x += 110
	p(`<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="1.5" stroke-dasharray="6 3"/>`+"\n", x, x+24, y, y, colProcessed)
	p(`<rect x="%.1f" y="%.1f" width="5" height="5" fill="%s"/>`+"\n", float64(x)+9.5, float64(y)-2.5, colProcessed)
	p(`<text x="%d" y="%d">processed</text>`+"\n", x+30, y+4)
}

// frtLegend keys the first-response bars and the target line.
func frtLegend(p func(string, ...any), target float64) {
	x, y := plotR-300, frtTop-24
	p(`<rect x="%d" y="%d" width="10" height="10" fill="%s"/>`+"\n", x, y-5, colFRT)
	p(`<text x="%d" y="%d">within target</text>`+"\n", x+14, y+4)
	x += 100
	p(`<rect x="%d" y="%d" width="10" height="10" fill="%s"/>`+"\n", x, y-5, colOver)
	p(`<text x="%d" y="%d">over target</text>`+"\n", x+14, y+4)
	if target > 0 {
		x += 90
		p(`<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="1.5" stroke-dasharray="4 3"/>`+"\n", x, x+20, y, y, colOver)
		p(`<text x="%d" y="%d">target %s</text>`+"\n", x+24, y+4, shortDur(target))
	}
}

// webNote says why the webhook panel is flat, when it is.
func webNote(d *Data) string {
	if !d.Hourly {
		return d.HourlyNote
	}
	for _, h := range d.Hours {
		if h.Accepted+h.Processed > 0 {
			return ""
		}
	}
	if d.Complete {
		return "No webhook was accepted or processed this day."
	}
	return "No webhook was accepted or processed so far today."
}

// frtNote says why the first-response panel is empty, when it is.
func frtNote(d *Data) string {
	waiting := 0
	for _, h := range d.Hours {
		if h.FRT.N > 0 {
			return ""
		}
		waiting += h.Waiting
	}
	switch {
	case waiting > 0:
		return fmt.Sprintf("No first response yet (%d waiting).", waiting)
	case d.SLAClosed > 0:
		return "No waiting period was answered (all were closed unanswered)."
	case d.Complete:
		return "No conversations waited for a first response this day."
	}
	return "No conversations waited for a first response so far today."
}

func frtTip(h int, hr Hour) string {
	var s string
	if hr.FRT.N == 0 {
		s = fmt.Sprintf("%s: no first response", hourSpan(h))
	} else {
		s = fmt.Sprintf("%s: median %s over %d answered", hourSpan(h), shortDur(hr.FRT.Median), hr.FRT.N)
	}
	if hr.Waiting > 0 {
		s += fmt.Sprintf(", %d still waiting", hr.Waiting)
	}
	return s
}

// describe is the chart's text equivalent: every figure it draws.
func describe(d *Data) string {
	var b strings.Builder
	list := func(name string, v func(Hour) int64) {
		fmt.Fprintf(&b, "%s, from 00:00 to 23:00 UTC: ", name)
		for h, hr := range d.Hours {
			if h > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%d", v(hr))
		}
		b.WriteString(". ")
	}
	if !d.Complete {
		fmt.Fprintf(&b, "Figures so far, generated at %s UTC. ", d.GeneratedAt.UTC().Format("15:04"))
	}
	if note := webNote(d); note != "" {
		b.WriteString(note + " ")
	} else {
		b.WriteString("Webhooks from the delivery log, which holds authentic webhooks only (rejected and refused requests are in the day's totals). ")
		list("Webhooks accepted per hour, by the hour they came", func(h Hour) int64 { return h.Accepted })
		list("Events processed per hour, by the hour they completed", func(h Hour) int64 { return h.Processed })
	}
	if note := frtNote(d); note != "" {
		b.WriteString(note)
		return b.String()
	}
	b.WriteString("Median first response in business time, by the hour the customer started waiting")
	if d.Target > 0 {
		fmt.Fprintf(&b, " (target %s)", shortDur(d.Target.Seconds()))
	}
	b.WriteString(": ")
	first := true
	for h, hr := range d.Hours {
		if hr.FRT.N == 0 && hr.Waiting == 0 {
			continue
		}
		if !first {
			b.WriteString("; ")
		}
		first = false
		b.WriteString(frtTip(h, hr))
	}
	b.WriteString(".")
	return b.String()
}

// wrap breaks s at spaces into lines of at most n bytes (a longer word
// keeps a line of its own).
func wrap(s string, n int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > n {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

func slotX(h int) float64 { return plotL + slotW*(float64(h)+0.5) }

// scale maps v in [0, top] to a y between bottom (0) and topY (top).
func scale(v, top float64, topY, bottom int) float64 {
	if top <= 0 {
		return float64(bottom)
	}
	return float64(bottom) - v/top*float64(bottom-topY)
}

func hourSpan(h int) string { return fmt.Sprintf("%02d:00–%02d:00 UTC", h, h+1) }

// niceStep is the smallest of 1, 2, 5 × 10ⁿ (at least 1: counts are whole)
// not below v.
func niceStep(v float64) float64 {
	if v <= 1 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}

// durStep is the smallest round duration, in seconds, not below v.
func durStep(v float64) float64 {
	for _, d := range []time.Duration{5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour} {
		if d.Seconds() >= v {
			return d.Seconds()
		}
	}
	day := (24 * time.Hour).Seconds()
	return day * niceStep(v/day)
}

func count(v float64) string { return fmt.Sprintf("%.0f", v) }

// shortDur writes seconds as "15m", "1h30m" or "45s".
func shortDur(secs float64) string {
	if secs == 0 {
		return "0"
	}
	s := time.Duration(secs * float64(time.Second)).Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
