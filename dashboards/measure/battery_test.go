package measure_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestBatteryUsedFromSeries (issue 13, defect 2): battery used is computed
// from the battery series over the mission, not only where a battery
// reading shares a position's timestamp. The live bridge publishes
// positions every second and the battery every 5 s, each at its message's
// reception time: they (almost) never share one. Completed mission (m5,
// 100 % → 75 %, one reading aligned with a fix) and live mission (m6, up to
// now, none aligned), on both engines.
func TestBatteryUsedFromSeries(t *testing.T) {
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	done := time.Now().UTC().Truncate(time.Second).Add(-2 * time.Hour)
	live := time.Now().UTC().Add(-40 * time.Second)
	var lines []string
	add := func(mission string, q, unit string, v float64, at time.Time) {
		lines = append(lines, fmt.Sprintf("telemetry,site=s1,device=dr2,quantity=%s,unit=%s,mission=%s value=%g %d", q, unit, mission, v, at.UnixNano()))
	}
	for _, m := range []struct {
		id string
		t0 time.Time
	}{{"m5", done}, {"m6", live}} {
		for i := range 30 {
			at := m.t0.Add(time.Duration(i) * time.Second)
			add(m.id, "latitude", "lat", 43.7+float64(i)*1e-4, at)
			add(m.id, "longitude", "lon", 7.25, at)
		}
		for i := range 6 { // every 5 s, 400 ms after a fix: 100, 96 … 80, then 75 at 29.9 s
			add(m.id, "battery_remaining", "%EL", 100-4*float64(i), m.t0.Add(time.Duration(i)*5*time.Second+400*time.Millisecond))
		}
		add(m.id, "battery_remaining", "%EL", 75, m.t0.Add(29900*time.Millisecond))
	}
	add("m5", "battery_remaining", "%EL", 88, done.Add(20*time.Second)) // aligned with a fix, as the old pivot needed
	// a reading of another mission in the window is not this one's
	add("m7", "battery_remaining", "%EL", 10, done.Add(10*time.Second))
	writeNanoLines(t, in.URL, db+"/autogen", lines)
	for _, engine := range []string{"flux", "influxql"} {
		t.Run(engine, func(t *testing.T) {
			c, err := measure.New(measure.Config{URL: in.URL, Bucket: db + "/autogen", Engine: engine}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			completed, err := c.Track(ctx, "s1", "dr2", "m5", done.Add(-time.Minute), done.Add(31*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			current, err := c.Track(ctx, "s1", "dr2", "m6", live.Add(-time.Minute), time.Now().Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			for name, tr := range map[string]*measure.Track{"completed": completed, "live": current} {
				if len(tr.Points) != 30 || tr.BatteryUsedPct == nil || *tr.BatteryUsedPct != 25 {
					used := "none"
					if tr.BatteryUsedPct != nil {
						used = fmt.Sprint(*tr.BatteryUsedPct)
					}
					t.Fatalf("%s: %d points, battery used %s, want 30 and 25", name, len(tr.Points), used)
				}
				// each fix carries the battery level known at its time
				if p := tr.Points[6]; p.Battery == nil || *p.Battery != 96 {
					t.Fatalf("%s: fix at 6 s has battery %v, want 96 (read at 5.4 s)", name, p.Battery)
				}
				if p := tr.Points[0]; p.Battery != nil {
					t.Fatalf("%s: the first fix precedes any battery reading: %v", name, *p.Battery)
				}
			}
		})
	}
}

// writeNanoLines writes line protocol with nanosecond timestamps.
func writeNanoLines(t testing.TB, url, bucket string, lines []string) {
	t.Helper()
	resp, err := http.Post(url+"/api/v2/write?bucket="+bucket+"&precision=ns", "text/plain", strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("write: %s: %s", resp.Status, b)
	}
}
