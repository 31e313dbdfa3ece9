// Package chart draws the pages' server-side SVG: one chart per linked
// series (Build) with its table and its live line (BuildLive), and a
// mission's track over its area with the flight summary (BuildTrack,
// SummarizeFlight). Pure functions of the measurements' result types
// (dashboards/series): no request, no store.
package chart

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/series"
)

// Server-side charts: one inline SVG per linked series, drawn from the
// downsampled points the page already has. No script, no external resource;
// the SVG is an image with a title and a description, the same numbers are in
// a table next to it, and the line carries no meaning through colour (one
// series per chart, point markers as shapes).

type Tick struct {
	Pos    float64 // y for the value axis, x for the time axis
	Label  string
	Anchor string // text-anchor of a time label
}

type Point struct{ X, Y float64 }

type Row struct{ Time, Value string }

// View is what the template needs to draw one series.
type View struct {
	ID       string // unique in the page: serie-1…
	Title    string // "Niveau d'eau (m)"
	Key      series.SeriesKey
	Unit     string
	Summary  string // the chart's text alternative, also shown under it
	Every    string // aggregation window in words
	Lines    []string
	Markers  []Point
	YTicks   []Tick
	XTicks   []Tick
	Rows     []Row
	Empty    bool
	Width    int
	Height   int
	PlotL    float64
	PlotR    float64
	PlotT    float64
	PlotB    float64
	DataPath string // JSON of the series over the same range
	CSVPath  string // CSV (open data) of the series over the same range
	Live     Live
}

const (
	chartW, chartH                 = 640, 260
	chartL, chartR, chartT, chartB = 78.0, 624.0, 16.0, 214.0
	chartMarkersMax                = 120
)

func Build(n int, d *series.SeriesData, unit string) View {
	u := fr.Unit(unit)
	cv := View{ID: fmt.Sprintf("serie-%d", n), Key: d.SeriesKey, Unit: u, Width: chartW, Height: chartH,
		PlotL: chartL, PlotR: chartR, PlotT: chartT, PlotB: chartB}
	cv.Title = fr.Quantity(d.Quantity)
	if u != "" {
		cv.Title += " (" + u + ")"
	}
	window, _ := time.ParseDuration(d.Every)
	if window > 0 {
		cv.Every = fr.Duration(window)
	}
	withUnit := func(v float64) string {
		if u == "" {
			return fr.Num(v)
		}
		return fr.Num(v) + "\u00a0" + u
	}
	start, stop := d.Start, d.Stop
	span := stop.Sub(start).Seconds()
	if span <= 0 {
		span = 1
	}
	// The links give the range and the windows the chart shows.
	rq := url.Values{"start": {start.UTC().Format(time.RFC3339)}, "stop": {stop.UTC().Format(time.RFC3339)}}
	if window >= time.Second {
		rq.Set("every", window.String())
	}
	key := url.PathEscape(d.Site) + "/" + url.PathEscape(d.Device) + "/" + url.PathEscape(d.Quantity)
	cv.DataPath = "/api/v1/series/" + key + "?" + rq.Encode()
	cv.CSVPath = "/opendata/series/" + key + ".csv?" + rq.Encode()
	x := func(t time.Time) float64 {
		f := t.Sub(start).Seconds() / span
		return round1(chartL + min(max(f, 0), 1)*(chartR-chartL))
	}
	for i := range 3 {
		t := start.Add(time.Duration(float64(stop.Sub(start)) * float64(i) / 2))
		cv.XTicks = append(cv.XTicks, Tick{Pos: x(t), Label: t.In(fr.Paris).Format("02/01 15:04"), Anchor: [...]string{"start", "middle", "end"}[i]})
	}
	if len(d.Points) == 0 {
		cv.Empty = true
		cv.Summary = fmt.Sprintf("Aucune mesure de %s entre le %s et le %s.", strings.ToLower(fr.Quantity(d.Quantity)), fr.Time(start), fr.Time(stop))
		return cv
	}
	lo, hi := d.Points[0].Value, d.Points[0].Value
	for _, p := range d.Points {
		lo, hi = min(lo, p.Value), max(hi, p.Value)
	}
	ylo, yhi := lo, hi
	if ylo == yhi {
		pad := max(abs(ylo)*0.1, 1)
		ylo, yhi = ylo-pad, yhi+pad
	}
	y := func(v float64) float64 { return round1(chartB - (v-ylo)/(yhi-ylo)*(chartB-chartT)) }
	for _, v := range []float64{ylo, (ylo + yhi) / 2, yhi} {
		cv.YTicks = append(cv.YTicks, Tick{Pos: y(v), Label: fr.Num(v)})
	}
	// A gap longer than three windows breaks the line: no invented values.
	var seg []string
	for i, p := range d.Points {
		if i > 0 && window > 0 && p.Time.Sub(d.Points[i-1].Time) > 3*window && len(seg) > 0 {
			cv.Lines = append(cv.Lines, strings.Join(seg, " "))
			seg = nil
		}
		seg = append(seg, fmt.Sprintf("%g,%g", x(p.Time), y(p.Value)))
		if len(d.Points) <= chartMarkersMax {
			cv.Markers = append(cv.Markers, Point{x(p.Time), y(p.Value)})
		}
		cv.Rows = append(cv.Rows, Row{Time: fr.Time(p.Time), Value: fr.Num(p.Value)})
	}
	cv.Lines = append(cv.Lines, strings.Join(seg, " "))
	last := d.Points[len(d.Points)-1]
	cv.Summary = fmt.Sprintf("%s, %d moyennes", fr.Quantity(d.Quantity), len(d.Points))
	if cv.Every != "" {
		cv.Summary += " sur des fenêtres de " + cv.Every
	}
	cv.Summary += fmt.Sprintf(", du %s au %s : minimum %s, maximum %s, dernière valeur %s (%s).",
		fr.Time(d.Points[0].Time), fr.Time(last.Time), withUnit(lo), withUnit(hi), withUnit(last.Value), fr.Time(last.Time))
	return cv
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }
