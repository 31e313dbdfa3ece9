package influxstore

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestFluxShapes runs the documented query shapes against real data.
func TestFluxShapes(t *testing.T) {
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	s := newStore(t, in, db, nil)
	ctx := context.Background()
	bucket := db + "/autogen"
	base := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	var rs []smartdeal.Reading
	// A weather station: temperature every 10 minutes for 3 hours (value = minute index).
	for i := range 18 {
		rs = append(rs, smartdeal.Reading{Site: "nice", Device: "station", Quantity: "temperature", Unit: "Cel",
			Time: base.Add(time.Duration(i) * 10 * time.Minute), Number: float64(i)})
	}
	rs = append(rs,
		smartdeal.Reading{Site: "nice", Device: "station", Quantity: "status", Kind: smartdeal.KindString, Text: "ok", Time: base},
		smartdeal.Reading{Site: "nice", Device: "river", Quantity: "water_level", Unit: "m", Number: 1.25, Time: base.Add(time.Hour)},
		smartdeal.Reading{Site: "paris", Device: "station", Quantity: "temperature", Unit: "Cel", Number: 99, Time: base.Add(2 * time.Hour)},
	)
	// A drone flying mission m-1: three fixes, a second apart.
	for i := range 3 {
		at := base.Add(time.Hour + time.Duration(i)*time.Second)
		for q, v := range map[string]float64{"latitude": []float64{43.7, 43.701, 43.702}[i], "longitude": 7.25, "altitude": 100 + float64(i)} {
			unit := map[string]string{"latitude": "lat", "longitude": "lon", "altitude": "m"}[q]
			rs = append(rs, smartdeal.Reading{Site: "nice", Device: "drone-1", Quantity: q, Unit: unit, Mission: "m-1", Number: v, Time: at})
		}
	}
	for _, r := range rs {
		if err := r.Validate(time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Write(ctx, AppendPoints(nil, rs)); err != nil {
		t.Fatal(err)
	}

	q, err := FluxSeries(bucket, "nice", "station", "temperature", base, base.Add(3*time.Hour), time.Hour, "mean")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := in.Flux(ctx, q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	var means []string
	for _, r := range rows {
		means = append(means, r["_time"]+"="+r["_value"])
	}
	// Windows are labelled by their stop time: 08:00–09:00 holds values 0..5.
	if want := "2026-11-27T09:00:00Z=2.5 2026-11-27T10:00:00Z=8.5 2026-11-27T11:00:00Z=14.5"; strings.Join(means, " ") != want {
		t.Fatalf("hourly means %v, want %s", means, want)
	}

	q, err = FluxLatest(bucket, "nice", 3650*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rows, err = in.Flux(ctx, q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	var latest []string
	for _, r := range rows {
		latest = append(latest, r["device"]+"/"+r["quantity"]+"/"+r["_field"]+"="+r["_value"])
	}
	sort.Strings(latest)
	want := "drone-1/altitude/value=102 drone-1/latitude/value=43.702 drone-1/longitude/value=7.25 river/water_level/value=1.25 station/status/text=ok station/temperature/value=17"
	if strings.Join(latest, " ") != want {
		t.Fatalf("latest of site nice:\n%v\nwant\n%s", latest, want)
	}

	q, err = FluxTrack(bucket, "nice", "drone-1", "m-1", base, base.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rows, err = in.Flux(ctx, q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	var track []string
	for _, r := range rows {
		track = append(track, fmt.Sprintf("%s %s,%s,%s", r["_time"][11:19], r["latitude"], r["longitude"], r["altitude"]))
	}
	if want := "09:00:00 43.7,7.25,100 09:00:01 43.701,7.25,101 09:00:02 43.702,7.25,102"; strings.Join(track, " ") != want {
		t.Fatalf("track %v, want %s", track, want)
	}

	// Builders refuse what they cannot quote safely.
	if _, err := FluxSeries(bucket, "nice", `station" or true or "`, "temperature", base, base.Add(time.Hour), time.Hour, "mean"); err == nil {
		t.Fatal("injected device accepted")
	}
	if _, err := FluxSeries(bucket, "nice", "station", "temperature", base, base.Add(time.Hour), time.Hour, "drop"); err == nil {
		t.Fatal("unknown aggregate accepted")
	}
	if _, err := FluxTrack(bucket, "nice", "drone-1", "M 1", base, base.Add(time.Hour)); err == nil {
		t.Fatal("invalid mission accepted")
	}
}
