package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/cmd/internal/boot"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// testFleet is what the default all-in-one simulates.
func testFleet(t *testing.T) []demoSite {
	t.Helper()
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	p := &platform{cfg: cfg, brokerURL: "tcp://127.0.0.1:1"}
	fleet, err := demoFleet(context.Background(), p.gatewayConfigs(), cfg.Sim.Drones)
	if err != nil {
		t.Fatal(err)
	}
	return fleet
}

// TestDemoFleet checks that the registry gets the devices the simulators
// publish under: unique ids, the simulators' quantities and units.
func TestDemoFleet(t *testing.T) {
	fleet := testFleet(t)
	ids := map[string]bool{}
	quantities := map[string]string{}
	for _, s := range fleet {
		for _, d := range s.Devices {
			if ids[d.ID] {
				t.Errorf("device %s twice: registry ids are global", d.ID)
			}
			ids[d.ID] = true
			var qs []string
			for _, q := range d.Quantities {
				qs = append(qs, q.Quantity+"/"+q.Unit)
			}
			quantities[d.ID] = strings.Join(qs, " ")
		}
	}
	for id, want := range map[string]string{
		"nice-port-gateway":          "",
		"nice-port-weather-1":        "temperature/Cel relative_humidity/%RH pressure/Pa",
		"nice-port-air-1":            "pm2_5/ug/m3 pm10/ug/m3 no2/ug/m3 o3/ug/m3",
		"breil-sur-roya-river-1":     "water_level/m temperature/Cel",
		"cannes-croisette-rain-1":    "rain/mm",
		"nice-port-atmosud":          "no2/ug/m3 nox/ug/m3 o3/ug/m3 pm10/ug/m3 pm2_5/ug/m3",
		"cannes-croisette-atmosud":   "no2/ug/m3 nox/ug/m3 o3/ug/m3 pm10/ug/m3",
		"breil-sur-roya-atmosud":     "pm10/ug/m3",
		"mavbridge":                  "",
		"drone-2":                    quantities["drone-1"],
		"cannes-croisette-gateway":   "",
		"breil-sur-roya-weather-1":   "temperature/Cel relative_humidity/%RH pressure/Pa",
		"cannes-croisette-river-1":   "water_level/m temperature/Cel",
		"cannes-croisette-air-1":     "pm2_5/ug/m3 pm10/ug/m3 no2/ug/m3 o3/ug/m3",
		"cannes-croisette-weather-1": "temperature/Cel relative_humidity/%RH pressure/Pa",
	} {
		got, ok := quantities[id]
		if !ok {
			t.Errorf("no device %s", id)
		} else if got != want {
			t.Errorf("%s: quantities %q, want %q", id, got, want)
		}
	}
	if !strings.Contains(quantities["drone-1"], "relative_altitude/m") || !strings.Contains(quantities["drone-1"], "battery_remaining/%EL") {
		t.Errorf("drone-1: quantities %q", quantities["drone-1"])
	}
	if n := len(ids); n != 3*6+3 {
		t.Errorf("%d devices, want 21", n)
	}
}

// TestDemoSeed seeds a real store (SQLite and PostgreSQL) as the all-in-one
// does after apid's bootstrap, checks what the API will show, then seeds again:
// nothing more.
func TestDemoSeed(t *testing.T) {
	fleet := testFleet(t)
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st := b.Store
			admin := &civic.User{Email: "admin@smartdeal.localhost", Name: "Administrator", Role: civic.RoleAdmin}
			if err := st.CreateUser(ctx, admin); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			o := demoOptions{AdminEmail: admin.Email, Now: now, Survey: droneSurvey}
			sum, err := seedDemo(ctx, st, fleet, o)
			if err != nil {
				t.Fatal(err)
			}
			want := demoSummary{Sites: 3, Devices: 21, Proposals: 6, Shortlisted: 2, Links: 14 + 2, Missions: 1, Campaign: sum.Campaign}
			if sum != want {
				t.Errorf("summary %+v, want %+v", sum, want)
			}

			c, err := st.Campaign(ctx, sum.Campaign)
			if err != nil {
				t.Fatal(err)
			}
			if c.BudgetEUR != 1_000_000 || !c.Open(now) || c.Kind != civic.CampaignIdeas {
				t.Errorf("campaign %+v", c)
			}
			sites, _ := st.Sites(ctx)
			for _, s := range sites {
				if d := civic.DistanceMeters(s.Location, civic.Point{Lat: 43.70, Lon: 7.27}); d > 60_000 {
					t.Errorf("site %s is %.0f km from Nice", s.ID, d/1000)
				}
			}
			registered := map[demoSeries]bool{}
			ds, _ := st.Devices(ctx, "")
			for _, d := range ds {
				for _, q := range d.Quantities {
					registered[demoSeries{d.SiteID, d.ID, q.Quantity}] = true
				}
			}
			ps, err := st.Proposals(ctx, civic.ProposalFilter{CampaignID: sum.Campaign})
			if err != nil {
				t.Fatal(err)
			}
			citizen, err := st.UserByEmail(ctx, demoCitizenEmail)
			if err != nil || citizen.Role != civic.RoleCitizen || citizen.PasswordHash == "" {
				t.Fatalf("demo citizen %+v, %v", citizen, err)
			}
			themes := map[string]bool{}
			statuses := map[civic.Status]int{}
			for _, p := range ps {
				themes[p.ThemeID] = true
				statuses[p.Status]++
				if p.AuthorID != citizen.ID || p.Location == nil || p.EstimatedCostEUR <= 0 {
					t.Errorf("proposal %q: author %s, location %v, cost %d", p.Title, p.AuthorID, p.Location, p.EstimatedCostEUR)
				}
				links, _ := st.Links(ctx, civic.LinkFilter{ProposalID: p.ID})
				if len(links) < 1 || len(links) > 3 {
					t.Errorf("proposal %q: %d links", p.Title, len(links))
				}
				for _, l := range links {
					if !registered[demoSeries{l.SiteID, l.DeviceID, l.Quantity}] {
						t.Errorf("proposal %q links %s/%s/%s, not a registered series", p.Title, l.SiteID, l.DeviceID, l.Quantity)
					}
				}
			}
			if len(themes) != 5 {
				t.Errorf("themes %v, want all five", themes)
			}
			if statuses[civic.StatusPublished] != 4 || statuses[civic.StatusShortlisted] != 2 {
				t.Errorf("statuses %v", statuses)
			}

			ms, _ := st.Missions(ctx)
			if len(ms) != 1 {
				t.Fatalf("%d missions", len(ms))
			}
			m, err := st.Mission(ctx, ms[0].ID) // with its proposals
			if err != nil {
				t.Fatal(err)
			}
			if m.Status != civic.MissionPlanned || m.Kind != "coastline" || m.SiteID != "nice-port" || m.DroneID != "drone-1" ||
				len(m.ProposalIDs) != 1 || !m.PlannedFrom.After(now) {
				t.Errorf("mission %+v", m)
			}
			agent, err := st.UserByEmail(ctx, demoAgentEmail)
			if err != nil || agent.Role != civic.RoleAgent || m.AgentID != agent.ID {
				t.Errorf("mission agent %s, demo agent %+v (%v)", m.AgentID, agent, err)
			}
			if ml, _ := st.Links(ctx, civic.LinkFilter{MissionID: m.ID}); len(ml) != 2 {
				t.Errorf("mission links %d", len(ml))
			}

			log, _ := st.AuditLog(ctx, 500)
			actions := map[string]int{}
			for _, e := range log {
				if e.Detail == "demo" && e.Actor == admin.ID {
					actions[e.Action]++
				}
			}
			if actions["site.create"] != 3 || actions["device.create"] != 21 || actions["mission.create"] != 1 {
				t.Errorf("audit %v", actions)
			}

			// Second start, same database: nothing more.
			if _, err := seedDemo(ctx, st, fleet, o); !errors.Is(err, errDemoNotEmpty) {
				t.Fatalf("second seed: %v", err)
			}
			ps2, _ := st.Proposals(ctx, civic.ProposalFilter{})
			sites2, _ := st.Sites(ctx)
			ms2, _ := st.Missions(ctx)
			if len(ps2) != 6 || len(sites2) != 3 || len(ms2) != 1 {
				t.Errorf("after a second seed: %d proposals, %d sites, %d missions", len(ps2), len(sites2), len(ms2))
			}
		})
	}
}

// TestDemoSeedKeepsCampaign reuses the running campaign (apid's bootstrap
// creates one) and seeds only what the fleet can back: without drones, no
// mission and no drone link.
func TestDemoSeedKeepsCampaign(t *testing.T) {
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	p := &platform{cfg: cfg}
	fleet, err := demoFleet(context.Background(), p.gatewayConfigs(), 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st := sqltest.SQLite(t).Store
	admin := &civic.User{Email: "root@example.fr", Name: "Admin", Role: civic.RoleAdmin}
	if err := st.CreateUser(ctx, admin); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := &civic.Campaign{ID: "budget-participatif", Name: "Budget participatif", Starts: now.Add(-time.Hour), Ends: now.Add(time.Hour)}
	if err := st.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	sum, err := seedDemo(ctx, st, fleet, demoOptions{AdminEmail: admin.Email, Now: now, Survey: droneSurvey})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Campaign != c.ID || sum.Missions != 0 || sum.Proposals != 6 || sum.Devices != 18 || sum.Links != 13 {
		t.Errorf("summary %+v", sum)
	}
	cs, _ := st.Campaigns(ctx)
	if len(cs) != 1 {
		t.Errorf("%d campaigns", len(cs))
	}
	// No administrator: nothing seeded, and the reason says which key.
	st2 := sqltest.SQLite(t).Store
	if _, err := seedDemo(ctx, st2, fleet, demoOptions{Now: now}); err == nil || !strings.Contains(err.Error(), "api.admin_email") {
		t.Errorf("seed without an administrator: %v", err)
	}
	if sites, _ := st2.Sites(ctx); len(sites) != 0 {
		t.Errorf("%d sites seeded without an administrator", len(sites))
	}
}

// TestDemoFlag: demo data is on by default and SMARTDEAL_API_DEMO=false turns it off.
func TestDemoFlag(t *testing.T) {
	for env, want := range map[string]bool{"": true, "false": false, "true": true} {
		cfg := defaultConfig()
		getenv := func(k string) string {
			if k == "SMARTDEAL_API_DEMO" {
				return env
			}
			return ""
		}
		if err := boot.Load(&cfg, "", getenv); err != nil {
			t.Fatal(err)
		}
		if cfg.API.Demo != want {
			t.Errorf("SMARTDEAL_API_DEMO=%q: api.demo %v", env, cfg.API.Demo)
		}
	}
}

// TestLongSimSite: a simulated site's id prefixes its device ids (≤ 63 characters).
func TestLongSimSite(t *testing.T) {
	cfg := defaultConfig()
	cfg.Sim.Sites = []string{strings.Repeat("a", maxSimSite+1)}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "sim.sites[0]") {
		t.Errorf("site of %d characters: %v", maxSimSite+1, err)
	}
}
