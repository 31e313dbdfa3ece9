package chart

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/series"
)

// The drawing: an equirectangular projection around the area's centre
// (longitudes shrunk by cos(latitude)), which is exact enough over the few
// kilometres a mission covers and keeps the drawing's shape true.
const (
	trackW, trackH   = 640, 420
	trackPad         = 16.0
	trackLineMax     = 2000 // polyline vertices: a long flight log is thinned
	trackRowsMax     = 100  // rows of the fixes table
	metresPerDegree  = 111_320.0
	trackCoordDigits = 5 // ~1 m: more would be noise
)

type TrackRow struct{ Time, Lat, Lon, Altitude, Battery string }

type Track struct {
	Width, Height int
	Area          string // polygon points, "" without a usable area
	Line          string // polyline points
	Points        int    // vertices of the polyline
	Fixes         int    // fixes in the track
	Start, End    Point
	Label         string // the text alternative
	Rows          []TrackRow
	Sampled       bool // the table shows a sample of the fixes
}

// areaRing is the exterior ring of a mission's GeoJSON Polygon (or Feature
// of one), as [lon, lat] positions; nil if it cannot be read.
func areaRing(raw json.RawMessage) [][]float64 {
	var g struct {
		Type        string          `json:"type"`
		Coordinates [][][]float64   `json:"coordinates"`
		Geometry    json.RawMessage `json:"geometry"`
	}
	if json.Unmarshal(raw, &g) != nil {
		return nil
	}
	if g.Type == "Feature" && len(g.Geometry) > 0 {
		return areaRing(g.Geometry)
	}
	if g.Type != "Polygon" || len(g.Coordinates) == 0 {
		return nil
	}
	ring := make([][]float64, 0, len(g.Coordinates[0]))
	for _, p := range g.Coordinates[0] {
		if len(p) >= 2 {
			ring = append(ring, p[:2])
		}
	}
	return ring
}

func BuildTrack(m *civic.Mission, tr *series.Track) *Track {
	d := &Track{Width: trackW, Height: trackH, Fixes: len(tr.Points)}
	ring := areaRing(m.Area)
	// Centre: the middle of the area's bounding box (of the track without one).
	var lons, lats []float64
	for _, p := range ring {
		lons, lats = append(lons, p[0]), append(lats, p[1])
	}
	if len(lons) == 0 {
		for _, p := range tr.Points {
			lons, lats = append(lons, p.Lon), append(lats, p.Lat)
		}
	}
	if len(lons) == 0 {
		d.Label = "Aucune position enregistrée pour cette mission."
		return d
	}
	lon0, lat0 := (minOf(lons)+maxOf(lons))/2, (minOf(lats)+maxOf(lats))/2
	k := math.Cos(lat0 * math.Pi / 180)
	proj := func(lon, lat float64) (float64, float64) { // metres east, north
		return (lon - lon0) * k * metresPerDegree, (lat - lat0) * metresPerDegree
	}
	// One scale for both axes, fitted to the area and the track together:
	// a drone that left the area is still drawn.
	var xs, ys []float64
	for _, p := range ring {
		x, y := proj(p[0], p[1])
		xs, ys = append(xs, x), append(ys, y)
	}
	for _, p := range tr.Points {
		x, y := proj(p.Lon, p.Lat)
		xs, ys = append(xs, x), append(ys, y)
	}
	x0, x1, y0, y1 := minOf(xs), maxOf(xs), minOf(ys), maxOf(ys)
	scale := math.Min((trackW-2*trackPad)/math.Max(x1-x0, 1), (trackH-2*trackPad)/math.Max(y1-y0, 1))
	offX := (trackW - (x1-x0)*scale) / 2
	offY := (trackH - (y1-y0)*scale) / 2
	px := func(lon, lat float64) Point {
		x, y := proj(lon, lat)
		return Point{round1(offX + (x-x0)*scale), round1(trackH - offY - (y-y0)*scale)}
	}
	pts := make([]string, 0, len(ring))
	for _, p := range ring {
		q := px(p[0], p[1])
		pts = append(pts, fmt.Sprintf("%g,%g", q.X, q.Y))
	}
	d.Area = strings.Join(pts, " ")

	n := len(tr.Points)
	if n == 0 {
		d.Label = "Aucune position enregistrée pour cette mission : seule la zone est dessinée."
		return d
	}
	pts = pts[:0]
	for _, i := range sample(n, trackLineMax) {
		q := px(tr.Points[i].Lon, tr.Points[i].Lat)
		pts = append(pts, fmt.Sprintf("%g,%g", q.X, q.Y))
	}
	d.Line, d.Points = strings.Join(pts, " "), len(pts)
	first, last := tr.Points[0], tr.Points[n-1]
	d.Start, d.End = px(first.Lon, first.Lat), px(last.Lon, last.Lat)
	idx := sample(n, trackRowsMax)
	d.Sampled = len(idx) < n
	for _, i := range idx {
		p := tr.Points[i]
		r := TrackRow{Time: p.Time.In(fr.Paris).Format("02/01/2006 15:04:05"), Lat: frCoord(p.Lat), Lon: frCoord(p.Lon), Altitude: "—", Battery: "—"}
		if a := altitudeOf(p); a != nil {
			r.Altitude = fr.Num(*a) + "\u00a0m"
		}
		if p.Battery != nil {
			r.Battery = fr.Num(*p.Battery) + "\u00a0%"
		}
		d.Rows = append(d.Rows, r)
	}
	sum := SummarizeFlight(tr)
	d.Label = fmt.Sprintf("Trajet du drone %s : %d positions du %s au %s, %s parcourus", m.DroneID, n,
		fr.Time(first.Time), fr.Time(last.Time), sum.DistanceKM)
	if sum.MaxAltitude != "" {
		d.Label += ", altitude maximale " + sum.MaxAltitude
	}
	if ring != nil {
		d.Label += ", dessiné sur la zone de la mission"
	}
	d.Label += ". Départ marqué d'un rond, arrivée d'un carré."
	return d
}

// sample picks at most limit indexes out of n, evenly, always the first and
// the last.
func sample(n, limit int) []int {
	if n <= limit {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, 0, limit)
	for i := range limit {
		out = append(out, int(math.Round(float64(i)*float64(n-1)/float64(limit-1))))
	}
	return out
}

// altitudeOf is the height the summary uses: relative altitude when
// reported, else altitude.
func altitudeOf(p series.TrackPoint) *float64 {
	if p.RelativeAltitude != nil {
		return p.RelativeAltitude
	}
	return p.Altitude
}

// frCoord writes a coordinate in degrees with a decimal comma.
func frCoord(v float64) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', trackCoordDigits, 64), ".", ",", 1) + "°"
}

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = math.Min(m, x)
	}
	return m
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = math.Max(m, x)
	}
	return m
}

// Flight is a flown mission's summary in French words and numbers.
type Flight struct {
	Duration    string
	Distance    string // metres under a kilometre (proposal pages)
	DistanceKM  string // always in km (mission page)
	MaxAltitude string // "" when the drone reported no altitude
	Battery     string // "" when it reported no battery level
}

func SummarizeFlight(tr *series.Track) Flight {
	f := Flight{Duration: fr.Duration(time.Duration(tr.DurationS * float64(time.Second))),
		DistanceKM: fr.Num(tr.DistanceM/1000) + "\u00a0km"}
	if tr.DistanceM >= 1000 {
		f.Distance = f.DistanceKM
	} else {
		f.Distance = strconv.Itoa(int(tr.DistanceM+0.5)) + "\u00a0m"
	}
	if tr.MaxAltitudeM != nil {
		f.MaxAltitude = fr.Num(*tr.MaxAltitudeM) + "\u00a0m"
	}
	if tr.BatteryUsedPct != nil {
		f.Battery = fr.Num(*tr.BatteryUsedPct) + "\u00a0%"
	}
	return f
}
