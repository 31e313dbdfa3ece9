package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

func square(lon, lat float64) map[string]any {
	return map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{lon, lat}, {lon + 0.01, lat}, {lon + 0.01, lat + 0.01}, {lon, lat + 0.01}, {lon, lat}}}}
}

// field sets up a site, a drone and an agent.
func (e *env) field() (agentID, agent string) {
	e.t.Helper()
	e.call("POST", "/api/v1/sites", e.admin, map[string]any{"id": "var-estuaire", "name": "Estuaire du Var", "location": map[string]float64{"lat": 43.66, "lon": 7.2}}, 201, nil)
	e.call("POST", "/api/v1/devices", e.admin, map[string]any{"id": "drone-1", "site_id": "var-estuaire", "kind": "drone", "model": "PX4 quad",
		"quantities": []map[string]string{{"quantity": "latitude", "unit": "lat"}}}, 201, nil)
	e.call("POST", "/api/v1/devices", e.admin, map[string]any{"id": "level-1", "site_id": "var-estuaire", "kind": "sensor", "model": "radar",
		"quantities": []map[string]string{{"quantity": "water_level", "unit": "m"}}}, 201, nil)
	u, tok := e.user(civic.RoleAgent)
	return u.ID, tok
}

func mission(agentID string, area any) map[string]any {
	return map[string]any{"title": "Surveillance crue du Var", "kind": "flood_survey", "area": area,
		"planned_from": time.Now().Add(-time.Hour), "planned_to": time.Now().Add(time.Hour),
		"agent_id": agentID, "site_id": "var-estuaire", "drone_id": "drone-1"}
}

// TestHostileInput: injection attempts, oversized bodies, invalid GeoJSON,
// bad time ranges and malformed bodies get 4xx problem+json and change nothing.
func TestHostileInput(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{BodyLimit: 16 << 10})
	agentID, _ := e.field()
	_, citizen := e.user(civic.RoleCitizen)
	p := e.idea(citizen, 10, true)
	count := func() (n int) {
		ps, err := e.st.Proposals(context.Background(), civic.ProposalFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		ms, _ := e.st.Missions(context.Background())
		ls, _ := e.st.Links(context.Background(), civic.LinkFilter{ProposalID: p.ID})
		return len(ps)*10000 + len(ms)*100 + len(ls)
	}
	before := count()
	big := `{"campaign_id":"` + e.campaign + `","theme_id":"securite","title":"x","body":"` + strings.Repeat("a", 20<<10) + `"}`
	cases := []struct {
		name, method, path string
		token              string
		body               any
		want               int
	}{
		{"sql injection in id", "GET", "/api/v1/ideas/" + url.PathEscape("' OR '1'='1"), "", nil, 404},
		{"sql injection in query", "GET", "/api/v1/ideas?status=" + url.QueryEscape("published' OR 1=1--"), "", nil, 400},
		{"sql injection in theme", "POST", "/api/v1/ideas", citizen, map[string]any{"campaign_id": e.campaign, "theme_id": "x'); DROP TABLE proposals;--", "title": "abc", "body": "b"}, 400},
		{"sql injection in vote", "POST", "/api/v1/ideas/" + url.PathEscape("x' OR 'a'='a") + "/vote", citizen, nil, 404},
		{"flux injection in device", "GET", "/api/v1/series/s1/" + url.PathEscape(`d1" or r._measurement != "`) + "/temperature?start=2026-01-01T00:00:00Z&stop=2026-01-02T00:00:00Z", "", nil, 400},
		{"flux injection in quantity", "GET", "/api/v1/series/s1/d1/" + url.PathEscape(`t) |> drop(columns:["site"]`) + "?start=2026-01-01T00:00:00Z&stop=2026-01-02T00:00:00Z", "", nil, 400},
		{"flux injection in aggregate", "GET", "/api/v1/series/s1/d1/t?agg=" + url.QueryEscape(`mean) |> yield(name:"x"`) + "&start=2026-01-01T00:00:00Z&stop=2026-01-02T00:00:00Z", "", nil, 400},
		{"flux injection in site list", "GET", "/api/v1/series?site=" + url.QueryEscape(`s1" or true or "`), "", nil, 400},
		{"flux injection in live", "GET", "/api/v1/live?series=" + url.QueryEscape(`s1/d1/t" or "`), "", nil, 400},
		{"reversed range", "GET", "/api/v1/series/s1/d1/t?start=2026-01-02T00:00:00Z&stop=2026-01-01T00:00:00Z", "", nil, 400},
		{"empty range", "GET", "/api/v1/series/s1/d1/t?start=2026-01-01T00:00:00Z&stop=2026-01-01T00:00:00Z", "", nil, 400},
		{"not RFC 3339", "GET", "/api/v1/series/s1/d1/t?start=yesterday&stop=2026-01-01T00:00:00Z", "", nil, 400},
		{"range too long", "GET", "/api/v1/series/s1/d1/t?start=2001-01-01T00:00:00Z&stop=2026-01-01T00:00:00Z", "", nil, 400},
		{"window too small", "GET", "/api/v1/series/s1/d1/t?start=2026-01-01T00:00:00Z&stop=2026-01-02T00:00:00Z&every=1ms", "", nil, 400},
		{"too many points", "GET", "/api/v1/series/s1/d1/t?start=2026-01-01T00:00:00Z&stop=2026-01-02T00:00:00Z&points=99999999", "", nil, 400},
		{"open data bad range", "GET", "/opendata/series/s1/d1/t.csv?start=2026-01-02T00:00:00Z&stop=2026-01-01T00:00:00Z", "", nil, 400},
		{"unknown field", "POST", "/api/v1/ideas", citizen, map[string]any{"campaign_id": e.campaign, "theme_id": "securite", "title": "abc", "body": "b", "status": "selected"}, 400},
		{"trailing data", "POST", "/api/v1/ideas/" + p.ID + "/comments", citizen, `{"body":"a"} {"body":"b"}`, 400},
		{"broken JSON", "POST", "/api/v1/ideas/" + p.ID + "/comments", citizen, `{"body":`, 400},
		{"control characters", "POST", "/api/v1/ideas/" + p.ID + "/comments", citizen, map[string]any{"body": "a\x00b"}, 400},
		{"geojson not a polygon", "POST", "/api/v1/missions", e.admin, mission(agentID, map[string]any{"type": "Point", "coordinates": []float64{7.2, 43.6}}), 400},
		{"geojson open ring", "POST", "/api/v1/missions", e.admin, mission(agentID, map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{7.2, 43.6}, {7.3, 43.6}, {7.3, 43.7}, {7.2, 43.7}}}}), 400},
		{"geojson out of range", "POST", "/api/v1/missions", e.admin, mission(agentID, square(200, 43.6)), 400},
		{"geojson degenerate", "POST", "/api/v1/missions", e.admin, mission(agentID, map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{7.2, 43.6}, {7.3, 43.6}, {7.4, 43.6}, {7.2, 43.6}}}}), 400},
		{"geojson garbage", "POST", "/api/v1/missions", e.admin, mission(agentID, "DROP TABLE missions"), 400},
		{"mission window reversed", "POST", "/api/v1/missions", e.admin, func() map[string]any {
			m := mission(agentID, square(7.2, 43.6))
			m["planned_to"] = time.Now().Add(-2 * time.Hour)
			return m
		}(), 400},
		{"link with injected device", "POST", "/api/v1/links", e.admin, map[string]any{"proposal_id": p.ID, "site_id": "s1", "device_id": `d1" or "1`, "quantity": "t"}, 400},
		{"bad status", "POST", "/api/v1/ideas/" + p.ID + "/status", e.admin, map[string]any{"status": "selected'; --"}, 400},
		{"wrong media type", "POST", "/api/v1/ideas/" + p.ID + "/comments", citizen, nil, 415},
		{"unknown route", "GET", "/api/v1/nothing", "", nil, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.problem(tc.method, tc.path, tc.token, tc.body, tc.want)
		})
	}
	// Oversized bodies are refused by the server before any handler runs
	// (app.Test cannot show this: it reports the transport error).
	base := serve(t, e)
	req, _ := http.NewRequest("POST", base+"/api/v1/ideas", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+citizen)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	checkProblem(t, "oversized body", resp, b, 413)
	if after := count(); after != before {
		t.Fatalf("hostile requests changed data: %d -> %d", before, after)
	}
	// The proposals table survived and the theme list is intact.
	var ts []civic.Theme
	e.call("GET", "/api/v1/themes", "", nil, 200, &ts)
	if len(ts) != 5 {
		t.Fatalf("themes: %d", len(ts))
	}
}

// TestOpenAPI: the document is valid OpenAPI 3 and describes every route the
// app serves (walking app.GetRoutes), and nothing more.
func TestOpenAPI(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	resp, body := e.do("GET", "/api/v1/openapi.json", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(body)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("invalid OpenAPI document: %v", err)
	}
	served := map[string]bool{}
	for _, r := range e.app.GetRoutes(true) {
		if r.Method == "HEAD" {
			continue
		}
		key := r.Method + " " + openAPIPathForTest(r.Path)
		served[key] = true
		item := doc.Paths.Find(openAPIPathForTest(r.Path))
		if item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("route %s not in the OpenAPI document", key)
		}
	}
	var raw struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	_ = json.Unmarshal(body, &raw)
	for p, ops := range raw.Paths {
		for m := range ops {
			if !served[strings.ToUpper(m)+" "+p] {
				t.Errorf("documented %s %s is not served", strings.ToUpper(m), p)
			}
		}
	}
	if len(served) < 50 {
		t.Fatalf("only %d routes", len(served))
	}
}

func openAPIPathForTest(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			name, rest, found := strings.Cut(s[1:], ".")
			parts[i] = "{" + name + "}"
			if found {
				parts[i] += "." + rest
			}
		}
	}
	return strings.Join(parts, "/")
}
