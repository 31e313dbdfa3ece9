package fr

import (
	"testing"
	"time"
)

// TestPagesShowParisTime: the pages write instants in Paris time, summer
// (UTC+2) and winter (UTC+1) alike, whatever the server's zone.
func TestPagesShowParisTime(t *testing.T) {
	summer := time.Date(2026, 7, 1, 10, 5, 0, 0, time.UTC)
	winter := time.Date(2026, 1, 15, 23, 30, 0, 0, time.UTC)
	for _, tc := range []struct{ got, want string }{
		{Time(summer), "01/07/2026 12:05"},
		{Time(winter), "16/01/2026 00:30"},
		{Date(summer), "1er\u00a0juillet 2026 à 12\u00a0h\u00a005"},
		{Date(winter), "16\u00a0janvier 2026 à 0\u00a0h\u00a030"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestDay(t *testing.T) {
	for in, want := range map[string]string{"2026-12-01": "1er\u00a0décembre 2026", "2026-11-30": "30\u00a0novembre 2026"} {
		d, err := time.Parse(time.DateOnly, in)
		if err != nil {
			t.Fatal(err)
		}
		if got := Day(d); got != want {
			t.Errorf("Day(%s) = %q, want %q", in, got, want)
		}
	}
}
