package atmo_test

import (
	"encoding/csv"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cd06/smartdeal/atmo"
)

func TestSubIndexBounds(t *testing.T) {
	for _, c := range []struct {
		p    atmo.Pollutant
		v    float64
		want atmo.Class
	}{
		{atmo.PM25, 0, atmo.Bon}, {atmo.PM25, 10, atmo.Bon}, {atmo.PM25, 10.01, atmo.Moyen}, {atmo.PM25, 25, atmo.Degrade},
		{atmo.PM25, 75, atmo.TresMauvais}, {atmo.PM25, 75.1, atmo.ExtremementMauvais},
		{atmo.PM10, 20, atmo.Bon}, {atmo.PM10, 40, atmo.Moyen}, {atmo.PM10, 50, atmo.Degrade}, {atmo.PM10, 100, atmo.Mauvais}, {atmo.PM10, 151, atmo.ExtremementMauvais},
		{atmo.NO2, 40, atmo.Bon}, {atmo.NO2, 90, atmo.Moyen}, {atmo.NO2, 120, atmo.Degrade}, {atmo.NO2, 230, atmo.Mauvais}, {atmo.NO2, 340, atmo.TresMauvais}, {atmo.NO2, 341, atmo.ExtremementMauvais},
		{atmo.O3, 50, atmo.Bon}, {atmo.O3, 100, atmo.Moyen}, {atmo.O3, 130, atmo.Degrade}, {atmo.O3, 240, atmo.Mauvais}, {atmo.O3, 380, atmo.TresMauvais}, {atmo.O3, 381, atmo.ExtremementMauvais},
		{atmo.SO2, 100, atmo.Bon}, {atmo.SO2, 200, atmo.Moyen}, {atmo.SO2, 350, atmo.Degrade}, {atmo.SO2, 500, atmo.Mauvais}, {atmo.SO2, 750, atmo.TresMauvais}, {atmo.SO2, 750.5, atmo.ExtremementMauvais},
		{"co2", 1, atmo.None},
	} {
		if got := atmo.SubIndex(c.p, c.v); got != c.want {
			t.Errorf("SubIndex(%s, %g) = %v (%s), want %v (%s)", c.p, c.v, got, got.Label(), c.want, c.want.Label())
		}
	}
	if l := atmo.ExtremementMauvais.Label(); l != "extrêmement mauvais" {
		t.Errorf("label %q", l)
	}
	if c := atmo.Degrade.Colour(); c != "#F0E641" {
		t.Errorf("colour %q", c)
	}
	for _, s := range []string{"3", "dégradé", "degrade"} {
		if c, err := atmo.ParseClass(s); err != nil || c != atmo.Degrade {
			t.Errorf("ParseClass(%q) = %v, %v", s, c, err)
		}
	}
	if _, err := atmo.ParseClass("7"); err == nil {
		t.Error("ParseClass(7) accepted")
	}
}

func TestDayOfParis(t *testing.T) {
	// 22:30 UTC on 14 Oct 2019 is 00:30 on the 15th in Paris (CEST).
	start, _ := atmo.DayOf(time.Date(2019, 10, 14, 22, 30, 0, 0, time.UTC))
	if got := start.UTC(); !got.Equal(time.Date(2019, 10, 14, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("start %s", got)
	}
	// The day the clocks go back lasts 25 hours.
	start, end := atmo.DayOf(time.Date(2019, 10, 27, 12, 0, 0, 0, time.UTC))
	if d := end.Sub(start); d != 25*time.Hour {
		t.Errorf("27 Oct 2019 lasts %s", d)
	}
}

// atmoSudFile is the project's shared copy of the AtmoSud data
// (../shared/testdata/atmosud06 beside the checkout); the replay embeds the
// same file (devices/replay/atmosud06_24h.csv, byte for byte), which is used
// when the shared folder is not there (a lone clone, CI).
func atmoSudFile(t *testing.T) string {
	for _, p := range []string{"../../shared/testdata/atmosud06/normalized_24h.csv", "../../../shared/testdata/atmosud06/normalized_24h.csv"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "../devices/replay/atmosud06_24h.csv"
}

// loadAtmoSud reads normalized_24h.csv: the hourly values of 15 Oct 2019,
// local (Paris) times without zone, per station and pollutant.
func loadAtmoSud(t *testing.T) map[string]map[atmo.Pollutant][]atmo.Sample {
	t.Helper()
	f, err := os.Open(atmoSudFile(t))
	if err != nil {
		t.Fatalf("AtmoSud data: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[atmo.Pollutant][]atmo.Sample{}
	names := map[string]atmo.Pollutant{"PM2.5": atmo.PM25, "PM10": atmo.PM10, "NO2": atmo.NO2, "O3": atmo.O3, "SO2": atmo.SO2}
	for _, r := range rows[1:] {
		p, ok := names[r[2]]
		if !ok || r[3] == "" {
			continue // NOx is not in the index; empty values are missing
		}
		v, err := strconv.ParseFloat(r[3], 64)
		if err != nil {
			t.Fatalf("row %v: %v", r, err)
		}
		at, err := time.ParseInLocation("2006-01-02T15:04:05", r[4], atmo.Paris())
		if err != nil {
			t.Fatalf("row %v: %v", r, err)
		}
		if out[r[1]] == nil {
			out[r[1]] = map[atmo.Pollutant][]atmo.Sample{}
		}
		out[r[1]][p] = append(out[r[1]][p], atmo.Sample{Time: at, Value: v})
	}
	return out
}

// TestAtmoSudStations checks the index per station on 15 Oct 2019 against
// values computed by hand from the CSV (awk over normalized_24h.csv):
//
//	NICE ARSON: PM2.5 mean 9.59 (bon), PM10 mean 18.85 (bon), NO2 max 52.7
//	  at 20:00 (moyen), O3 max 53.7 at 15:00 (moyen): moyen, set by NO2 and
//	  O3; SO2 missing.
//	CANNES BROUSSAILLES: PM10 mean 17.66 over 19 hours (bon), NO2 max 30.0
//	  (bon), O3 max 73.2 (moyen): moyen, set by O3; PM2.5 and SO2 missing.
//	NICE PROMENADE: PM2.5 12.63, PM10 33.28 over 22 hours (two empty
//	  values), NO2 max 64.4: all moyen; O3
//	  and SO2 missing.
func TestAtmoSudStations(t *testing.T) {
	data := loadAtmoSud(t)
	day := time.Date(2019, 10, 15, 12, 0, 0, 0, atmo.Paris())
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type sub struct {
		p     atmo.Pollutant
		v     float64
		class atmo.Class
		hours int
	}
	for _, c := range []struct {
		station  string
		class    atmo.Class
		dominant []atmo.Pollutant
		missing  []atmo.Pollutant
		subs     []sub
	}{
		{"NICE ARSON", atmo.Moyen, []atmo.Pollutant{atmo.NO2, atmo.O3}, []atmo.Pollutant{atmo.SO2}, []sub{
			{atmo.PM25, 9.5917, atmo.Bon, 24}, {atmo.PM10, 18.8458, atmo.Bon, 24}, {atmo.NO2, 52.7, atmo.Moyen, 24}, {atmo.O3, 53.7, atmo.Moyen, 24}}},
		{"CANNES BROUSSAILLES", atmo.Moyen, []atmo.Pollutant{atmo.O3}, []atmo.Pollutant{atmo.PM25, atmo.SO2}, []sub{
			{atmo.PM10, 17.6579, atmo.Bon, 19}, {atmo.NO2, 30.0, atmo.Bon, 24}, {atmo.O3, 73.2, atmo.Moyen, 24}}},
		{"NICE PROMENADE", atmo.Moyen, []atmo.Pollutant{atmo.PM25, atmo.PM10, atmo.NO2}, []atmo.Pollutant{atmo.O3, atmo.SO2}, []sub{
			{atmo.PM25, 12.6333, atmo.Moyen, 24}, {atmo.PM10, 33.2773, atmo.Moyen, 22}, {atmo.NO2, 64.4, atmo.Moyen, 24}}},
	} {
		t.Run(c.station, func(t *testing.T) {
			x := atmo.Compute(day, data[c.station], now)
			if x.Day != "2019-10-15" || x.Class != c.class || x.Label != c.class.Label() || x.Provisional || !x.Partial {
				t.Errorf("index %+v, want %s on 2019-10-15, partial, final", x, c.class.Label())
			}
			if !slices.Equal(x.Dominant, c.dominant) || !slices.Equal(x.Missing, c.missing) {
				t.Errorf("dominant %v missing %v, want %v and %v", x.Dominant, x.Missing, c.dominant, c.missing)
			}
			if len(x.Subs) != len(c.subs) {
				t.Fatalf("subs %+v", x.Subs)
			}
			for _, w := range c.subs {
				s, ok := x.Sub(w.p)
				if !ok || s.Class != w.class || s.Hours != w.hours || s.Value < w.v-0.001 || s.Value > w.v+0.001 {
					t.Errorf("%s: %+v, want %.4f %s over %d hours", w.p, s, w.v, w.class.Label(), w.hours)
				}
			}
		})
	}
	// Every station of the file gets an index that day.
	for station, series := range data {
		if x := atmo.Compute(day, series, now); !x.Class.Valid() {
			t.Errorf("%s: no index: %+v", station, x)
		}
	}
	// The next day has no data: no class, everything missing; and a day
	// not over yet is provisional.
	x := atmo.Compute(day.AddDate(0, 0, 1), data["NICE ARSON"], time.Date(2019, 10, 16, 9, 0, 0, 0, time.UTC))
	if x.Class != atmo.None || len(x.Missing) != 5 || !x.Provisional {
		t.Errorf("empty day: %+v", x)
	}
}

func TestComputeRawReadings(t *testing.T) {
	// Raw readings every 10 minutes are averaged per hour before the max:
	// one spike of 200 in an hour of 30s gives an hourly mean of 58.3.
	start, _ := atmo.DayOf(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	var no2 []atmo.Sample
	for i := 0; i < 6; i++ {
		v := 30.0
		if i == 3 {
			v = 200
		}
		no2 = append(no2, atmo.Sample{Time: start.Add(5*time.Hour + time.Duration(i)*10*time.Minute), Value: v})
	}
	x := atmo.Compute(start, map[atmo.Pollutant][]atmo.Sample{atmo.NO2: no2}, start.Add(48*time.Hour))
	s, _ := x.Sub(atmo.NO2)
	if s.Class != atmo.Moyen || s.Value < 58.3 || s.Value > 58.4 || s.Hours != 1 {
		t.Errorf("no2 %+v", s)
	}
}

// FuzzParseClass: whatever the text, ParseClass gives a valid class or an
// error, and a class's label and number parse back to it.
func FuzzParseClass(f *testing.F) {
	for _, s := range []string{"1", "6", "0", "7", "bon", "dégradé", "degrade", "très mauvais", "extrêmement mauvais", "", "\xff", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := atmo.ParseClass(s)
		if err != nil {
			return
		}
		if !c.Valid() {
			t.Fatalf("ParseClass(%q) = %d, not a class", s, c)
		}
		if back, err := atmo.ParseClass(c.Label()); err != nil || back != c {
			t.Fatalf("label %q of %d parses to %d, %v", c.Label(), c, back, err)
		}
	})
}
