package chart

import (
	"strconv"
	"time"

	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/series"
)

// Latest values on a proposal page. The page renders each linked series'
// latest raw reading (app.Series.Latest: not the window mean the chart and
// table show) in words; the page's script then keeps that line current from the live feed
// (/api/v1/live), so the page is complete without JavaScript and only
// fresher with it.

// Live is the "Dernière valeur" line of one linked series.
type Live struct {
	Key   string // site/device/quantity: the live feed's series key, data-series
	Unit  string // unit in French ("µg/m³"), also handed to the script (data-unit)
	Value string // "12,4 µg/m³", empty when there is no reading
	When  string // "à 20 h 05", or "le 26 novembre 2026 à 20 h 05" when not today
	ISO   string // the reading's time, RFC 3339 UTC: <time datetime>, and the script ignores older events
}

// BuildLive words the latest value of a series; unit is the French unit of
// the device registry, or "" to take the one stored with the reading.
func BuildLive(key series.SeriesKey, unit string, l *series.Latest, now time.Time) Live {
	v := Live{Key: key.Site + "/" + key.Device + "/" + key.Quantity, Unit: unit}
	if l == nil {
		return v
	}
	if v.Unit == "" {
		v.Unit = fr.Unit(l.Unit)
	}
	v.Value = fr.Num(l.Value)
	if v.Unit != "" {
		v.Value += "\u00a0" + v.Unit
	}
	v.When = frWhen(l.Time, now)
	v.ISO = l.Time.UTC().Format(time.RFC3339)
	return v
}

// frWhen says when a reading was taken, in Paris time: the clock alone the
// same day ("à 20 h 05"), the full date otherwise. templates/script.html
// writes the same words for live events; keep the two in step.
func frWhen(t, now time.Time) string {
	t, now = t.In(fr.Paris), now.In(fr.Paris)
	if t.Year() == now.Year() && t.YearDay() == now.YearDay() {
		return "à " + strconv.Itoa(t.Hour()) + "\u00a0h\u00a0" + t.Format("04")
	}
	return "le " + fr.Date(t)
}
