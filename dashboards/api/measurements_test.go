package api_test

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/senml"
)

func writeLP(t testing.TB, url, bucket string, lines []string) {
	t.Helper()
	for len(lines) > 0 {
		n := min(len(lines), 5000)
		resp, err := http.Post(url+"/api/v2/write?bucket="+bucket+"&precision=s", "text/plain", strings.NewReader(strings.Join(lines[:n], "\n")))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("write: %s %s", resp.Status, b)
		}
		lines = lines[n:]
	}
}

// TestMeasurementEndpoints runs the measurement routes against a real InfluxDB
// holding known data.
func TestMeasurementEndpoints(t *testing.T) {
	meas, in, db := freshInflux(t)
	e := newEnv(t, sqltest.SQLite(t), meas, api.Config{})
	agentID, agent := e.field()
	now := time.Now().UTC()
	t0 := now.Truncate(time.Hour).Add(-2 * time.Hour)
	var lines []string
	// water_level of level-1: value i every minute for an hour (i = 0..59).
	for i := range 60 {
		lines = append(lines, fmt.Sprintf("telemetry,site=var-estuaire,device=level-1,quantity=water_level,unit=m value=%d %d", i, t0.Add(time.Duration(i)*time.Minute).Unix()))
	}
	writeLP(t, in.URL, db+"/autogen", lines)

	var rs series.SeriesData
	q := fmt.Sprintf("?start=%s&stop=%s", t0.Format(time.RFC3339), t0.Add(time.Hour).Format(time.RFC3339))
	e.call("GET", "/api/v1/series/var-estuaire/level-1/water_level"+q+"&agg=max&every=30m", "", nil, 200, &rs)
	if len(rs.Points) != 2 || rs.Points[0].Value != 29 || rs.Points[1].Value != 59 {
		t.Fatalf("max per 30m: %+v", rs.Points)
	}
	e.call("GET", "/api/v1/series/var-estuaire/level-1/water_level"+q+"&points=4", "", nil, 200, &rs)
	if rs.Every != "20m0s" || len(rs.Points) != 3 || rs.Points[0].Value != 9.5 || rs.Points[2].Value != 49.5 {
		t.Fatalf("downsampled mean: %s %+v", rs.Every, rs.Points)
	}
	var latest []series.Latest
	e.call("GET", "/api/v1/sites/var-estuaire/latest", "", nil, 200, &latest)
	if len(latest) != 1 || latest[0].Value != 59 || latest[0].Unit != "m" {
		t.Fatalf("latest %+v", latest)
	}
	e.call("GET", "/api/v1/series?device=level-1", "", nil, 200, &latest)
	if len(latest) != 1 || latest[0].Quantity != "water_level" {
		t.Fatalf("series %+v", latest)
	}
	// Open data CSV of the series.
	resp, body := e.do("GET", "/opendata/series/var-estuaire/level-1/water_level.csv"+q+"&agg=min&every=30m", "", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", resp.StatusCode, body)
	}
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][6] != "0" || recs[2][6] != "30" || recs[0][7] != "licence" || !strings.Contains(recs[1][7], "Licence Ouverte") {
		t.Fatalf("csv rows %v %v", recs, err)
	}

	// A proposal page: linked series over the last 7 days, downsampled.
	_, citizen := e.user(civic.RoleCitizen)
	p := e.idea(citizen, 10, true)
	e.call("POST", "/api/v1/links", e.admin, map[string]any{"proposal_id": p.ID, "site_id": "var-estuaire", "device_id": "level-1", "quantity": "water_level"}, 201, nil)
	var page struct {
		Votes  int                  `json:"votes"`
		Series []*series.SeriesData `json:"series"`
	}
	e.call("GET", "/api/v1/ideas/"+p.ID+"/page?points=3", "", nil, 200, &page)
	if len(page.Series) != 1 || len(page.Series[0].Points) == 0 || len(page.Series[0].Points) > 3 {
		t.Fatalf("page series %+v", page.Series)
	}
	var near []map[string]any
	e.call("GET", "/api/v1/ideas/"+p.ID+"/nearby?radius_m=10000", "", nil, 200, &near)
	if len(near) != 1 || near[0]["id"] != "level-1" {
		t.Fatalf("nearby %v", near)
	}
	e.call("GET", "/api/v1/ideas/"+p.ID+"/nearby?radius_m=100", "", nil, 200, &near)
	if len(near) != 0 {
		t.Fatalf("nearby within 100 m: %v", near)
	}

	// A mission's track: fly, write the drone's fixes tagged with the mission, land.
	m := mission(agentID, square(7.2, 43.65))
	m["id"] = "crue-var-1"
	e.call("POST", "/api/v1/missions", e.admin, m, 201, nil)
	e.call("POST", "/api/v1/missions/crue-var-1/status", agent, map[string]any{"status": "active"}, 200, nil)
	ts := time.Now().Unix()
	lines = nil
	for i, f := range [][4]float64{{43.650, 7.2, 10, 95}, {43.651, 7.2, 50, 93}, {43.652, 7.2, 30, 90}} {
		for j, q := range []string{"latitude", "longitude", "relative_altitude", "battery_remaining"} {
			lines = append(lines, fmt.Sprintf("telemetry,site=var-estuaire,device=drone-1,quantity=%s,mission=crue-var-1 value=%g %d", q, f[j], ts+int64(i)))
		}
	}
	writeLP(t, in.URL, db+"/autogen", lines)
	e.call("POST", "/api/v1/missions/crue-var-1/status", agent, map[string]any{"status": "completed"}, 200, nil)
	var tr series.Track
	e.call("GET", "/api/v1/missions/crue-var-1/track", "", nil, 200, &tr)
	if len(tr.Points) != 3 || tr.MaxAltitudeM == nil || *tr.MaxAltitudeM != 50 || *tr.BatteryUsedPct != 5 || tr.DistanceM < 220 || tr.DistanceM > 225 {
		t.Fatalf("track %+v", tr)
	}
	var gj struct {
		Type     string `json:"type"`
		Geometry struct {
			Type        string      `json:"type"`
			Coordinates [][]float64 `json:"coordinates"`
		} `json:"geometry"`
	}
	e.call("GET", "/api/v1/missions/crue-var-1/track?format=geojson", "", nil, 200, &gj)
	if gj.Geometry.Type != "LineString" || len(gj.Geometry.Coordinates) != 3 || gj.Geometry.Coordinates[0][0] != 7.2 {
		t.Fatalf("geojson track %+v", gj)
	}

	// Ready with both backends up; 503 problem when InfluxDB is unreachable.
	e.call("GET", "/readyz", "", nil, 200, nil)
	off := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	off.problem("GET", "/readyz", "", nil, 503)
	off.problem("GET", "/api/v1/series/s1/d1/q"+q, "", nil, 503)
}

// TestOpenData checks the proposals exports and the sites GeoJSON.
func TestOpenData(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{Licence: "ODbL 1.0"})
	e.field()
	_, citizen := e.user(civic.RoleCitizen)
	e.idea(citizen, 10, true)
	e.idea(citizen, 20, false) // submitted: not open data
	var od struct {
		Licence   string           `json:"licence"`
		Proposals []map[string]any `json:"proposals"`
	}
	e.call("GET", "/opendata/proposals.json", "", nil, 200, &od)
	if od.Licence != "ODbL 1.0" || len(od.Proposals) != 1 || od.Proposals[0]["author_id"] != nil {
		t.Fatalf("open proposals %+v", od)
	}
	resp, body := e.do("GET", "/opendata/proposals.csv", "", nil)
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if resp.StatusCode != 200 || err != nil || len(recs) != 2 || recs[1][11] != "ODbL 1.0" {
		t.Fatalf("csv %d %v %v", resp.StatusCode, recs, err)
	}
	var fc struct {
		Type     string `json:"type"`
		Licence  string `json:"licence"`
		Features []struct {
			Geometry struct {
				Coordinates []float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties struct {
				Devices []map[string]any `json:"devices"`
			} `json:"properties"`
		} `json:"features"`
	}
	e.call("GET", "/opendata/sites.geojson", "", nil, 200, &fc)
	if fc.Type != "FeatureCollection" || fc.Licence != "ODbL 1.0" || len(fc.Features) != 1 ||
		fc.Features[0].Geometry.Coordinates[0] != 7.2 || len(fc.Features[0].Properties.Devices) != 2 {
		t.Fatalf("geojson %+v", fc)
	}
}

// TestLiveFeed: readings handed to the hub (as the MQTT subscription does)
// reach an SSE client, one flushed event each; shutdown ends the stream.
func TestLiveFeed(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	base := serve(t, e)
	resp, err := http.Get(base + "/api/v1/live?series=var-estuaire/level-1/water_level,var-estuaire/drone-1/*")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("live: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(resp.Body)
	if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, ": connected") {
		t.Fatalf("first line %q", l)
	}
	topics := smartdeal.Topics{}
	now := time.Now().UTC().Truncate(time.Second)
	enc := func(dev, q string, v float64) []byte {
		b, err := senml.EncodeReadings("var-estuaire", dev, []smartdeal.Reading{{Site: "var-estuaire", Device: dev, Quantity: q, Unit: "m", Time: now, Number: v}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	e.srv.Hub().HandleTelemetry(topics, topics.Telemetry("var-estuaire", "level-9"), enc("level-9", "water_level", 1)) // not subscribed
	e.srv.Hub().HandleTelemetry(topics, topics.Telemetry("var-estuaire", "level-1"), enc("level-1", "water_level", 2.5))
	e.srv.Hub().HandleTelemetry(topics, topics.Telemetry("var-estuaire", "drone-1"), enc("drone-1", "altitude", 120))
	e.srv.Hub().HandleTelemetry(topics, topics.Telemetry("var-estuaire", "level-1"), []byte("not senml"))
	var events []string
	for len(events) < 2 {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v (events %v)", err, events)
		}
		if strings.HasPrefix(l, "data: ") {
			events = append(events, l)
		}
	}
	if !strings.Contains(events[0], `"device":"level-1"`) || !strings.Contains(events[0], `"value":2.5`) || !strings.Contains(events[1], `"quantity":"altitude"`) {
		t.Fatalf("events %v", events)
	}
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(r); done <- err }()
	e.srv.Hub().Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("stream still open after the hub closed")
	}
}
