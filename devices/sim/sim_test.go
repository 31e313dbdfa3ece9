package sim

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/devices"
)

// fakeClock advances by step on every call.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time { t := c.t; c.t = c.t.Add(c.step); return t }

var t0 = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func readN(t testing.TB, s *Sensor, n int) [][]devices.Measurement {
	t.Helper()
	out := make([][]devices.Measurement, n)
	for i := range out {
		m, err := s.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out[i] = m
	}
	return out
}

func TestDeterministicWithSeed(t *testing.T) {
	for _, p := range Profiles() {
		t.Run(p, func(t *testing.T) {
			c1, c2, c3 := &fakeClock{t0, time.Minute}, &fakeClock{t0, time.Minute}, &fakeClock{t0, time.Minute}
			a, _ := New(Options{Profile: p, Seed: 42, Now: c1.now})
			b, _ := New(Options{Profile: p, Seed: 42, Now: c2.now})
			c, _ := New(Options{Profile: p, Seed: 43, Now: c3.now})
			ra, rb, rc := readN(t, a, 5000), readN(t, b, 5000), readN(t, c, 5000)
			differs := false
			for i := range ra {
				for j := range ra[i] {
					if ra[i][j] != rb[i][j] {
						t.Fatalf("read %d: same seed gave %v and %v", i, ra[i][j], rb[i][j])
					}
					if ra[i][j] != rc[i][j] {
						differs = true
					}
				}
			}
			if !differs {
				t.Error("seeds 42 and 43 gave the same series")
			}
		})
	}
}

func TestSeedFromName(t *testing.T) {
	c1, c2 := &fakeClock{t0, time.Minute}, &fakeClock{t0, time.Minute}
	a, _ := New(Options{Profile: "weather", Name: "site-a", Now: c1.now})
	b, _ := New(Options{Profile: "weather", Name: "site-b", Now: c2.now})
	ra, rb := readN(t, a, 10), readN(t, b, 10)
	if ra[9][0] == rb[9][0] && ra[9][1] == rb[9][1] {
		t.Error("two devices without seeds produced the same values")
	}
}

// TestPlausible runs three simulated weeks at one read a minute and checks
// ranges, the daily cycle, drift and spikes.
func TestPlausible(t *testing.T) {
	type stats struct {
		n, sum, min, max float64
		byHour           [24]struct{ n, sum float64 }
	}
	for _, p := range []string{"weather", "air", "river"} {
		t.Run(p, func(t *testing.T) {
			clk := &fakeClock{t0, time.Minute}
			s, err := New(Options{Profile: p, Seed: 7, Now: clk.now})
			if err != nil {
				t.Fatal(err)
			}
			st := map[string]*stats{}
			chans, _ := profile(p)
			for i := 0; i < 21*24*60; i++ {
				at := clk.t.In(cet)
				ms, err := s.Read(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if len(ms) != len(chans) {
					t.Fatalf("got %d measurements, want %d", len(ms), len(chans))
				}
				for _, m := range ms {
					r := smartdeal.Reading{Site: "s", Device: "d", Quantity: m.Quantity, Unit: m.Unit, Time: at, Number: m.Value}
					if err := r.Validate(at); err != nil {
						t.Fatalf("invalid reading: %v", err)
					}
					x := st[m.Quantity]
					if x == nil {
						x = &stats{min: math.Inf(1), max: math.Inf(-1)}
						st[m.Quantity] = x
					}
					x.n++
					x.sum += m.Value
					x.min = math.Min(x.min, m.Value)
					x.max = math.Max(x.max, m.Value)
					x.byHour[at.Hour()].n++
					x.byHour[at.Hour()].sum += m.Value
				}
			}
			for _, c := range chans {
				x := st[c.quantity]
				mean := x.sum / x.n
				if math.Abs(mean-c.base) > math.Abs(c.amplitude)+3*c.driftSD {
					t.Errorf("%s: mean %.3f far from base %.3f", c.quantity, mean, c.base)
				}
				if x.min < c.min || x.max > c.max {
					t.Errorf("%s: range [%g, %g] outside [%g, %g]", c.quantity, x.min, x.max, c.min, c.max)
				}
				peak := x.byHour[int(c.peakHour)]
				trough := x.byHour[(int(c.peakHour)+12)%24]
				diff := peak.sum/peak.n - trough.sum/trough.n
				if c.amplitude != 0 && diff*c.amplitude <= 0 {
					t.Errorf("%s: no daily cycle: mean at %vh minus mean 12h later = %.3f (amplitude %g)", c.quantity, c.peakHour, diff, c.amplitude)
				}
				if c.spikeProb > 0 && x.max < mean+math.Abs(c.amplitude)+c.spike/2 {
					t.Errorf("%s: no spike in three weeks (max %.2f, mean %.2f)", c.quantity, x.max, mean)
				}
			}
		})
	}
}

func TestRain(t *testing.T) {
	clk := &fakeClock{t0, 10 * time.Minute}
	s, _ := New(Options{Profile: "rain", Seed: 3, Now: clk.now})
	var total float64
	var dry, wet int
	for i := 0; i < 90*24*6; i++ { // 90 days
		ms, err := s.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 1 || ms[0].Quantity != "rain" || ms[0].Unit != "mm" || ms[0].Value < 0 {
			t.Fatalf("bad rain reading %v", ms)
		}
		total += ms[0].Value
		if ms[0].Value == 0 {
			dry++
		} else {
			wet++
		}
	}
	// Mediterranean climate: a few hundred mm in three months, mostly dry.
	if total < 50 || total > 1500 || dry < 5*wet {
		t.Errorf("90 days: %.1f mm, %d dry reads, %d wet reads", total, dry, wet)
	}
}

func TestErrors(t *testing.T) {
	if _, err := New(Options{Profile: "ocean"}); err == nil {
		t.Error("unknown profile accepted")
	}
	s, _ := New(Options{Profile: "air"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled read: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}

func BenchmarkRead(b *testing.B) {
	for _, p := range Profiles() {
		b.Run(p, func(b *testing.B) {
			clk := &fakeClock{t0, time.Second}
			s, _ := New(Options{Profile: p, Seed: 1, Now: clk.now})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Read(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
