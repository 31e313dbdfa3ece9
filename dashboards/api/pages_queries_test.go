package api_test

import (
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// countingInflux is a measurements client whose requests to InfluxDB go
// through a proxy that counts them (testenv.CountingProxy).
func countingInflux(t *testing.T) (meas *measure.Client, in *testenv.Influx, db string, requests *atomic.Int64) {
	t.Helper()
	in = testenv.SharedInflux(t)
	db = in.NewDatabase(t)
	proxy, requests := testenv.CountingProxy(t, in.URL)
	meas, err := measure.New(measure.Config{URL: proxy, Bucket: db + "/autogen"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(meas.Close)
	return meas, in, db, requests
}

// TestProposalPageQueries: a proposal page costs the same number of SQL
// statements and InfluxDB requests whatever its number of linked series,
// missions and comment authors: the French page (viewed anonymously and by
// a citizen) and its JSON data for a proposal with 10 series, 5 flown
// missions and 6 commenters and for one with 1 series, no mission and 1
// commenter; the reviewers' evidence for the first and for one with 1
// series and 1 mission. (Before the views of package app, the
// page ran a device lookup per series, two InfluxDB queries per series, a
// mission and a track query per mission and a user lookup per commenter.)
func TestProposalPageQueries(t *testing.T) {
	meas, in, db, influxRequests := countingInflux(t)
	e := newEnv(t, sqltest.SQLite(t), meas, api.Config{PublicReadLimit: -1})
	agentID, agent := e.field()
	_, rm := e.user(civic.RoleRiskManager)
	_, expert := e.user(civic.RoleExpert)
	_, citizenTok := e.user(civic.RoleCitizen)
	now := time.Now().UTC()
	var lines []string

	// page builds a published proposal with series linked series (each on
	// its own registered device, with readings over the last hours),
	// missions flown missions (with their tracks) and comments approved
	// comments by as many citizens.
	page := func(series, missions, comments int) *civic.Proposal {
		p := e.idea(citizenTok, 10, true)
		for i := range series {
			dev := fmt.Sprintf("capteur-%s-%d", p.ID[:8], i)
			e.call("POST", "/api/v1/devices", e.admin, map[string]any{"id": dev, "site_id": "var-estuaire", "kind": "sensor", "model": "radar",
				"quantities": []map[string]string{{"quantity": "water_level", "unit": "m"}}}, 201, nil)
			e.call("POST", "/api/v1/links", e.admin, map[string]any{"proposal_id": p.ID, "site_id": "var-estuaire", "device_id": dev, "quantity": "water_level"}, 201, nil)
			for k := range 30 {
				lines = append(lines, fmt.Sprintf("telemetry,site=var-estuaire,device=%s,quantity=water_level,unit=m value=%d %d", dev, k, now.Add(-time.Duration(k)*10*time.Minute).Unix()))
			}
		}
		for range missions {
			m := mission(agentID, square(7.2, 43.65))
			m["proposal_ids"] = []string{p.ID}
			var got civic.Mission
			e.call("POST", "/api/v1/missions", rm, m, 201, &got)
			e.call("POST", "/api/v1/missions/"+got.ID+"/status", agent, map[string]any{"status": "active"}, 200, &got)
			for k := range 3 {
				at := got.Started.Add(time.Duration(k) * time.Second).Unix()
				lines = append(lines,
					fmt.Sprintf("telemetry,site=var-estuaire,device=drone-1,quantity=latitude,unit=lat,mission=%s value=%g %d", got.ID, 43.65+float64(k)/1000, at),
					fmt.Sprintf("telemetry,site=var-estuaire,device=drone-1,quantity=longitude,unit=lon,mission=%s value=7.2 %d", got.ID, at))
			}
			e.call("POST", "/api/v1/missions/"+got.ID+"/status", agent, map[string]any{"status": "completed"}, 200, &got)
		}
		for range comments {
			_, tok := e.user(civic.RoleCitizen)
			var cm civic.Comment
			e.call("POST", "/api/v1/ideas/"+p.ID+"/comments", tok, map[string]any{"body": "Bonne idée."}, 201, &cm)
			e.call("PUT", "/api/v1/comments/"+cm.ID+"/status", e.admin, map[string]any{"status": "approved"}, 200, nil)
		}
		return p
	}
	big, small, one := page(10, 5, 6), page(1, 0, 1), page(1, 1, 1)
	writeLP(t, in.URL, db+"/autogen", lines)

	// cost is what one view of path costs; the first view of each path
	// (warming the session, the engine probe and the prepared statements)
	// is not counted.
	cost := func(path, token string, check func(body string)) (sql, influx int64) {
		t.Helper()
		e.do("GET", path, token, nil)
		s0, i0 := e.st.Statements(), influxRequests.Load()
		resp, b := e.do("GET", path, token, nil)
		sql, influx = e.st.Statements()-s0, influxRequests.Load()-i0
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		check(string(b))
		return sql, influx
	}
	count := func(body, s string, want int) {
		t.Helper()
		if n := strings.Count(body, s); n != want {
			t.Errorf("%d × %q, want %d", n, s, want)
		}
	}
	for _, v := range []struct {
		name, token string
		path        func(p *civic.Proposal) string
		check       func(body string, series, missions, comments int)
		// missions is the missions of the smaller proposal compared: the
		// evidence reads the proposals its missions serve (which the viewer
		// may see) in one more statement when there are any.
		missions int
	}{
		{"page, anonymous", "", func(p *civic.Proposal) string { return "/idees/" + p.ID }, func(b string, series, missions, comments int) {
			count(b, `class="serie"`, series)
			count(b, "Durée de vol", missions)
			count(b, `class="texte">Bonne idée.`, comments)
			count(b, "Dernière valeur : <strong class=\"valeur\">0\u00a0m</strong>", series)
		}, 0},
		{"page, citizen", citizenTok, func(p *civic.Proposal) string { return "/idees/" + p.ID }, func(b string, series, missions, comments int) {
			count(b, `class="serie"`, series)
			count(b, "Durée de vol", missions)
			count(b, `class="texte">Bonne idée.`, comments)
		}, 0},
		{"JSON page", citizenTok, func(p *civic.Proposal) string { return "/api/v1/ideas/" + p.ID + "/page" }, func(b string, series, missions, _ int) {
			count(b, `"every":`, series)
			count(b, `"points":[{"t"`, series)
			if missions > 0 {
				count(b, `"missions":["`, 1)
			}
		}, 0},
		{"evidence", expert, func(p *civic.Proposal) string { return "/api/v1/ideas/" + p.ID + "/evidence" }, func(b string, series, missions, _ int) {
			count(b, `"quantity":"water_level","count":`, series)
			count(b, `"drone_id":"drone-1"`, missions)
		}, 1},
	} {
		t.Run(v.name, func(t *testing.T) {
			other := map[int]*civic.Proposal{0: small, 1: one}[v.missions]
			bigSQL, bigInflux := cost(v.path(big), v.token, func(b string) { v.check(b, 10, 5, 6) })
			smallSQL, smallInflux := cost(v.path(other), v.token, func(b string) { v.check(b, 1, v.missions, 1) })
			t.Logf("10 series, 5 missions, 6 commenters: %d SQL statements, %d InfluxDB requests; 1 series, %d mission(s), 1 commenter: %d, %d",
				bigSQL, bigInflux, v.missions, smallSQL, smallInflux)
			if bigSQL != smallSQL || bigInflux != smallInflux {
				t.Errorf("10 series, 5 missions, 6 commenters: %d SQL statements, %d InfluxDB requests; 1 series, %d mission(s), 1 commenter: %d, %d: want the same",
					bigSQL, bigInflux, v.missions, smallSQL, smallInflux)
			}
		})
	}
}
