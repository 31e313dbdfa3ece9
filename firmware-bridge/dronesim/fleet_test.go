package dronesim_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/firmware-bridge/drone"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
)

// TestRepeat: with Repeat the vehicle lands, waits, gets a fresh battery and
// flies the whole survey again.
func TestRepeat(t *testing.T) {
	start := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	sim, err := dronesim.NewSim(dronesim.Config{SystemID: 1, GPSNoise: -1, Speed: 30, Repeat: time.Minute}, start)
	if err != nil {
		t.Fatal(err)
	}
	var phases []string
	last := dronesim.Phase(-1)
	var landed time.Time
	for tm := start; tm.Before(start.Add(2*time.Hour)) && sim.State().Flights < 2; tm = tm.Add(100 * time.Millisecond) {
		sim.Step(tm)
		st := sim.State()
		if st.Phase != last {
			phases = append(phases, st.Phase.String())
			last = st.Phase
			switch st.Phase {
			case dronesim.PhaseDone:
				if st.Flights == 1 {
					landed = st.Time
				}
			case dronesim.PhaseGround:
				if st.Flights == 1 {
					if d := st.Time.Sub(landed); d < time.Minute || d > time.Minute+time.Second {
						t.Errorf("on the ground %v, want 1m", d)
					}
					if st.Battery != 100 || st.Waypoint != 0 || st.Mode != drone.CopterStabilize || st.Armed {
						t.Errorf("restart state %+v", st)
					}
				}
			}
		}
	}
	want := "ground,takeoff,survey,rtl,land,done,ground,takeoff,survey,rtl,land,done"
	if got := strings.Join(phases, ","); got != want || sim.State().Flights != 2 {
		t.Fatalf("phases %s (%d flights), want %s", got, sim.State().Flights, want)
	}
	if err := (dronesim.Config{SystemID: 1, Repeat: -time.Second}).Validate(); err == nil || !strings.Contains(err.Error(), "repeat") {
		t.Fatalf("negative repeat: %v", err)
	}
}

func TestFleetConfigs(t *testing.T) {
	cfgs, err := dronesim.Fleet{N: 3, FirstID: 10, Vehicle: dronesim.Config{Speed: 20, Seed: 5}}.Configs()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) != 3 {
		t.Fatalf("%d configs", len(cfgs))
	}
	for i, c := range cfgs {
		if c.SystemID != uint8(10+i) || c.Speed != 20 || c.Seed != uint64(5+i) {
			t.Errorf("vehicle %d: %+v", i, c)
		}
		north := (c.Home.Lat - dronesim.DefaultHome.Lat) * 111_320
		if d := north - 500*float64(i); d < -1 || d > 1 || c.Home.Lon != dronesim.DefaultHome.Lon {
			t.Errorf("vehicle %d: home %+v, %.1f m north", i, c.Home, north)
		}
		if c.Polygon[0].Lat-dronesim.DefaultPolygon[0].Lat != c.Home.Lat-dronesim.DefaultHome.Lat {
			t.Errorf("vehicle %d: polygon not shifted with home", i)
		}
	}
	if cfgs[0].Polygon[0] != dronesim.DefaultPolygon[0] {
		t.Error("template polygon changed")
	}
	one, err := dronesim.Fleet{}.Configs()
	if err != nil || len(one) != 1 || one[0].SystemID != 1 {
		t.Fatalf("zero fleet: %v %+v", err, one)
	}
	for _, f := range []dronesim.Fleet{
		{N: 10, FirstID: 250}, {N: -1}, {Vehicle: dronesim.Config{Version: 3}},
		{Vehicle: dronesim.Config{Polygon: []dronesim.Point{{Lat: 43, Lon: 7}}}},
	} {
		if _, err := f.Configs(); err == nil {
			t.Errorf("%+v: no error", f)
		}
		if err := f.Run(context.Background()); err == nil {
			t.Errorf("%+v: Run without error", f)
		}
	}
	if err := (dronesim.Fleet{Endpoint: "pigeon:x"}).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "endpoint") {
		t.Errorf("bad endpoint: %v", err)
	}
	// a fleet flies until ctx ends (to a port nobody listens on: UDP does not mind)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := (dronesim.Fleet{N: 2, Endpoint: "udp-client:127.0.0.1:9"}).Run(ctx); err != nil {
		t.Errorf("Run: %v", err)
	}
	var buf bytes.Buffer
	n, err := dronesim.Fleet{N: 2}.WriteTlog(&buf, time.Now().Add(-time.Hour), time.Minute)
	if err != nil || n == 0 || buf.Len() == 0 {
		t.Errorf("WriteTlog: %d entries, %d bytes, %v", n, buf.Len(), err)
	}
}
