package measure_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cd06/smartdeal/atmo"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestAtmo writes two AtmoSud stations' 15 Oct 2019 (the replay's
// recording, the shared test data byte for byte) as the replay publishes
// them, one station per site, and reads the day's index back through
// InfluxDB, with both Range engines: the values computed by hand in
// atmo.TestAtmoSudStations come out (NICE ARSON: moyen, set by NO2 and O3;
// CANNES BROUSSAILLES: moyen, set by O3, PM10 from 19 hours).
func TestAtmo(t *testing.T) {
	f, err := os.Open("../../devices/replay/atmosud06_24h.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	sites := map[string]string{"NICE ARSON": "arson", "CANNES BROUSSAILLES": "cannes"}
	quantity := map[string]string{"PM2.5": "pm2_5", "PM10": "pm10", "NO2": "no2", "O3": "o3", "NOx": "nox"}
	var lines []string
	for _, r := range rows[1:] {
		site, ok := sites[r[1]]
		if !ok || r[3] == "" {
			continue
		}
		at, err := time.ParseInLocation("2006-01-02T15:04:05", r[4], atmo.Paris())
		if err != nil {
			t.Fatal(err)
		}
		v, err := strconv.ParseFloat(r[3], 64)
		if err != nil {
			t.Fatal(err)
		}
		// Two readings within the hour, the hour's mean is the recorded value.
		for _, d := range []struct {
			off time.Duration
			dv  float64
		}{{10 * time.Minute, -1}, {40 * time.Minute, 1}} {
			lines = append(lines, fmt.Sprintf("telemetry,site=%s,device=%s-atmosud,quantity=%s,unit=ug/m3 value=%g %d",
				site, site, quantity[r[2]], v+d.dv, at.Add(d.off).Unix()))
		}
	}
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	writeLines(t, in.URL, db+"/autogen", lines)
	for _, engine := range []string{measure.EngineAuto, measure.EngineFlux} {
		t.Run(engine, func(t *testing.T) {
			c, err := measure.New(measure.Config{URL: in.URL, Bucket: db + "/autogen", Engine: engine, MaxRange: 20 * 365 * 24 * time.Hour},
				slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			day := time.Date(2019, 10, 15, 12, 0, 0, 0, atmo.Paris())
			for _, w := range []struct {
				site     string
				dominant []atmo.Pollutant
				subs     map[atmo.Pollutant]float64
				hours    map[atmo.Pollutant]int
			}{
				{"arson", []atmo.Pollutant{atmo.NO2, atmo.O3}, map[atmo.Pollutant]float64{atmo.PM25: 9.5917, atmo.PM10: 18.8458, atmo.NO2: 52.7, atmo.O3: 53.7},
					map[atmo.Pollutant]int{atmo.PM10: 24}},
				{"cannes", []atmo.Pollutant{atmo.O3}, map[atmo.Pollutant]float64{atmo.PM10: 17.6579, atmo.NO2: 30, atmo.O3: 73.2},
					map[atmo.Pollutant]int{atmo.PM10: 19}},
			} {
				x, err := c.Atmo(ctx, w.site, day, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				if x.Class != atmo.Moyen || !slices.Equal(x.Dominant, w.dominant) || x.Provisional || len(x.Subs) != len(w.subs) {
					t.Errorf("%s: %+v", w.site, x)
				}
				for p, v := range w.subs {
					s, ok := x.Sub(p)
					if !ok || s.Value < v-0.001 || s.Value > v+0.001 || (w.hours[p] != 0 && s.Hours != w.hours[p]) {
						t.Errorf("%s %s: %+v, want %.4f", w.site, p, s, v)
					}
				}
			}
			// Every site at once: the same indices, one listing and one Read.
			all, err := c.AtmoSites(ctx, day, time.Now())
			if err != nil || len(all) != 2 {
				t.Fatalf("AtmoSites: %v %v", all, err)
			}
			for _, site := range []string{"arson", "cannes"} {
				one, _ := c.Atmo(ctx, site, day, time.Now())
				if x := all[site]; x == nil || x.Class != one.Class || !slices.Equal(x.Dominant, one.Dominant) || len(x.Subs) != len(one.Subs) {
					t.Errorf("AtmoSites %s: %+v, Atmo %+v", site, x, one)
				}
			}
			// A day without data: no class, every pollutant missing.
			x, err := c.Atmo(ctx, "arson", day.AddDate(0, 0, 2), time.Now())
			if err != nil || x.Class != atmo.None || len(x.Missing) != 5 {
				t.Errorf("empty day: %+v %v", x, err)
			}
			if _, err := c.Atmo(ctx, "Not A Site", day, time.Now()); err == nil {
				t.Error("bad site accepted")
			}
		})
	}
}
