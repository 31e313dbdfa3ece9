package measure_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/internal/testenv"
)

// readFixture: 12 water-level series (l0…l11) with a reading a minute for
// two hours (value i+k for series i, k minutes after t0), l0 switching
// unit for its last reading; 5 missions of drone dr (three fixes each, a
// second apart, mission j starting 10 minutes after mission j-1). The
// clients read it through a proxy that counts InfluxDB requests.
func readFixture(t *testing.T) (clients map[string]*measure.Client, requests *atomic.Int64, t0 time.Time) {
	t.Helper()
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	t0 = time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	var lines []string
	for i := range 12 {
		for k := range 120 {
			unit := "m"
			if i == 0 && k == 119 {
				unit = "cm"
			}
			lines = append(lines, fmt.Sprintf("telemetry,site=var,device=l%d,quantity=water_level,unit=%s value=%d %d", i, unit, i+k, t0.Add(time.Duration(k)*time.Minute).Unix()))
		}
	}
	for j := range 5 {
		for k := range 3 {
			at := t0.Add(time.Duration(10*j)*time.Minute + time.Duration(k)*time.Second).Unix()
			lines = append(lines,
				fmt.Sprintf("telemetry,site=var,device=dr,quantity=latitude,unit=lat,mission=m%d value=%g %d", j, 43.7+float64(k)/1000, at),
				fmt.Sprintf("telemetry,site=var,device=dr,quantity=longitude,unit=lon,mission=m%d value=7.25 %d", j, at),
				fmt.Sprintf("telemetry,site=var,device=dr,quantity=relative_altitude,unit=m,mission=m%d value=%d %d", j, 10*(k+j), at))
		}
	}
	writeLines(t, in.URL, db+"/autogen", lines)
	proxy, requests := testenv.CountingProxy(t, in.URL)
	clients = map[string]*measure.Client{}
	for _, engine := range []string{measure.EngineAuto, measure.EngineFlux} {
		c, err := measure.New(measure.Config{URL: proxy, Bucket: db + "/autogen", Engine: engine}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		clients[engine] = c
	}
	return clients, requests, t0
}

// js is v in JSON, to compare what pointers point to.
func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func reads(t0 time.Time, series, tracks int) measure.Reads {
	var r measure.Reads
	for i := range series {
		k := measure.SeriesKey{Site: "var", Device: fmt.Sprintf("l%d", i), Quantity: "water_level"}
		r.Ranges = append(r.Ranges, measure.RangeQuery{SeriesKey: k, Start: t0, Stop: t0.Add(2 * time.Hour), Every: 10 * time.Minute})
		r.Latest = append(r.Latest, k)
	}
	for j := range tracks {
		start := t0.Add(time.Duration(10*j) * time.Minute)
		r.Tracks = append(r.Tracks, measure.TrackQuery{Site: "var", Device: "dr", Mission: fmt.Sprintf("m%d", j), Start: start.Add(-time.Minute), Stop: start.Add(time.Minute)})
	}
	return r
}

// TestRead: one Read answers every range, latest reading and track as the
// reads of one would, with each engine and the same figures with both; a
// series asked twice, one that does not exist and a track outside its
// data are answered too.
func TestRead(t *testing.T) {
	clients, _, t0 := readFixture(t)
	ctx := context.Background()
	r := reads(t0, 12, 5)
	ghost := measure.SeriesKey{Site: "var", Device: "ghost", Quantity: "water_level"}
	r.Ranges = append(r.Ranges, r.Ranges[3], measure.RangeQuery{SeriesKey: ghost, Start: t0, Stop: t0.Add(time.Hour)},
		measure.RangeQuery{SeriesKey: r.Ranges[5].SeriesKey, Start: t0, Stop: t0.Add(time.Hour), Agg: measure.Max, Every: 30 * time.Minute, MaxPoints: 3})
	r.Latest = append(r.Latest, ghost)
	r.Tracks = append(r.Tracks, measure.TrackQuery{Site: "var", Device: "dr", Mission: "m1", Start: t0.Add(-time.Hour), Stop: t0})
	got := map[string]*measure.Results{}
	for engine, c := range clients {
		res, err := c.Read(ctx, r)
		if err != nil || res.RangesErr != nil || res.LatestErr != nil || res.TracksErr != nil {
			t.Fatalf("%s: %v %v %v %v", engine, err, res.RangesErr, res.LatestErr, res.TracksErr)
		}
		got[engine] = res
		for i, q := range r.Ranges {
			one, err := c.Range(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			d := res.Ranges[i]
			if js(d) != js(one) {
				t.Errorf("%s range %d: read with the others %+v, alone %+v", engine, i, d, one)
			}
		}
		if d := res.Ranges[0]; len(d.Points) != 12 || d.Points[0].Value != 4.5 || !d.Points[0].Time.Equal(t0.Add(10*time.Minute)) {
			t.Errorf("%s: l0 %+v", engine, d.Points)
		}
		if d := res.Ranges[14]; len(d.Points) != 2 || d.Points[1].Value != 5+59 {
			t.Errorf("%s: l5 max, two windows: %+v", engine, d.Points)
		}
		if d := res.Ranges[13]; d.Device != "ghost" || len(d.Points) != 0 || d.Points == nil {
			t.Errorf("%s: ghost %+v", engine, d)
		}
		for i, l := range res.Latest[:12] {
			want := fmt.Sprintf("l%d %g at %s", i, float64(i+119), t0.Add(119*time.Minute))
			if l == nil || fmt.Sprintf("%s %g at %s", l.Device, l.Value, l.Time) != want {
				t.Errorf("%s latest %d = %+v, want %s", engine, i, l, want)
			}
		}
		if l := res.Latest[0]; l == nil || l.Unit != "cm" {
			t.Errorf("%s: the newest unit of l0 wins: %+v", engine, l)
		}
		if res.Latest[12] != nil {
			t.Errorf("%s: ghost latest %+v", engine, res.Latest[12])
		}
		for j, tr := range res.Tracks[:5] {
			one, err := c.Track(ctx, "var", "dr", fmt.Sprintf("m%d", j), r.Tracks[j].Start, r.Tracks[j].Stop)
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.Points) != 3 || tr.DurationS != 2 || tr.MaxAltitudeM == nil || *tr.MaxAltitudeM != float64(10*(2+j)) || js(tr) != js(one) {
				t.Errorf("%s track m%d: %+v, alone %+v", engine, j, tr, one)
			}
		}
		if tr := res.Tracks[5]; tr.Mission != "m1" || len(tr.Points) != 0 || tr.Duration != "0s" {
			t.Errorf("%s: a window without fixes %+v", engine, tr)
		}
	}
	a, f := got[measure.EngineAuto], got[measure.EngineFlux]
	if js(a) != js(f) {
		t.Errorf("InfluxQL and Flux differ:\n%s\n%s", js(a), js(f))
	}
}

// TestReadRequests: a Read costs one InfluxDB request on InfluxQL, for 1
// series or 12, 1 track or 5; with Flux, one for the latest readings, one
// for the tracks and one per series up to 4 (the series shared among them).
func TestReadRequests(t *testing.T) {
	clients, requests, t0 := readFixture(t)
	ctx := context.Background()
	for engine, want := range map[string]func(series int) int64{
		measure.EngineAuto: func(int) int64 { return 1 },
		measure.EngineFlux: func(series int) int64 { return int64(min(series, 4) + 2) },
	} {
		c := clients[engine]
		if _, err := c.Range(ctx, reads(t0, 1, 0).Ranges[0]); err != nil { // the engine probe, once
			t.Fatal(err)
		}
		for _, n := range []struct{ series, tracks int }{{12, 5}, {1, 5}, {1, 1}} {
			r := reads(t0, n.series, n.tracks)
			before := requests.Load()
			res, err := c.Read(ctx, r)
			if err != nil || res.RangesErr != nil || len(res.Ranges) != n.series || len(res.Tracks) != n.tracks || len(res.Tracks[0].Points) != 3 {
				t.Fatalf("%s: %+v %v", engine, res, err)
			}
			if got := requests.Load() - before; got != want(n.series) {
				t.Errorf("%s, %d series and %d tracks: %d requests, want %d", engine, n.series, n.tracks, got, want(n.series))
			}
		}
		before := requests.Load()
		if res, err := c.Read(ctx, measure.Reads{}); err != nil || requests.Load() != before || len(res.Ranges) != 0 {
			t.Errorf("%s: an empty Read asked InfluxDB: %v", engine, err)
		}
	}
}

// TestReadFailures: a bad query fails the Read before InfluxDB is asked; an
// InfluxDB that does not answer fails each kind asked for, not the call.
func TestReadFailures(t *testing.T) {
	clients, requests, t0 := readFixture(t)
	ctx := context.Background()
	c := clients[measure.EngineAuto]
	before := requests.Load()
	for name, r := range map[string]measure.Reads{
		"flux injection in a track": {Tracks: []measure.TrackQuery{{Site: "var", Device: "dr", Mission: `m1" or true or "`, Start: t0, Stop: t0.Add(time.Hour)}}},
		"bad latest key":            {Latest: []measure.SeriesKey{{Site: "var", Device: "l0", Quantity: "water level"}}},
		"one bad range of two":      {Ranges: append(reads(t0, 1, 0).Ranges, measure.RangeQuery{SeriesKey: measure.SeriesKey{Site: "var", Device: "l1", Quantity: "x"}, Start: t0, Stop: t0.Add(time.Hour), MaxPoints: 1})},
	} {
		if _, err := c.Read(ctx, r); !errors.Is(err, measure.ErrBadParam) {
			t.Errorf("%s: %v, want ErrBadParam", name, err)
		}
	}
	for name, r := range map[string]measure.Reads{
		"reversed track":    {Tracks: []measure.TrackQuery{{Site: "var", Device: "dr", Mission: "m1", Start: t0, Stop: t0.Add(-time.Hour)}}},
		"lookback too long": {Latest: reads(t0, 1, 0).Latest, Lookback: 500 * 24 * time.Hour},
	} {
		if _, err := c.Read(ctx, r); !errors.Is(err, measure.ErrBadRange) {
			t.Errorf("%s: %v, want ErrBadRange", name, err)
		}
	}
	if n := requests.Load() - before; n != 0 {
		t.Errorf("bad reads made %d requests", n)
	}
	down, err := measure.New(measure.Config{URL: fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t)), Bucket: "x/autogen", Timeout: 2 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	res, err := down.Read(ctx, reads(t0, 2, 1))
	if err != nil || !errors.Is(res.RangesErr, measure.ErrUnavailable) || !errors.Is(res.LatestErr, measure.ErrUnavailable) || !errors.Is(res.TracksErr, measure.ErrUnavailable) {
		t.Fatalf("%+v %v", res, err)
	}
	res, err = down.Read(ctx, measure.Reads{Tracks: reads(t0, 0, 1).Tracks})
	if err != nil || res.RangesErr != nil || res.LatestErr != nil || !errors.Is(res.TracksErr, measure.ErrUnavailable) {
		t.Fatalf("tracks only: %+v %v", res, err)
	}
}

// TestReadTrackEvery: a downsampled track (TrackQuery.Every) keeps the
// true first and last fixes and battery levels, is bounded and in time
// order within its window, on both engines; the full track is unchanged
// beside it, and a bad or mixed Every is refused before any request.
func TestReadTrackEvery(t *testing.T) {
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	// 600 fixes a second apart, starting off a 10 s boundary (so the first
	// window starts before the first fix), a battery level every 7 s.
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-2*time.Hour + 3*time.Second)
	var lines []string
	for k := range 600 {
		at := t0.Add(time.Duration(k) * time.Second).Unix()
		lines = append(lines,
			fmt.Sprintf("telemetry,site=var,device=dr,quantity=latitude,unit=lat,mission=ev value=%g %d", 43.7+float64(k)/10000, at),
			fmt.Sprintf("telemetry,site=var,device=dr,quantity=longitude,unit=lon,mission=ev value=%g %d", 7.25+float64(k%2)/10000, at))
		if k%7 == 0 || k == 599 {
			lines = append(lines, fmt.Sprintf("telemetry,site=var,device=dr,quantity=battery_remaining,unit=%%25,mission=ev value=%d %d", 100-k/10, at))
		}
	}
	lines = append(lines, fmt.Sprintf("telemetry,site=var,device=dr,quantity=latitude,unit=lat,mission=one value=43.8 %d", t0.Unix()),
		fmt.Sprintf("telemetry,site=var,device=dr,quantity=longitude,unit=lon,mission=one value=7.3 %d", t0.Unix()))
	writeLines(t, in.URL, db+"/autogen", lines)
	ctx := context.Background()
	start, stop := t0.Add(-time.Minute), t0.Add(11*time.Minute)
	for _, engine := range []string{measure.EngineAuto, measure.EngineFlux} {
		c, err := measure.New(measure.Config{URL: in.URL, Bucket: db + "/autogen", Engine: engine}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		full, err := c.Track(ctx, "var", "dr", "ev", start, stop)
		if err != nil || len(full.Points) != 600 {
			t.Fatalf("%s: full track %v, %d fixes", engine, err, len(full.Points))
		}
		q := measure.TrackQuery{Site: "var", Device: "dr", Mission: "ev", Start: start, Stop: stop, Every: 10 * time.Second}
		one := measure.TrackQuery{Site: "var", Device: "dr", Mission: "one", Start: start, Stop: stop, Every: 10 * time.Second}
		res, err := c.Read(ctx, measure.Reads{Tracks: []measure.TrackQuery{q, one}})
		if err != nil || res.TracksErr != nil {
			t.Fatalf("%s: %v %v", engine, err, res.TracksErr)
		}
		tr := res.Tracks[0]
		n := len(tr.Points)
		if n < 55 || n > 600/10+3 {
			t.Fatalf("%s: %d fixes downsampled at 10 s, want 55–63", engine, n)
		}
		if js(tr.Points[0]) != js(full.Points[0]) || js(tr.Points[n-1]) != js(full.Points[599]) {
			t.Errorf("%s: first and last %+v %+v, want %+v %+v", engine, tr.Points[0], tr.Points[n-1], full.Points[0], full.Points[599])
		}
		for i := 1; i < n; i++ {
			if !tr.Points[i].Time.After(tr.Points[i-1].Time) {
				t.Fatalf("%s: fix %d at %s after %s", engine, i, tr.Points[i].Time, tr.Points[i-1].Time)
			}
		}
		if tr.DurationS != full.DurationS || js(tr.BatteryUsedPct) != js(full.BatteryUsedPct) || tr.BatteryUsedPct == nil {
			t.Errorf("%s: summary %v s %v %%, full %v s %v %%", engine, tr.DurationS, js(tr.BatteryUsedPct), full.DurationS, js(full.BatteryUsedPct))
		}
		if o := res.Tracks[1]; len(o.Points) != 1 || o.Points[0].Lat != 43.8 {
			t.Errorf("%s: a one-fix track downsampled: %+v", engine, o.Points)
		}
		again, err := c.Track(ctx, "var", "dr", "ev", start, stop)
		if err != nil || js(again) != js(full) {
			t.Errorf("%s: the full track changed after a downsampled read: %v", engine, err)
		}
		for _, bad := range [][]measure.TrackQuery{
			{{Site: "var", Device: "dr", Mission: "ev", Start: start, Stop: stop, Every: -time.Second}},
			{{Site: "var", Device: "dr", Mission: "ev", Start: start, Stop: stop, Every: 1500 * time.Millisecond}},
			{q, {Site: "var", Device: "dr", Mission: "one", Start: start, Stop: stop}},
		} {
			if _, err := c.Read(ctx, measure.Reads{Tracks: bad}); !errors.Is(err, measure.ErrBadParam) {
				t.Errorf("%s: %+v: %v, want ErrBadParam", engine, bad, err)
			}
		}
	}
}
