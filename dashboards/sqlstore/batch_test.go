package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestBatchReads: the batch reads return the rows of the ids asked for
// (unknown ids left out, nothing for no ids), the same rows the one-row
// reads return, each in one statement whatever the number of ids
// (ProposalMissions in two), on SQLite and PostgreSQL.
func TestBatchReads(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) { testBatchReads(t, b.Store) })
	}
}

func testBatchReads(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	f := newFixture(t, s, 3)
	var ps []*civic.Proposal
	for range 4 {
		ps = append(ps, f.proposal(t, 10, "environnement-risques"))
	}
	f.move(t, ps[1].ID, f.admin, civic.StatusPublished)
	if _, _, err := s.Vote(ctx, ps[1].ID, f.citizens[1].ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSite(ctx, &civic.Site{ID: "var", Name: "Var", Location: civic.Point{Lat: 43.7, Lon: 7.2}}); err != nil {
		t.Fatal(err)
	}
	var devs []string
	for i := range 5 {
		d := &civic.Device{ID: fmt.Sprintf("d%d", i), SiteID: "var", Kind: civic.DeviceSensor, Model: "m",
			Quantities: []civic.DeviceQuantity{{Quantity: "water_level", Unit: "m"}}}
		if err := s.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		devs = append(devs, d.ID)
	}
	drone := &civic.Device{ID: "drone", SiteID: "var", Kind: civic.DeviceDrone, Model: "px4"}
	if err := s.CreateDevice(ctx, drone); err != nil {
		t.Fatal(err)
	}
	agent := &civic.User{Email: civic.NewID() + "@example.fr", Name: "Agent", Role: civic.RoleAgent, PasswordHash: "x"}
	if err := s.CreateUser(ctx, agent); err != nil {
		t.Fatal(err)
	}
	area := json.RawMessage(`{"type":"Polygon","coordinates":[[[7.2,43.6],[7.3,43.6],[7.3,43.7],[7.2,43.6]]]}`)
	mission := func(id string, proposals ...string) {
		m := &civic.Mission{ID: id, Title: "Relevé " + id, Kind: "flood_survey", Area: area, PlannedFrom: time.Now(), PlannedTo: time.Now().Add(time.Hour),
			AgentID: agent.ID, SiteID: "var", DroneID: "drone", ProposalIDs: proposals}
		if err := s.CreateMission(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	mission("m3", ps[0].ID, ps[1].ID)
	mission("m1", ps[0].ID)
	mission("m2", ps[2].ID)

	count := func(what string, want int64, fn func()) {
		before := s.Statements()
		fn()
		if got := s.Statements() - before; got != want {
			t.Errorf("%s: %d statements, want %d", what, got, want)
		}
	}
	ids := func(n int, id func(int) string) []string {
		var out []string
		for i := range n {
			out = append(out, id(i))
		}
		return out
	}

	t.Run("proposals", func(t *testing.T) {
		var got []*civic.Proposal
		var err error
		count("proposals", 1, func() { got, err = s.ProposalsByIDs(ctx, []string{ps[3].ID, ps[1].ID, "nope", ps[1].ID}) })
		if err != nil {
			t.Fatal(err)
		}
		want := []string{ps[1].ID, ps[3].ID}
		slices.Sort(want)
		if len(got) != 2 || got[0].ID != want[0] || got[1].ID != want[1] {
			t.Fatalf("proposals %v", got)
		}
		for _, p := range got {
			one, err := s.Proposal(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(*one) != fmt.Sprint(*p) {
				t.Errorf("by id %+v, alone %+v", *p, *one)
			}
			if p.ID == ps[1].ID && p.Votes != 1 {
				t.Errorf("votes %d", p.Votes)
			}
		}
	})
	t.Run("devices", func(t *testing.T) {
		var got []*civic.Device
		var err error
		count("devices", 1, func() { got, err = s.DevicesByIDs(ctx, append(devs, "ghost")) })
		if err != nil || len(got) != 5 {
			t.Fatalf("devices %v %v", got, err)
		}
		one, _ := s.Device(ctx, "d3")
		if got[3].ID != "d3" || fmt.Sprint(*got[3]) != fmt.Sprint(*one) || got[3].Quantities[0].Unit != "m" {
			t.Errorf("d3 %+v, alone %+v", *got[3], *one)
		}
	})
	count("users", 1, func() {
		got, err := s.UsersByIDs(ctx, []string{f.citizens[2].ID, f.admin.ID, "gone"})
		if err != nil || len(got) != 2 {
			t.Fatalf("users %v %v", got, err)
		}
		for _, u := range got {
			if u.ID != f.citizens[2].ID && u.ID != f.admin.ID || u.Name == "" {
				t.Errorf("user %+v", u)
			}
		}
	})
	count("no ids", 0, func() {
		p, err1 := s.ProposalsByIDs(ctx, nil)
		d, err2 := s.DevicesByIDs(ctx, []string{})
		u, err3 := s.UsersByIDs(ctx, nil)
		if err1 != nil || err2 != nil || err3 != nil || len(p)+len(d)+len(u) != 0 || p == nil || d == nil || u == nil {
			t.Fatalf("empty: %v %v %v %v %v %v", p, d, u, err1, err2, err3)
		}
	})
	// Many ids in one statement: the text does not grow with them.
	count("many ids", 1, func() {
		got, err := s.UsersByIDs(ctx, ids(2000, func(i int) string { return fmt.Sprintf("u%d", i) }))
		if err != nil || len(got) != 0 {
			t.Fatalf("%v %v", got, err)
		}
	})
	t.Run("proposal missions", func(t *testing.T) {
		var got []*civic.Mission
		var err error
		count("proposal missions", 2, func() { got, err = s.ProposalMissions(ctx, ps[0].ID) })
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != "m1" || got[1].ID != "m3" {
			t.Fatalf("missions %v", got)
		}
		for _, m := range got {
			one, err := s.Mission(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(*one) != fmt.Sprint(*m) {
				t.Errorf("with the proposal %+v, alone %+v", *m, *one)
			}
		}
		want := []string{ps[0].ID, ps[1].ID}
		slices.Sort(want)
		if !slices.Equal(got[1].ProposalIDs, want) {
			t.Errorf("m3 serves %v, want %v", got[1].ProposalIDs, want)
		}
	})
	count("no missions", 2, func() {
		got, err := s.ProposalMissions(ctx, ps[3].ID)
		if err != nil || got == nil || len(got) != 0 {
			t.Fatalf("%v %v", got, err)
		}
	})
}
