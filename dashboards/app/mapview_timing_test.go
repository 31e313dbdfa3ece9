package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/internal/testenv"
)

// BenchmarkMapView measures the map's data: Maps.View and EncodeMap over
// 500 sensors (50 sites of 10, two quantities each: 1,000 latest values),
// 200 located proposals and 20 flown missions of 600 fixes each, on SQLite
// and a local InfluxDB 1.8 without the measurements cache. Reports p50 and
// p95 latency and the document's size.
func BenchmarkMapView(b *testing.B) {
	in := testenv.SharedInflux(b)
	db := in.NewDatabase(b)
	meas, err := measure.New(measure.Config{URL: in.URL, Bucket: db + "/autogen"}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(meas.Close)
	w := newMapWorld(b, meas, in, db)
	for range 50 {
		w.sensors(10, "pm2_5", "no2")
	}
	for i := range 200 {
		w.located(civic.StatusPublished, 43.5+float64(i%40)/50, 6.9+float64(i/40)/10)
	}
	for range 20 {
		w.flight(600, false)
		w.write()
	}
	w.write()
	for _, c := range []struct {
		name   string
		layers app.MapLayers
	}{{"all", app.AllLayers}, {"proposals", app.LayerProposals}, {"sensors", app.LayerSensors}, {"missions", app.LayerMissions}} {
		b.Run(c.name, func(b *testing.B) { benchMap(b, w, c.layers) })
	}
}

func benchMap(b *testing.B, w *mapWorld, layers app.MapLayers) {
	ctx := context.Background()
	var size int
	run := func() time.Duration {
		start := time.Now()
		v, err := w.maps.View(ctx, app.MapFilter{Layers: layers})
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if err := app.EncodeMap(&buf, v); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		want := func(l app.MapLayers, n int) int {
			if layers&l == 0 {
				return 0
			}
			return n
		}
		if len(v.Sensors) != want(app.LayerSensors, 500) || len(v.Proposals) != want(app.LayerProposals, 200) || len(v.Missions) != want(app.LayerMissions, 20) || v.LatestErr != nil || v.TracksErr != nil {
			b.Fatalf("%d sensors, %d proposals, %d missions, %v %v", len(v.Sensors), len(v.Proposals), len(v.Missions), v.LatestErr, v.TracksErr)
		}
		for _, m := range v.Missions {
			if m.Track == nil || len(m.Track.Points) < 55 || len(m.Track.Points) > 600/10+3 { // downsampled (app.MapTrackEvery)
				b.Fatalf("mission %s: track %v", m.Mission.ID, m.Track)
			}
		}
		size = buf.Len()
		return d
	}
	run() // warm up
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		lat = append(lat, run())
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*95)/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(size), "doc-bytes")
}
