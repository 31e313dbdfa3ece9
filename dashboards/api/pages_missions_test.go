package api_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

const hostile = `<script>alert("x")</script> & <img src=x onerror=alert(1)>`

// page GETs a page as a browser and asserts the status.
func (e *env) page(path string, want int) string {
	e.t.Helper()
	resp, b := e.send(e.request("GET", path, "", nil, "Accept", "text/html"))
	if resp.StatusCode != want {
		e.t.Fatalf("GET %s: status %d, want %d: %s", path, resp.StatusCode, want, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		e.t.Fatalf("GET %s: Content-Type %q", path, ct)
	}
	return string(b)
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: missing %q", what, w)
		}
	}
}

// TestMissionPages: the public mission pages over SQLite and a real InfluxDB
// holding a known three-fix flight (as TestMeasurementEndpoints): the list in
// French, newest first, with linked public proposals only; the detail page's
// summary and drawing; hostile text escaped; a planned mission; an unknown
// one; and the page still served when InfluxDB is down.
func TestMissionPages(t *testing.T) {
	meas, in, db := freshInflux(t)
	e := newEnv(t, sqltest.SQLite(t), meas, api.Config{})
	agentID, agent := e.field()
	_, citizen := e.user(civic.RoleCitizen)
	var public, hidden civic.Proposal
	e.call("POST", "/api/v1/ideas", citizen, map[string]any{"campaign_id": e.campaign, "theme_id": "environnement-risques",
		"title": "Crue " + hostile, "body": "Mesurer le niveau d'eau.", "estimated_cost_eur": 10,
		"location": map[string]float64{"lat": 43.70, "lon": 7.25}}, 201, &public)
	e.call("POST", "/api/v1/ideas/"+public.ID+"/status", e.admin, map[string]any{"status": "published"}, 200, nil)
	hidden = *e.idea(citizen, 10, false) // waiting for moderation: counted, not named

	// A planned mission, later than the flown one (so listed first), with a hostile title.
	planned := mission(agentID, square(7.2, 43.65))
	planned["id"] = "plan-1"
	planned["title"] = hostile
	planned["kind"] = "wildfire_watch"
	planned["planned_from"], planned["planned_to"] = time.Now().Add(2*time.Hour), time.Now().Add(3*time.Hour)
	planned["proposal_ids"] = []string{public.ID, hidden.ID}
	e.call("POST", "/api/v1/missions", e.admin, planned, 201, nil)

	// The flown mission: the fixes of TestMeasurementEndpoints (222 m north, 50 m high, 5 % of battery).
	flown := mission(agentID, square(7.195, 43.645))
	flown["id"] = "crue-var-1"
	flown["proposal_ids"] = []string{public.ID}
	e.call("POST", "/api/v1/missions", e.admin, flown, 201, nil)
	e.call("POST", "/api/v1/missions/crue-var-1/status", agent, map[string]any{"status": "active"}, 200, nil)
	ts := time.Now().Unix()
	var lines []string
	for i, f := range [][4]float64{{43.650, 7.2, 10, 95}, {43.651, 7.2, 50, 93}, {43.652, 7.2, 30, 90}} {
		for j, q := range []string{"latitude", "longitude", "relative_altitude", "battery_remaining"} {
			lines = append(lines, fmt.Sprintf("telemetry,site=var-estuaire,device=drone-1,quantity=%s,mission=crue-var-1 value=%g %d", q, f[j], ts+int64(i)))
		}
	}
	writeLP(t, in.URL, db+"/autogen", lines)
	e.call("POST", "/api/v1/missions/crue-var-1/status", agent, map[string]any{"status": "completed"}, 200, nil)

	list := e.page("/missions", 200)
	escaped := "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;"
	mustContain(t, "list", list, `<a href="/missions">Missions</a>`, "Surveillance des feux de forêt", "planifiée",
		"Relevé de crue", "terminée", `<a href="/missions/crue-var-1">Surveillance crue du Var</a>`,
		`<a href="/idees/`+public.ID+`">Crue `+escaped+`</a>`, "1 non publique", "var-estuaire / drone-1", escaped)
	if strings.Contains(list, hostile) || strings.Contains(list, "/idees/"+hidden.ID) {
		t.Error("list: hostile text unescaped, or a proposal not public linked")
	}
	if i, j := strings.Index(list, `id="mission-plan-1"`), strings.Index(list, `id="mission-crue-var-1"`); i < 0 || j < 0 || i > j {
		t.Errorf("list order: plan-1 at %d, crue-var-1 at %d: want newest planned first", i, j)
	}

	detail := e.page("/missions/crue-var-1", 200)
	mustContain(t, "detail", detail, "<h1>Surveillance crue du Var</h1>", "Relevé de crue", "terminée", "Décollage",
		"<dt>Distance parcourue</dt><dd>0,22\u00a0km</dd>", "<dt>Altitude maximale</dt><dd>50\u00a0m</dd>",
		"<dt>Batterie utilisée</dt><dd>5\u00a0%</dd>", "<dt>Durée de vol</dt><dd>2\u00a0s</dd>",
		`role="img" aria-label="Trajet du drone drone-1 : 3 positions du `, "0,22\u00a0km parcourus, altitude maximale 50\u00a0m",
		"<title>Trajet du drone drone-1", `<polygon id="zone" points="`, `id="depart"`, `id="arrivee"`,
		"<summary>Tableau des positions (3)</summary>", "43,65100°", "7,20000°",
		`href="/api/v1/missions/crue-var-1/track?format=geojson"`, `<a href="/idees/`+public.ID+`">`)
	pts := regexp.MustCompile(`<polyline id="trace" points="([^"]*)"`).FindStringSubmatch(detail)
	if pts == nil || len(strings.Fields(pts[1])) != 3 {
		t.Fatalf("detail: want a polyline of 3 points, got %q", pts)
	}
	// The track goes due north: x stays, y decreases (north up).
	var x0, y0, x2, y2 float64
	f := strings.Fields(pts[1])
	fmt.Sscanf(f[0], "%g,%g", &x0, &y0)
	fmt.Sscanf(f[2], "%g,%g", &x2, &y2)
	if x0 != x2 || y2 >= y0 {
		t.Errorf("drawing: start %g,%g end %g,%g: want due north", x0, y0, x2, y2)
	}
	if n := strings.Count(detail, "<tr><td>"); n != 3 {
		t.Errorf("detail: %d rows of fixes, want 3", n)
	}

	plan := e.page("/missions/plan-1", 200)
	mustContain(t, "planned", plan, "<h1>"+escaped+"</h1>", "Le vol n'a pas encore commencé.", "1 non publique")
	if strings.Contains(plan, hostile) || strings.Contains(plan, "<svg") {
		t.Error("planned: hostile text unescaped, or a drawing without a flight")
	}

	notFound := e.page("/missions/inconnue", 404)
	mustContain(t, "unknown", notFound, `lang="fr"`, `role="alert"`)

	// InfluxDB down: the same database, a measure client on a dead port.
	off := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	offAgentID, offAgent := off.field()
	m := mission(offAgentID, square(7.2, 43.65))
	m["id"] = "sans-influx"
	off.call("POST", "/api/v1/missions", off.admin, m, 201, nil)
	off.call("POST", "/api/v1/missions/sans-influx/status", offAgent, map[string]any{"status": "active"}, 200, nil)
	down := off.page("/missions/sans-influx", 200)
	mustContain(t, "InfluxDB down", down, "trajet indisponible", "<h1>Surveillance crue du Var</h1>", "en cours")
	if strings.Contains(down, "<svg") {
		t.Error("InfluxDB down: a drawing without a track")
	}
	off.problem("GET", "/api/v1/missions/sans-influx/track", "", nil, http.StatusServiceUnavailable)
}
