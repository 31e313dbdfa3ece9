package dronesim_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"

	"github.com/cd06/smartdeal/firmware-bridge/drone"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
)

func TestLawnMower(t *testing.T) {
	home := dronesim.Point{Lat: 43.0, Lon: 7.0}
	// a 400 m (east) × 200 m (north) rectangle north-east of home
	poly := []dronesim.Point{{Lat: 43.0, Lon: 7.0}, {Lat: 43.0, Lon: 7.0 + 400/81_432.0},
		{Lat: 43.0 + 200/111_320.0, Lon: 7.0 + 400/81_432.0}, {Lat: 43.0 + 200/111_320.0, Lon: 7.0}}
	path := dronesim.LawnMower(home, poly, 50)
	if len(path) != 8 { // lanes at 25, 75, 125, 175 m
		t.Fatalf("%d waypoints: %v", len(path), path)
	}
	for i, p := range path {
		lane := i / 2
		if math.Abs(p[1]-(25+50*float64(lane))) > 1 {
			t.Fatalf("waypoint %d at y=%.1f", i, p[1])
		}
		// lanes alternate west→east and east→west
		east := (i%2 == 1) == (lane%2 == 0)
		if east && math.Abs(p[0]-400) > 2 || !east && math.Abs(p[0]) > 2 {
			t.Fatalf("waypoint %d at x=%.1f", i, p[0])
		}
	}
	if dronesim.LawnMower(home, poly[:2], 50) != nil || dronesim.LawnMower(home, poly, 0) != nil {
		t.Fatal("degenerate input gave a path")
	}
}

func TestFlightPhases(t *testing.T) {
	start := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	sim, err := dronesim.NewSim(dronesim.Config{SystemID: 1, GPSNoise: -1, BatteryDrain: 3}, start)
	if err != nil {
		t.Fatal(err)
	}
	var phases []string
	var modes []uint32
	var texts []string
	last := dronesim.Phase(-1)
	maxDist := 0.0
	for tm := start; tm.Before(start.Add(time.Hour)) && sim.State().Phase != dronesim.PhaseDone; tm = tm.Add(100 * time.Millisecond) {
		sim.Step(tm)
		st := sim.State()
		if st.Phase != last {
			phases = append(phases, st.Phase.String())
			modes = append(modes, st.Mode)
			last = st.Phase
		}
		maxDist = math.Max(maxDist, math.Hypot(st.X, st.Y))
		for _, m := range sim.Messages() {
			if s, ok := m.(*ardupilotmega.MessageStatustext); ok {
				texts = append(texts, s.Text)
			}
		}
	}
	st := sim.State()
	if got := strings.Join(phases, ","); got != "ground,takeoff,survey,rtl,land,done" {
		t.Fatalf("phases %s", got)
	}
	if modes[1] != drone.CopterGuided || modes[2] != drone.CopterAuto || modes[3] != drone.CopterRTL || modes[4] != drone.CopterLand {
		t.Fatalf("modes %v", modes)
	}
	if st.Armed || st.RelAlt != 0 || math.Hypot(st.X, st.Y) > 0.1 || st.Battery >= 100 || st.Battery < 25 {
		t.Fatalf("end state %+v", st)
	}
	if st.Waypoint != st.Waypoints || maxDist < 200 {
		t.Fatalf("survey incomplete: waypoint %d/%d, max distance %.0f m", st.Waypoint, st.Waypoints, maxDist)
	}
	all := strings.Join(texts, "|")
	for _, want := range []string{"Arming motors", "Mission complete, RTL", "Land complete"} {
		if !strings.Contains(all, want) {
			t.Fatalf("statustexts %s: no %q", all, want)
		}
	}
}

func TestBatteryFailsafe(t *testing.T) {
	start := time.Now()
	sim, _ := dronesim.NewSim(dronesim.Config{SystemID: 2, BatteryStart: 40, BatteryDrain: 30}, start)
	sim.Step(start.Add(2 * time.Minute))
	if st := sim.State(); st.Phase < dronesim.PhaseRTL || st.Waypoint == st.Waypoints {
		t.Fatalf("no battery RTL: %+v", st)
	}
}

func TestStreamsAndSentinels(t *testing.T) {
	start := time.Now()
	sim, _ := dronesim.NewSim(dronesim.Config{SystemID: 3, WaitStreamRequest: true, NoBattery: true, NoGPS: true}, start)
	count := func(d time.Duration) map[uint32]int {
		n := map[uint32]int{}
		end := sim.State().Time.Add(d)
		for tm := sim.State().Time; tm.Before(end); tm = tm.Add(10 * time.Millisecond) {
			sim.Step(tm)
			for _, m := range sim.Messages() {
				n[m.GetID()]++
				switch m := m.(type) {
				case *ardupilotmega.MessageSysStatus:
					if m.VoltageBattery != math.MaxUint16 || m.CurrentBattery != -1 || m.BatteryRemaining != -1 {
						t.Fatalf("battery sentinels %+v", m)
					}
				case *ardupilotmega.MessageGpsRawInt:
					if m.FixType != 0 || m.SatellitesVisible != 255 {
						t.Fatalf("gps sentinels %+v", m)
					}
				}
			}
		}
		return n
	}
	if n := count(3 * time.Second); n[0] != 3 || n[33]+n[30]+n[1]+n[24] != 0 {
		t.Fatalf("before any request: %v (only heartbeats and statustexts)", n)
	}
	sim.SetMessageInterval(33, 200_000)
	sim.RequestDataStream(ardupilotmega.MAV_DATA_STREAM_EXTENDED_STATUS, 2, true)
	n := count(2 * time.Second)
	if n[33] < 9 || n[33] > 11 || n[1] < 3 || n[1] > 5 || n[30] != 0 {
		t.Fatalf("after requests: %v", n)
	}
	if sim.SetMessageInterval(9999, 1000) {
		t.Fatal("accepted an unknown message id")
	}
}

func TestConfigValidate(t *testing.T) {
	err := dronesim.Config{SystemID: 0, Version: 3, Polygon: []dronesim.Point{{Lat: 1, Lon: 1}}, Speed: -1, BatteryStart: 120}.Validate()
	for _, want := range []string{"system_id", "version", "polygon", "speed", "battery_start"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err %v: want %s named", err, want)
		}
	}
}
