package civic_test

import (
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// TestFlightWindow: a mission's flight window (its track and the flight
// logs it takes) starts at the earlier of its start and its planned start
// and ends at its end, else now, a minute either side; a planned mission
// has none.
func TestFlightWindow(t *testing.T) {
	t0 := time.Date(2026, 7, 14, 9, 0, 0, 0, time.UTC)
	at := func(m int) *time.Time { v := t0.Add(time.Duration(m) * time.Minute); return &v }
	now := t0.Add(3 * time.Hour)
	for _, c := range []struct {
		name        string
		m           civic.Mission
		start, stop time.Time
		ok          bool
	}{
		{"planned", civic.Mission{Status: civic.MissionPlanned, PlannedFrom: t0, PlannedTo: t0.Add(time.Hour)}, time.Time{}, time.Time{}, false},
		{"started late, active", civic.Mission{Status: civic.MissionActive, PlannedFrom: t0, Started: at(30)}, t0.Add(-time.Minute), now.Add(time.Minute), true},
		{"started early, completed", civic.Mission{Status: civic.MissionCompleted, PlannedFrom: t0, Started: at(-20), Ended: at(40)},
			t0.Add(-21 * time.Minute), t0.Add(41 * time.Minute), true},
		{"ended before its planned start", civic.Mission{Status: civic.MissionAborted, PlannedFrom: t0, Started: at(10), Ended: at(-5)}, time.Time{}, time.Time{}, false},
	} {
		start, stop, ok := c.m.FlightWindow(now)
		if ok != c.ok || ok && (!start.Equal(c.start) || !stop.Equal(c.stop)) {
			t.Errorf("%s: %v %v %v, want %v %v %v", c.name, start, stop, ok, c.start, c.stop, c.ok)
		}
	}
}
