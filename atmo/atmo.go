// Package atmo computes the French ATMO air-quality index of a site and a
// day, as the arrêté du 10 juillet 2020 (annexe I) defines it: one sub-index
// per pollutant from the day's aggregate — the daily mean of PM2.5 and PM10,
// the maximum of the day's hourly means of NO2, O3 and SO2 — classed on six
// levels (bon … extrêmement mauvais), and the index is the worst sub-index.
//
// The day is the calendar day in Europe/Paris. The index says which
// pollutants set it (several when they tie), which were missing (a partial
// index) and whether the day is still running (provisional).
//
// It imports only the standard library and the domain package: the reader
// that asks InfluxDB for the hourly means is dashboards/measure's (Atmo), the
// alert rules use the result (dashboards/alerting). See docs/alerts.md.
package atmo

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Pollutant is one of the five pollutants of the index, named as the
// platform's quantity (the replay of AtmoSud data publishes these).
type Pollutant string

// The pollutants of the index.
const (
	PM25 Pollutant = "pm2_5"
	PM10 Pollutant = "pm10"
	NO2  Pollutant = "no2"
	O3   Pollutant = "o3"
	SO2  Pollutant = "so2"
)

// Pollutants lists the five pollutants in the arrêté's order.
var Pollutants = []Pollutant{PM25, PM10, NO2, O3, SO2}

// IsPollutant reports whether quantity is one of the index's pollutants.
func IsPollutant(quantity string) bool {
	_, ok := bounds[Pollutant(quantity)]
	return ok
}

// bounds are the inclusive upper bounds, in µg/m³, of the classes bon,
// moyen, dégradé, mauvais and très mauvais; above the last is extrêmement
// mauvais (annexe I).
var bounds = map[Pollutant][5]float64{
	PM25: {10, 20, 25, 50, 75},
	PM10: {20, 40, 50, 100, 150},
	NO2:  {40, 90, 120, 230, 340},
	O3:   {50, 100, 130, 240, 380},
	SO2:  {100, 200, 350, 500, 750},
}

// DailyMean reports whether the pollutant's daily aggregate is the mean of
// the day (PM2.5, PM10); the others take the maximum of the hourly means.
func (p Pollutant) DailyMean() bool { return p == PM25 || p == PM10 }

// Class is a level of the index, 1 (bon) to 6 (extrêmement mauvais); 0 is
// no class (no data).
type Class int

// The six classes.
const (
	None Class = iota
	Bon
	Moyen
	Degrade
	Mauvais
	TresMauvais
	ExtremementMauvais
)

var classes = [...]struct{ label, colour string }{
	None:               {"indisponible", "#DDDDDD"},
	Bon:                {"bon", "#50F0E6"},
	Moyen:              {"moyen", "#50CCAA"},
	Degrade:            {"dégradé", "#F0E641"},
	Mauvais:            {"mauvais", "#FF5050"},
	TresMauvais:        {"très mauvais", "#960032"},
	ExtremementMauvais: {"extrêmement mauvais", "#872181"},
}

// Valid reports whether c is one of the six classes.
func (c Class) Valid() bool { return c >= Bon && c <= ExtremementMauvais }

// Label is the class's French label ("dégradé"); "indisponible" for None.
func (c Class) Label() string {
	if c < None || c > ExtremementMauvais {
		return fmt.Sprintf("classe %d", int(c))
	}
	return classes[c].label
}

// Colour is the class's official colour (#RRGGBB). Pages always show the
// label beside it, never the colour alone.
func (c Class) Colour() string {
	if c < None || c > ExtremementMauvais {
		return classes[None].colour
	}
	return classes[c].colour
}

// ParseClass accepts a class number ("3") or label ("dégradé", "degrade").
func ParseClass(s string) (Class, error) {
	for c := Bon; c <= ExtremementMauvais; c++ {
		if s == c.Label() || s == fmt.Sprint(int(c)) || s == asciiLabel(c) {
			return c, nil
		}
	}
	return None, fmt.Errorf("atmo class %q: want 1…6 or bon, moyen, dégradé, mauvais, très mauvais, extrêmement mauvais", s)
}

func asciiLabel(c Class) string {
	return [...]string{"", "bon", "moyen", "degrade", "mauvais", "tres mauvais", "extremement mauvais"}[c]
}

// SubIndex classes one pollutant's daily aggregate v (µg/m³); None for an
// unknown pollutant or a value that is not a number.
func SubIndex(p Pollutant, v float64) Class {
	b, ok := bounds[p]
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return None
	}
	for i, upper := range b {
		if v <= upper {
			return Class(i + 1)
		}
	}
	return ExtremementMauvais
}

// Sample is one value of a pollutant (µg/m³) at a time: a raw reading or an
// hourly mean stamped within its hour.
type Sample struct {
	Time  time.Time
	Value float64
}

// Sub is one pollutant's part of an index.
type Sub struct {
	Pollutant Pollutant `json:"pollutant"`
	// Value is the day's aggregate: the mean of the hourly means (PM), or
	// their maximum (NO2, O3, SO2).
	Value float64 `json:"value"`
	Class Class   `json:"class"`
	Label string  `json:"label"`
	// Hours is how many hours of the day had data.
	Hours int `json:"hours"`
}

// Index is the ATMO index of a site for one day.
type Index struct {
	// Day is the calendar day in Europe/Paris, "2006-01-02".
	Day string `json:"day"`
	// Class is the worst sub-index; None when no pollutant had data.
	Class  Class  `json:"class"`
	Label  string `json:"label"`
	Colour string `json:"colour"`
	// Subs are the sub-indices of the pollutants with data, in the
	// arrêté's order.
	Subs []Sub `json:"sub_indices"`
	// Dominant are the pollutants whose sub-index is the index (several
	// when they tie).
	Dominant []Pollutant `json:"dominant"`
	// Missing are the pollutants without any data that day; the index is
	// then Partial.
	Missing []Pollutant `json:"missing,omitempty"`
	Partial bool        `json:"partial"`
	// Provisional is true while the day is not over.
	Provisional bool `json:"provisional"`
}

// Sub returns the sub-index of p, if it had data.
func (x *Index) Sub(p Pollutant) (Sub, bool) {
	for _, s := range x.Subs {
		if s.Pollutant == p {
			return s, true
		}
	}
	return Sub{}, false
}

var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		// Without a zone database (a bare container), central European
		// time without summer time is the closest fixed zone; the
		// binaries embed time/tzdata, so this is a last resort.
		return time.FixedZone("CET", 3600)
	}
	return loc
}()

// Paris is the zone of the index's calendar day.
func Paris() *time.Location { return paris }

// DayOf returns the Paris calendar day containing t: its start and its end
// (exclusive; 23 or 25 hours on the days the clocks change).
func DayOf(t time.Time) (start, end time.Time) {
	y, m, d := t.In(paris).Date()
	start = time.Date(y, m, d, 0, 0, 0, 0, paris)
	return start, time.Date(y, m, d+1, 0, 0, 0, 0, paris)
}

// HourlyMeans groups samples by clock hour (Paris hours are whole UTC
// hours) and returns one mean per hour with data, stamped at the hour's
// start, in time order. Non-finite values are skipped.
func HourlyMeans(samples []Sample) []Sample {
	type acc struct {
		sum float64
		n   int
	}
	hours := make(map[int64]*acc)
	for _, s := range samples {
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			continue
		}
		h := s.Time.Truncate(time.Hour).Unix()
		a := hours[h]
		if a == nil {
			a = &acc{}
			hours[h] = a
		}
		a.sum += s.Value
		a.n++
	}
	out := make([]Sample, 0, len(hours))
	for h, a := range hours {
		out = append(out, Sample{Time: time.Unix(h, 0).UTC(), Value: a.sum / float64(a.n)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// Compute returns the index of the Paris day containing day, from each
// pollutant's samples (raw readings or hourly means: they are averaged per
// hour first); samples outside the day are ignored. now decides whether the
// day is provisional.
func Compute(day time.Time, samples map[Pollutant][]Sample, now time.Time) Index {
	start, end := DayOf(day)
	x := Index{Day: start.Format("2006-01-02"), Provisional: now.Before(end)}
	for _, p := range Pollutants {
		var in []Sample
		for _, s := range samples[p] {
			if !s.Time.Before(start) && s.Time.Before(end) {
				in = append(in, s)
			}
		}
		hourly := HourlyMeans(in)
		if len(hourly) == 0 {
			x.Missing = append(x.Missing, p)
			continue
		}
		v := hourly[0].Value
		if p.DailyMean() {
			sum := 0.0
			for _, h := range hourly {
				sum += h.Value
			}
			v = sum / float64(len(hourly))
		} else {
			for _, h := range hourly[1:] {
				v = math.Max(v, h.Value)
			}
		}
		c := SubIndex(p, v)
		x.Subs = append(x.Subs, Sub{Pollutant: p, Value: v, Class: c, Label: c.Label(), Hours: len(hourly)})
		switch {
		case c > x.Class:
			x.Class, x.Dominant = c, []Pollutant{p}
		case c == x.Class:
			x.Dominant = append(x.Dominant, p)
		}
	}
	x.Partial = len(x.Missing) > 0
	x.Label, x.Colour = x.Class.Label(), x.Class.Colour()
	return x
}
