package replay

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/devices"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestReplayMatchesSummary replays every station of the embedded day an hour
// per read and compares each series' count, min, max and mean with the
// summary published next to the data.
func TestReplayMatchesSummary(t *testing.T) {
	var sum struct {
		Series []struct {
			Station, Pollutant string
			NValues            int `json:"n_values"`
			Min, Max, Mean     float64
		}
	}
	b, err := os.ReadFile("testdata/normalized_24h.summary.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	type agg struct {
		n              int
		min, max, mean float64
	}
	got := map[[2]string]*agg{}
	stations := map[string]bool{}
	for _, s := range sum.Series {
		stations[s.Station] = true
	}
	if len(stations) != 10 { // 10 of the 12 stations report hourly values
		t.Fatalf("summary has %d stations", len(stations))
	}
	for st := range stations {
		clk := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		s, err := New(Options{Station: st, Speedup: 3600, Now: clk.now})
		if err != nil {
			t.Fatal(err)
		}
		for h := 0; h < 24; h++ {
			if want := time.Date(2019, 10, 15, h, 0, 0, 0, time.UTC); !s.RecordedTime().Equal(want) {
				t.Fatalf("%s read %d at recorded %s, want %s", st, h, s.RecordedTime(), want)
			}
			ms, err := s.Read(context.Background())
			if errors.Is(err, devices.ErrNoData) {
				clk.t = clk.t.Add(time.Second)
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if m.Unit != "ug/m3" {
					t.Fatalf("unit %q", m.Unit)
				}
				k := [2]string{st, m.Quantity}
				a := got[k]
				if a == nil {
					a = &agg{min: math.Inf(1), max: math.Inf(-1)}
					got[k] = a
				}
				a.n++
				a.min, a.max = math.Min(a.min, m.Value), math.Max(a.max, m.Value)
				a.mean += m.Value
			}
			clk.t = clk.t.Add(time.Second)
		}
	}
	for _, s := range sum.Series {
		a := got[[2]string{s.Station, Quantity(s.Pollutant)}]
		if a == nil {
			if s.NValues != 0 {
				t.Errorf("%s %s: no values replayed, want %d", s.Station, s.Pollutant, s.NValues)
			}
			continue
		}
		a.mean /= float64(a.n)
		if a.n != s.NValues || a.min != s.Min || a.max != s.Max || math.Abs(a.mean-s.Mean) > 1e-4 {
			t.Errorf("%s %s: replayed n=%d min=%g max=%g mean=%.4f, summary n=%d min=%g max=%g mean=%.4f",
				s.Station, s.Pollutant, a.n, a.min, a.max, a.mean, s.NValues, s.Min, s.Max, s.Mean)
		}
	}
}

func TestReplayLoopsAndFilters(t *testing.T) {
	clk := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := New(Options{Station: "nice arson", Pollutants: []string{"pm2.5", "PM10"}, Speedup: 60, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || first[0].Quantity != "pm10" || first[1].Quantity != "pm2_5" {
		t.Fatalf("first step %v", first)
	}
	// 59 s at ×60 is 59 recorded minutes: still the first hour.
	clk.t = clk.t.Add(59 * time.Second)
	if got, _ := s.Read(context.Background()); got[0] != first[0] {
		t.Errorf("moved before the hour: %v", got)
	}
	// 24 recorded hours later the replay loops to the start.
	clk.t = clk.t.Add(24*time.Minute - 59*time.Second)
	if got, _ := s.Read(context.Background()); got[0] != first[0] || !s.RecordedTime().Equal(time.Date(2019, 10, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("did not loop: %v at %s", got, s.RecordedTime())
	}
	// Real time by default: an hour per hour.
	s2, _ := New(Options{Station: "NICE ARSON", Now: clk.now})
	clk.t = clk.t.Add(90 * time.Minute)
	if h := s2.RecordedTime().Hour(); h != 1 {
		t.Errorf("speedup 1: at hour %d after 90 minutes", h)
	}
}

func TestReplayMissingValuesAreNoData(t *testing.T) {
	// NICE PROMENADE has no PM10 at 14:00 and 15:00.
	clk := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := New(Options{Station: "NICE PROMENADE", Pollutants: []string{"PM10"}, Speedup: 3600, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(14 * time.Second)
	if ms, err := s.Read(context.Background()); !errors.Is(err, devices.ErrNoData) {
		t.Errorf("missing value read as %v, %v", ms, err)
	}
}

func TestReplayFileAndErrors(t *testing.T) {
	// The 7-day file has one daily value per row.
	clk := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := New(Options{File: "testdata/normalized_7j.csv", Station: "NICE ARSON", Speedup: 86400, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	d0 := s.RecordedTime()
	clk.t = clk.t.Add(time.Second)
	if d1 := s.RecordedTime(); d1.Sub(d0) != 24*time.Hour {
		t.Errorf("7-day file: one second at ×86400 went from %s to %s", d0, d1)
	}

	_, err = New(Options{Station: "PARIS"})
	if !errors.Is(err, devices.ErrNotFound) || !strings.Contains(err.Error(), "NICE ARSON") {
		t.Errorf("unknown station: %v", err)
	}
	if _, err := New(Options{Station: "NICE ARSON", Pollutants: []string{"SO2"}}); !errors.Is(err, devices.ErrNotFound) {
		t.Errorf("unknown pollutant: %v", err)
	}
	if _, err := New(Options{File: "testdata/nope.csv", Station: "X"}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("station,pollutant,value_ugm3,local_time\nX,NO2,abc,2019-10-15T00:00:00\n"), 0o600)
	if _, err := New(Options{File: bad, Station: "X"}); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad value: %v", err)
	}
	os.WriteFile(bad, []byte("station,pollutant,value\nX,NO2,1\n"), 0o600)
	if _, err := New(Options{File: bad, Station: "X"}); err == nil || !strings.Contains(err.Error(), "missing column") {
		t.Errorf("missing column: %v", err)
	}
	os.WriteFile(bad, []byte("station,pollutant,value_ugm3,local_time\nX,NO2,1,15/10/2019\n"), 0o600)
	if _, err := New(Options{File: bad, Station: "X"}); err == nil || !strings.Contains(err.Error(), "local_time") {
		t.Errorf("bad time: %v", err)
	}
}

func BenchmarkRead(b *testing.B) {
	clk := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := New(Options{Station: "NICE ARSON", Speedup: 3600, Now: clk.now})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		clk.t = clk.t.Add(time.Second)
		if _, err := s.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(Options{Station: "NICE ARSON"}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestReplayQuantities(t *testing.T) {
	for station, want := range map[string]string{
		"NICE ARSON":          "no2 nox o3 pm10 pm2_5",
		"CANNES BROUSSAILLES": "no2 nox o3 pm10",
		"PEILLON":             "pm10",
	} {
		s, err := New(Options{Station: station})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(s.Quantities(), " "); got != want {
			t.Errorf("%s: quantities %q, want %q", station, got, want)
		}
	}
	s, _ := New(Options{Station: "NICE ARSON", Pollutants: []string{"NO2"}})
	if got := s.Quantities(); len(got) != 1 || got[0] != "no2" {
		t.Errorf("filtered quantities %v", got)
	}
}
