package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// BenchmarkMapPage measures GET /carte over HTTP, the page and its data in
// one response (the map document is embedded, the list alternative
// rendered): 500 sensors (50 sites of 10, two quantities each, 1,000
// latest values), 200 located public proposals and 20 flown missions of
// 600 fixes each, on SQLite and a local InfluxDB 1.8 without the
// measurements cache. Reports p50 and p95 latency and the page's size.
func BenchmarkMapPage(b *testing.B) {
	in := testenv.SharedInflux(b)
	db := in.NewDatabase(b)
	meas, err := measure.New(measure.Config{URL: in.URL, Bucket: db + "/autogen"}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(meas.Close)
	e := newEnv(b, sqltest.SQLite(b), meas, api.Config{PublicReadLimit: -1})
	ctx := context.Background()
	admin, _ := e.user(civic.RoleAdmin)
	author, _ := e.user(civic.RoleCitizen)
	agent, _ := e.user(civic.RoleAgent)
	now := time.Now().UTC()
	var lines []string
	for s := range 50 {
		site := fmt.Sprintf("site-%d", s)
		if err := e.st.CreateSite(ctx, &civic.Site{ID: site, Name: "Site " + site, Location: civic.Point{Lat: 43.6 + float64(s%40)/100, Lon: 7.0 + float64(s%30)/100}}); err != nil {
			b.Fatal(err)
		}
		for i := range 10 {
			dev := fmt.Sprintf("%s-capteur-%d", site, i)
			var qs []civic.DeviceQuantity
			for _, q := range []string{"pm2_5", "no2"} {
				qs = append(qs, civic.DeviceQuantity{Quantity: q, Unit: "ug/m3"})
				lines = append(lines, fmt.Sprintf("telemetry,site=%s,device=%s,quantity=%s,unit=ug/m3 value=%d %d", site, dev, q, i%5, now.Add(-5*time.Minute).Unix()))
			}
			if err := e.st.CreateDevice(ctx, &civic.Device{ID: dev, SiteID: site, Kind: civic.DeviceSensor, Model: "sim", Quantities: qs}); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range 200 {
		p := &civic.Proposal{CampaignID: e.campaign, ThemeID: civic.SeedThemes[i%5].ID, AuthorID: author.ID, Title: fmt.Sprintf("Idée %d", i), Body: "Sur la carte.",
			Location: &civic.Point{Lat: 43.5 + float64(i%40)/50, Lon: 6.9 + float64(i/40)/10}}
		if err := e.st.CreateProposal(ctx, p); err != nil {
			b.Fatal(err)
		}
		if _, err := e.st.SetStatus(ctx, p.ID, civic.StatusPublished, admin, "", now); err != nil {
			b.Fatal(err)
		}
	}
	if err := e.st.CreateSite(ctx, &civic.Site{ID: "var", Name: "Var", Location: civic.Point{Lat: 43.66, Lon: 7.2}}); err != nil {
		b.Fatal(err)
	}
	if err := e.st.CreateDevice(ctx, &civic.Device{ID: "drone", SiteID: "var", Kind: civic.DeviceDrone, Model: "quad"}); err != nil {
		b.Fatal(err)
	}
	for range 20 {
		m := &civic.Mission{Title: "Relevé du littoral", Kind: "coastline",
			Area:        json.RawMessage(`{"type":"Polygon","coordinates":[[[7.2,43.6],[7.3,43.6],[7.3,43.7],[7.2,43.6]]]}`),
			PlannedFrom: now.Add(-time.Hour), PlannedTo: now.Add(time.Hour), AgentID: agent.ID, SiteID: "var", DroneID: "drone", ProposalIDs: []string{}}
		if err := e.st.CreateMission(ctx, m); err != nil {
			b.Fatal(err)
		}
		start := now.Add(-30 * time.Minute).Truncate(time.Second)
		if _, err := e.st.SetMissionStatus(ctx, m.ID, civic.MissionActive, agent.ID, start); err != nil {
			b.Fatal(err)
		}
		if _, err := e.st.SetMissionStatus(ctx, m.ID, civic.MissionCompleted, agent.ID, start.Add(600*time.Second)); err != nil {
			b.Fatal(err)
		}
		for k := range 600 { // zigzagging 50 m: simplification keeps every fix
			at := start.Add(time.Duration(k) * time.Second).Unix()
			lines = append(lines,
				fmt.Sprintf("telemetry,site=var,device=drone,quantity=latitude,unit=lat,mission=%s value=%g %d", m.ID, 43.65+float64(k)/10000+float64(k%2)*0.0005, at),
				fmt.Sprintf("telemetry,site=var,device=drone,quantity=longitude,unit=lon,mission=%s value=%g %d", m.ID, 7.2+float64(k)/10000, at))
		}
	}
	writeLP(b, in.URL, db+"/autogen", lines)
	url := serve(b, e) + "/carte"
	var size int
	get := func() time.Duration {
		start := time.Now()
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != 200 {
			b.Fatalf("%d %.300s", resp.StatusCode, body)
		}
		shown, _ := shownItems(string(body))
		if fmt.Sprint(shown) != "map[missions:20 proposals:200 sensors:500]" || strings.Contains(string(body), `id="carte-partielle"`) {
			b.Fatalf("list %v (or partial)", shown)
		}
		size = len(body)
		return d
	}
	get() // warm up
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		lat = append(lat, get())
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*95)/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(size), "page-bytes")
}
