package measure_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/internal/testenv"
)

// writeLines writes line protocol (seconds precision) through the v2 write API.
func writeLines(t testing.TB, url, bucket string, lines []string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v2/write?bucket="+bucket+"&precision=s", strings.NewReader(strings.Join(lines, "\n")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("write: %s: %s", resp.Status, b)
	}
}

// fixture: temperature of s1/d1 every minute for one hour with value i (i =
// 0..59) from t0, aligned on the hour; humidity with one value; a drone track.
func fixture(t testing.TB, engine string) (*measure.Client, time.Time) {
	t.Helper()
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	var lines []string
	for i := range 60 {
		lines = append(lines, fmt.Sprintf("telemetry,site=s1,device=d1,quantity=temperature,unit=Cel value=%d %d", i, t0.Add(time.Duration(i)*time.Minute).Unix()))
	}
	lines = append(lines,
		fmt.Sprintf("telemetry,site=s1,device=d1,quantity=relative_humidity,unit=%%RH value=55.5 %d", t0.Unix()),
		fmt.Sprintf("telemetry,site=s2,device=d9,quantity=pm2_5,unit=ug/m3 value=12 %d", t0.Unix()),
	)
	// drone dr1 flying mission m1 (three fixes 0.001° of latitude apart) and m2.
	for i, f := range []struct{ lat, lon, alt, bat float64 }{{43.700, 7.250, 10, 90}, {43.701, 7.250, 35, 88}, {43.702, 7.250, 20, 85}} {
		ts := t0.Add(time.Duration(i) * time.Second).Unix()
		lines = append(lines,
			fmt.Sprintf("telemetry,site=s1,device=dr1,quantity=latitude,unit=lat,mission=m1 value=%g %d", f.lat, ts),
			fmt.Sprintf("telemetry,site=s1,device=dr1,quantity=longitude,unit=lon,mission=m1 value=%g %d", f.lon, ts),
			fmt.Sprintf("telemetry,site=s1,device=dr1,quantity=relative_altitude,unit=m,mission=m1 value=%g %d", f.alt, ts),
			fmt.Sprintf("telemetry,site=s1,device=dr1,quantity=battery_remaining,unit=%%EL,mission=m1 value=%g %d", f.bat, ts),
		)
	}
	lines = append(lines,
		fmt.Sprintf("telemetry,site=s1,device=dr1,quantity=latitude,unit=lat,mission=m2 value=44 %d", t0.Add(10*time.Second).Unix()),
		fmt.Sprintf("telemetry,site=s1,device=dr1,quantity=longitude,unit=lon,mission=m2 value=8 %d", t0.Add(10*time.Second).Unix()))
	writeLines(t, in.URL, db+"/autogen", lines)
	c, err := measure.New(measure.Config{URL: in.URL, Bucket: db + "/autogen", Engine: engine}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, t0
}

// TestMeasure runs every query against a real InfluxDB 1.8 with known data,
// once per Range engine ("auto" chooses InfluxQL there).
func TestMeasure(t *testing.T) {
	for _, engine := range []string{measure.EngineAuto, measure.EngineFlux} {
		t.Run(engine, func(t *testing.T) { testMeasure(t, engine) })
	}
}

func testMeasure(t *testing.T, engine string) {
	c, t0 := fixture(t, engine)
	ctx := context.Background()
	flux, err := measure.WithEngine(c, measure.EngineFlux)
	if err != nil {
		t.Fatal(err)
	}
	defer flux.Close()
	key := measure.SeriesKey{Site: "s1", Device: "d1", Quantity: "temperature"}

	t.Run("aggregates", func(t *testing.T) {
		for _, tc := range []struct {
			agg  measure.Aggregate
			want func(k int) float64
		}{
			{measure.Mean, func(k int) float64 { return float64(10*k) + 4.5 }},
			{measure.Min, func(k int) float64 { return float64(10 * k) }},
			{measure.Max, func(k int) float64 { return float64(10*k + 9) }},
			{measure.Last, func(k int) float64 { return float64(10*k + 9) }},
		} {
			d, err := c.Range(ctx, measure.RangeQuery{SeriesKey: key, Start: t0, Stop: t0.Add(time.Hour), Agg: tc.agg, Every: 10 * time.Minute})
			if err != nil {
				t.Fatalf("%s: %v", tc.agg, err)
			}
			if len(d.Points) != 6 {
				t.Fatalf("%s: %d points, want 6: %+v", tc.agg, len(d.Points), d.Points)
			}
			if want := map[string]string{measure.EngineAuto: measure.EngineInfluxQL}[engine]; want != "" && measure.EngineOf(c) != want {
				t.Fatalf("auto chose %q on InfluxDB 1.8, want %q", measure.EngineOf(c), want)
			}
			for k, p := range d.Points {
				if p.Value != tc.want(k) || !p.Time.Equal(t0.Add(time.Duration(k+1)*10*time.Minute)) {
					t.Errorf("%s window %d = %v at %s, want %v at end of window", tc.agg, k, p.Value, p.Time, tc.want(k))
				}
			}
		}
	})

	t.Run("same as Flux aggregateWindow and Go fold", func(t *testing.T) {
		// Unaligned range: the first and last windows are clipped. (No point
		// exactly at Stop: InfluxDB 1.8 reads it, Range follows [Start, Stop).)
		for _, q := range []measure.RangeQuery{
			{SeriesKey: key, Start: t0.Add(7*time.Minute + 30*time.Second), Stop: t0.Add(52*time.Minute + 30*time.Second), Every: 10 * time.Minute},
			{SeriesKey: key, Start: t0.Add(-time.Hour), Stop: t0.Add(2 * time.Hour), MaxPoints: 7},
		} {
			for _, agg := range []measure.Aggregate{measure.Mean, measure.Min, measure.Max, measure.Last} {
				q.Agg = agg
				got, err := c.Range(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				restore := measure.SetRawPointLimit(10)
				server, err := flux.Range(ctx, q)
				restore()
				if err != nil {
					t.Fatal(err)
				}
				inGo, err := flux.Range(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(got.Points) != fmt.Sprint(server.Points) || fmt.Sprint(inGo.Points) != fmt.Sprint(server.Points) || len(got.Points) < 2 {
					t.Errorf("%s: %s engine %v, Flux aggregateWindow %v, Go fold %v", agg, engine, got.Points, server.Points, inGo.Points)
				}
			}
		}
	})

	t.Run("downsampling", func(t *testing.T) {
		d, err := c.Range(ctx, measure.RangeQuery{SeriesKey: key, Start: t0, Stop: t0.Add(time.Hour), MaxPoints: 4})
		if err != nil {
			t.Fatal(err)
		}
		if d.Every != "20m0s" || len(d.Points) != 3 {
			t.Fatalf("every %s, %d points: %+v", d.Every, len(d.Points), d.Points)
		}
		for k, want := range []float64{9.5, 29.5, 49.5} {
			if d.Points[k].Value != want {
				t.Errorf("point %d = %v, want %v", k, d.Points[k].Value, want)
			}
		}
		// Every narrower than the cap allows is widened.
		d, err = c.Range(ctx, measure.RangeQuery{SeriesKey: key, Start: t0, Stop: t0.Add(time.Hour), Every: time.Minute, MaxPoints: 7})
		if err != nil || len(d.Points) > 7 || d.Every != "10m0s" {
			t.Fatalf("cap: every %s, %d points, %v", d.Every, len(d.Points), err)
		}
	})

	t.Run("latest of a site", func(t *testing.T) {
		ls, err := c.Series(ctx, measure.Filter{Site: "s1", Device: "d1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(ls) != 2 || ls[0].Quantity != "relative_humidity" || ls[0].Value != 55.5 || ls[0].Unit != "%RH" ||
			ls[1].Quantity != "temperature" || ls[1].Value != 59 || !ls[1].Time.Equal(t0.Add(59*time.Minute)) {
			t.Fatalf("latest = %+v", ls)
		}
		all, err := c.Series(ctx, measure.Filter{})
		if err != nil || len(all) != 2+1+4 {
			t.Fatalf("all series: %d %v", len(all), err)
		}
	})

	t.Run("track", func(t *testing.T) {
		tr, err := c.Track(ctx, "s1", "dr1", "m1", t0.Add(-time.Minute), t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Points) != 3 || tr.DurationS != 2 || tr.MaxAltitudeM == nil || *tr.MaxAltitudeM != 35 ||
			tr.BatteryUsedPct == nil || *tr.BatteryUsedPct != 5 {
			t.Fatalf("track = %+v", tr)
		}
		if math.Abs(tr.DistanceM-222.4) > 1 { // 0.002° of latitude ≈ 222.4 m
			t.Fatalf("distance %v m, want ≈ 222.4", tr.DistanceM)
		}
	})

	t.Run("hostile input", func(t *testing.T) {
		for name, q := range map[string]measure.RangeQuery{
			"flux injection in device": {SeriesKey: measure.SeriesKey{Site: "s1", Device: `d1" or r.device != "`, Quantity: "temperature"}, Start: t0, Stop: t0.Add(time.Hour)},
			"pipe in quantity":         {SeriesKey: measure.SeriesKey{Site: "s1", Device: "d1", Quantity: "temperature) |> drop("}, Start: t0, Stop: t0.Add(time.Hour)},
			"bad aggregate":            {SeriesKey: key, Start: t0, Stop: t0.Add(time.Hour), Agg: "sum) |> yield("},
			"too many points":          {SeriesKey: key, Start: t0, Stop: t0.Add(time.Hour), MaxPoints: 1e6},
		} {
			if _, err := c.Range(ctx, q); !errors.Is(err, measure.ErrBadParam) {
				t.Errorf("%s: err = %v, want ErrBadParam", name, err)
			}
		}
		for name, q := range map[string]measure.RangeQuery{
			"reversed": {SeriesKey: key, Start: t0.Add(time.Hour), Stop: t0},
			"empty":    {SeriesKey: key, Start: t0, Stop: t0},
			"zero":     {SeriesKey: key},
			"too long": {SeriesKey: key, Start: t0.AddDate(-5, 0, 0), Stop: t0},
		} {
			if _, err := c.Range(ctx, q); !errors.Is(err, measure.ErrBadRange) {
				t.Errorf("%s: err = %v, want ErrBadRange", name, err)
			}
		}
		if _, err := c.Track(ctx, "s1", "dr1", `m1" or true or "`, t0, t0.Add(time.Hour)); !errors.Is(err, measure.ErrBadParam) {
			t.Errorf("track injection: %v", err)
		}
	})
}

func TestUnavailable(t *testing.T) {
	c, err := measure.New(measure.Config{URL: fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t)), Bucket: "x/autogen", Timeout: 2 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	_, err = c.Range(context.Background(), measure.RangeQuery{SeriesKey: measure.SeriesKey{Site: "s", Device: "d", Quantity: "q"}, Start: now.Add(-time.Hour), Stop: now})
	if !errors.Is(err, measure.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestRangeCache(t *testing.T) {
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	writeLines(t, in.URL, db+"/autogen", []string{fmt.Sprintf("telemetry,site=s,device=d,quantity=q value=1 %d", t0.Add(time.Minute).Unix())})
	c, err := measure.New(measure.Config{URL: in.URL, Bucket: db + "/autogen", CacheTTL: time.Hour}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := measure.RangeQuery{SeriesKey: measure.SeriesKey{Site: "s", Device: "d", Quantity: "q"}, Start: t0, Stop: t0.Add(time.Hour), Every: 10 * time.Minute, Agg: measure.Max}
	first, err := c.Range(context.Background(), q)
	if err != nil || len(first.Points) != 1 || first.Points[0].Value != 1 {
		t.Fatalf("first %+v %v", first, err)
	}
	writeLines(t, in.URL, db+"/autogen", []string{fmt.Sprintf("telemetry,site=s,device=d,quantity=q value=5 %d", t0.Add(2*time.Minute).Unix())})
	cached, err := c.Range(context.Background(), q)
	if err != nil || cached.Points[0].Value != 1 {
		t.Fatalf("not served from cache: %+v %v", cached, err)
	}
	// Other spellings of the same query share the entry: another point cap
	// giving the same 10-minute window, the same instants in another offset.
	paris := time.FixedZone("CET", 3600)
	for _, same := range []measure.RangeQuery{
		{SeriesKey: q.SeriesKey, Start: q.Start, Stop: q.Stop, Every: q.Every, Agg: q.Agg, MaxPoints: 7},
		{SeriesKey: q.SeriesKey, Start: q.Start, Stop: q.Stop, Every: q.Every, Agg: q.Agg, MaxPoints: 5000},
		{SeriesKey: q.SeriesKey, Start: q.Start.In(paris), Stop: q.Stop.In(paris), Every: q.Every, Agg: q.Agg},
	} {
		if d, err := c.Range(context.Background(), same); err != nil || d.Points[0].Value != 1 {
			t.Fatalf("points %d, start %s: not served from the cache: %+v %v", same.MaxPoints, same.Start, d, err)
		}
	}
	q.Stop = q.Stop.Add(time.Minute) // another range is another query
	fresh, err := c.Range(context.Background(), q)
	if err != nil || fresh.Points[0].Value != 5 {
		t.Fatalf("fresh %+v %v", fresh, err)
	}
}
