package series

import (
	"math"
	"time"
)

// TrackPoint is one position of a drone.
type TrackPoint struct {
	Time             time.Time `json:"t"`
	Lat              float64   `json:"lat"`
	Lon              float64   `json:"lon"`
	Altitude         *float64  `json:"alt,omitempty"`
	RelativeAltitude *float64  `json:"rel_alt,omitempty"`
	Battery          *float64  `json:"battery,omitempty"`
}

// Track is a drone's path during a mission, with its summary.
type Track struct {
	Site     string       `json:"site"`
	Device   string       `json:"device"`
	Mission  string       `json:"mission"`
	Points   []TrackPoint `json:"points"`
	Duration string       `json:"duration"`
	// DurationS, DistanceM, MaxAltitudeM and BatteryUsedPct summarise the flight.
	DurationS      float64  `json:"duration_s"`
	DistanceM      float64  `json:"distance_m"`
	MaxAltitudeM   *float64 `json:"max_altitude_m,omitempty"`
	BatteryUsedPct *float64 `json:"battery_used_pct,omitempty"`
}

// Summarise fills the flight summary from the points (duration, distance,
// highest altitude) and from battery, the mission's battery series over the
// track's window in time order: battery used is its first minus its last
// value, whatever the fixes' times (the bridge sends positions and battery
// in different messages).
func (tr *Track) Summarise(battery []Point) {
	if len(battery) > 0 {
		used := battery[0].Value - battery[len(battery)-1].Value
		tr.BatteryUsedPct = &used
	}
	if len(tr.Points) == 0 {
		tr.Duration = "0s"
		return
	}
	first, last := tr.Points[0], tr.Points[len(tr.Points)-1]
	d := last.Time.Sub(first.Time)
	tr.Duration, tr.DurationS = d.String(), d.Seconds()
	for i, p := range tr.Points {
		if i > 0 {
			prev := tr.Points[i-1]
			tr.DistanceM += haversine(prev.Lat, prev.Lon, p.Lat, p.Lon)
		}
		alt := p.RelativeAltitude
		if alt == nil {
			alt = p.Altitude
		}
		if alt != nil && (tr.MaxAltitudeM == nil || *alt > *tr.MaxAltitudeM) {
			v := *alt
			tr.MaxAltitudeM = &v
		}
	}
	tr.DistanceM = math.Round(tr.DistanceM*10) / 10
}

func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371008.8
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}
