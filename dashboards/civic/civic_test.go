package civic_test

import (
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/civic"
)

func TestCheckTransition(t *testing.T) {
	for _, tc := range []struct {
		from, to civic.Status
		role     civic.Role
		want     string
	}{
		{civic.StatusSubmitted, civic.StatusPublished, civic.RoleAdmin, ""},
		{civic.StatusSubmitted, civic.StatusPublished, civic.RoleExpert, civic.EFORBIDDEN},
		{civic.StatusSubmitted, civic.StatusSelected, civic.RoleAdmin, civic.ECONFLICT},
		{civic.StatusUnderReview, civic.StatusSelected, civic.RoleExpert, ""},
		{civic.StatusUnderReview, civic.StatusSelected, civic.RoleCitizen, civic.EFORBIDDEN},
		{civic.StatusSelected, civic.StatusInProgress, civic.RoleAgent, ""},
		{civic.StatusRealized, civic.StatusSubmitted, civic.RoleAdmin, civic.ECONFLICT},
		{civic.StatusPublished, "bogus", civic.RoleAdmin, civic.EINVALID},
		{civic.StatusSubmitted, civic.StatusRefused, civic.RoleAdmin, ""},
		{civic.StatusPublished, civic.StatusRefused, civic.RoleAdmin, ""},
		{civic.StatusPublished, civic.StatusRefused, civic.RoleExpert, civic.EFORBIDDEN},
		{civic.StatusShortlisted, civic.StatusRefused, civic.RoleAdmin, civic.ECONFLICT},
		{civic.StatusRefused, civic.StatusPublished, civic.RoleAdmin, civic.ECONFLICT},
		{civic.StatusSubmitted, civic.StatusRejected, civic.RoleAdmin, civic.ECONFLICT}, // it published what moderation refused
		{civic.StatusUnderReview, civic.StatusRejected, civic.RoleExpert, ""},
	} {
		if got := civic.ErrorCode(civic.CheckTransition(tc.from, tc.to, tc.role)); got != tc.want {
			t.Errorf("%s -> %s by %s: %q, want %q", tc.from, tc.to, tc.role, got, tc.want)
		}
	}
}

// TestPublic: a moderation refusal hides, a committee rejection does not.
func TestPublic(t *testing.T) {
	for _, st := range civic.Statuses {
		want := st != civic.StatusSubmitted && st != civic.StatusRefused
		if st.Public() != want {
			t.Errorf("%s: Public() = %v", st, st.Public())
		}
	}
	if civic.Status("bogus").Public() || slices.Contains(civic.PublicStatuses(), civic.StatusRefused) || !slices.Contains(civic.PublicStatuses(), civic.StatusRejected) {
		t.Errorf("public statuses %v", civic.PublicStatuses())
	}
}

func TestValidatePolygon(t *testing.T) {
	ok := []string{
		`{"type":"Polygon","coordinates":[[[7.2,43.6],[7.3,43.6],[7.3,43.7],[7.2,43.6]]]}`,
		`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[7.2,43.6],[7.3,43.6],[7.3,43.7],[7.2,43.6]]]}}`,
	}
	bad := []string{
		``, `null`, `[]`, `"x"`,
		`{"type":"Point","coordinates":[7.2,43.6]}`,
		`{"type":"Polygon","coordinates":[]}`,
		`{"type":"Polygon","coordinates":[[[7.2,43.6],[7.3,43.6],[7.2,43.6]]]}`,
		`{"type":"Polygon","coordinates":[[[7.2,43.6],[7.3,43.6],[7.3,43.7],[7.2,43.65]]]}`,
		`{"type":"Polygon","coordinates":[[[7.2,93.6],[7.3,43.6],[7.3,43.7],[7.2,93.6]]]}`,
		`{"type":"Polygon","coordinates":[[[7.2,43.6],[7.3,43.6],[7.4,43.6],[7.2,43.6]]]}`,
		`{"type":"Polygon","coordinates":[[[7.2],[7.3,43.6],[7.3,43.7],[7.2]]]}`,
	}
	for _, s := range ok {
		if err := civic.ValidatePolygon(json.RawMessage(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range bad {
		if civic.ErrorCode(civic.ValidatePolygon(json.RawMessage(s))) != civic.EINVALID {
			t.Errorf("%s accepted", s)
		}
	}
}

func TestNewIDAndDistance(t *testing.T) {
	for range 100 {
		if id := civic.NewID(); !smartdeal.ValidID(id) || len(id) != 16 {
			t.Fatalf("NewID %q", id)
		}
	}
	// Nice to Cannes ≈ 26.6 km as the crow flies.
	d := civic.DistanceMeters(civic.Point{Lat: 43.7031, Lon: 7.2661}, civic.Point{Lat: 43.5513, Lon: 7.0128})
	if math.Abs(d-26600) > 600 {
		t.Fatalf("distance %v", d)
	}
}
