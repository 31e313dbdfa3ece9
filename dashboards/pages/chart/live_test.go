package chart

import (
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/series"
)

// TestLiveLine: the words of the "Dernière valeur" line (the script writes
// the same for live events): the clock alone the same Paris day, the date
// otherwise, across midnight in Paris rather than UTC; the registry's unit
// first, the stored one otherwise; nothing without a reading.
func TestLiveLine(t *testing.T) {
	now := time.Date(2026, 11, 27, 19, 30, 0, 0, time.UTC) // 20 h 30 in Paris
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 11, 27, 19, 5, 0, 0, time.UTC), "à 20\u00a0h\u00a005"},
		{time.Date(2026, 11, 26, 23, 10, 0, 0, time.UTC), "à 0\u00a0h\u00a010"}, // UTC yesterday, Paris today
		{time.Date(2026, 11, 26, 22, 50, 0, 0, time.UTC), "le 26\u00a0novembre 2026 à 23\u00a0h\u00a050"},
		{time.Date(2026, 7, 1, 10, 5, 0, 0, time.UTC), "le 1er\u00a0juillet 2026 à 12\u00a0h\u00a005"},
	} {
		if got := frWhen(tc.at, now); got != tc.want {
			t.Errorf("frWhen(%s) = %q, want %q", tc.at, got, tc.want)
		}
	}
	key := series.SeriesKey{Site: "nice-centre", Device: "aq-1", Quantity: "pm2_5"}
	l := &series.Latest{Series: smartdeal.Series{Unit: "ug/m3"}, Time: time.Date(2026, 11, 27, 19, 5, 0, 0, time.UTC), Value: 12.4}
	v := BuildLive(key, "", l, now)
	if v.Key != "nice-centre/aq-1/pm2_5" || v.Unit != "µg/m³" || v.Value != "12,4\u00a0µg/m³" || v.When != "à 20\u00a0h\u00a005" || v.ISO != "2026-11-27T19:05:00Z" {
		t.Errorf("stored unit: %+v", v)
	}
	if v := BuildLive(key, "ppm", l, now); v.Unit != "ppm" || v.Value != "12,4\u00a0ppm" {
		t.Errorf("registry unit: %+v", v)
	}
	if v := BuildLive(key, "µg/m³", nil, now); v.Value != "" || v.When != "" || v.ISO != "" || v.Key != "nice-centre/aq-1/pm2_5" || v.Unit != "µg/m³" {
		t.Errorf("no reading: %+v", v)
	}
}
