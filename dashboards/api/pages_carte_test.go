package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// mapFixture is what newMapEnv puts on the map: three public proposals with
// a location (two themes) and one without, one awaiting moderation, two
// sensors at two sites (one publishing the ATMO index), and a mission in
// flight with its track so far.
type mapFixture struct {
	*env
	published []*civic.Proposal // with a location: environnement-risques ×2, securite ×1
	hidden    *civic.Proposal   // submitted, with a location
	mission   string
}

const (
	mapMission      = "survol-port-carte"
	mapMissionTitle = "Survol du port de Nice"
	mapSecurite     = "Éclairage du sentier du littoral"
)

func newMapEnv(t *testing.T, cfg api.Config) *mapFixture {
	t.Helper()
	meas, in, db := freshInflux(t)
	e := newEnv(t, sqltest.SQLite(t), meas, cfg)
	agentID, agent := e.field()
	e.call("POST", "/api/v1/sites", e.admin, map[string]any{"id": "nice-port", "name": "Port de Nice", "location": map[string]float64{"lat": 43.695, "lon": 7.285}}, 201, nil)
	e.call("POST", "/api/v1/devices", e.admin, map[string]any{"id": "air-1", "site_id": "nice-port", "kind": "sensor", "model": "sds011",
		"quantities": []map[string]string{{"quantity": "pm2_5", "unit": "ug/m3"}, {"quantity": "atmo_index", "unit": ""}}}, 201, nil)
	now := time.Now().UTC().Truncate(time.Second)
	writeLP(t, in.URL, db+"/autogen", []string{
		fmt.Sprintf("telemetry,site=var-estuaire,device=level-1,quantity=water_level,unit=m value=1.25 %d", now.Add(-5*time.Minute).Unix()),
		fmt.Sprintf("telemetry,site=nice-port,device=air-1,quantity=pm2_5,unit=ug/m3 value=12.5 %d", now.Add(-4*time.Minute).Unix()),
		fmt.Sprintf("telemetry,site=nice-port,device=air-1,quantity=atmo_index value=3 %d", now.Add(-4*time.Minute).Unix()),
	})
	_, citizen := e.user(civic.RoleCitizen)
	f := &mapFixture{env: e, mission: mapMission}
	f.published = append(f.published, e.idea(citizen, 100, true), e.idea(citizen, 200, true))
	var p civic.Proposal
	e.call("POST", "/api/v1/ideas", citizen, map[string]any{"campaign_id": e.campaign, "theme_id": "securite",
		"title": mapSecurite, "body": "Des bornes solaires.", "estimated_cost_eur": 3000,
		"location": map[string]float64{"lat": 43.69, "lon": 7.29}}, 201, &p)
	e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "published"}, 200, &p)
	f.published = append(f.published, &p)
	var noLoc civic.Proposal
	e.call("POST", "/api/v1/ideas", citizen, map[string]any{"campaign_id": e.campaign, "theme_id": "securite",
		"title": "Sans lieu", "body": "Partout.", "estimated_cost_eur": 1}, 201, &noLoc)
	e.call("POST", "/api/v1/ideas/"+noLoc.ID+"/status", e.admin, map[string]any{"status": "published"}, 200, nil)
	f.hidden = e.idea(citizen, 10, false)

	m := mission(agentID, square(7.28, 43.69))
	m["id"], m["title"] = mapMission, mapMissionTitle
	e.call("POST", "/api/v1/missions", e.admin, m, 201, nil)
	e.call("POST", "/api/v1/missions/"+mapMission+"/status", agent, map[string]any{"status": "active"}, 200, nil)
	ts := time.Now().Add(time.Second).Unix()
	var lines []string
	for i, fix := range [][2]float64{{43.690, 7.285}, {43.691, 7.286}, {43.692, 7.287}} {
		for j, q := range []string{"latitude", "longitude"} {
			lines = append(lines, fmt.Sprintf("telemetry,site=var-estuaire,device=drone-1,quantity=%s,mission=%s value=%g %d", q, mapMission, fix[j], ts+int64(i)))
		}
	}
	writeLP(t, in.URL, db+"/autogen", lines)
	return f
}

// mapNonce is the script nonce of a page's CSP.
func mapNonce(t *testing.T, csp string) string {
	t.Helper()
	_, nonce, _ := strings.Cut(csp, "script-src 'nonce-")
	nonce, _, _ = strings.Cut(nonce, "'")
	if len(nonce) < 22 {
		t.Fatalf("CSP %q", csp)
	}
	return nonce
}

var listItem = regexp.MustCompile(`<li data-couche="(\w+)"[^>]*?( hidden)?>`)

// shownItems counts the list alternative's items per layer, shown and
// hidden.
func shownItems(html string) (shown, hidden map[string]int) {
	shown, hidden = map[string]int{}, map[string]int{}
	for _, m := range listItem.FindAllStringSubmatch(html, -1) {
		if m[2] != "" {
			hidden[m[1]]++
		} else {
			shown[m[1]]++
		}
	}
	return shown, hidden
}

// TestMapPage: /carte without JavaScript is the list alternative of
// everything the map shows (public proposals with a location, sensors with
// their latest values and ATMO class in words, missions, the drone in
// flight), filtered by the no-JavaScript form's query; the embedded map
// document has the same items; the CSP allows the map's scripts and styles
// by nonce and images from the tile server only when one is configured;
// bad filters are 400.
func TestMapPage(t *testing.T) {
	f := newMapEnv(t, api.Config{})
	resp, body := f.do("GET", "/carte", "", nil)
	html := string(body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/carte: %d %s", resp.StatusCode, body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	nonce := mapNonce(t, csp)
	if !strings.Contains(csp, "img-src 'self';") || strings.Contains(csp, "unsafe") || !strings.Contains(csp, "style-src 'nonce-"+nonce+"'") {
		t.Errorf("CSP %q", csp)
	}
	// Every script and stylesheet carries the nonce (or is data).
	for _, tag := range regexp.MustCompile(`<(script|link|style)\b[^>]*>`).FindAllString(html, -1) {
		if !strings.Contains(tag, `nonce="`+nonce+`"`) && !strings.Contains(tag, `type="application/json"`) {
			t.Errorf("without the nonce: %s", tag)
		}
	}
	if strings.Contains(html, "style=") {
		t.Error("a style attribute")
	}
	for _, want := range []string{`<a href="/carte">Carte</a>`, "Liste des éléments de la carte", mapSecurite, "Capteurs de crue sur le Var",
		"Capteur air-1 (sds011), site Port de Nice", "indice ATMO 3 : Dégradé", "Particules fines PM2,5 12,5\u00a0µg/m³",
		"Niveau d&#39;eau 1,25\u00a0m", mapMissionTitle, "Drone drone-1, mission", `action="/carte"`, `<label for="f-theme">Thème</label>`,
		"/static/map.js?v=", "/static/vendor/leaflet/leaflet.js?v=", `/static/basemap-06.geojson?v=`} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(html, f.hidden.ID) || strings.Contains(html, "Sans lieu") {
		t.Error("a proposal awaiting moderation or without a location is listed")
	}
	shown, hidden := shownItems(html)
	if fmt.Sprint(shown) != "map[drones:1 missions:1 proposals:3 sensors:2]" || len(hidden) != 0 {
		t.Errorf("list: shown %v hidden %v", shown, hidden)
	}
	// The embedded document: the same items, parsed as GeoJSON.
	_, doc, _ := strings.Cut(html, `<script type="application/json" id="carte-donnees">`)
	doc, _, _ = strings.Cut(doc, "</script>")
	var d struct {
		Proposals, Sensors, Missions *geojson.FeatureCollection
		Drones                       []app.MapDroneJSON
		Quantities                   map[string]string
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("map document: %v\n%.300s", err, doc)
	}
	if len(d.Proposals.Features) != 3 || len(d.Sensors.Features) != 2 || len(d.Drones) != 1 || d.Quantities["pm2_5"] != "Particules fines PM2,5" {
		t.Errorf("document: %d proposals, %d sensors, %d drones, quantities %v", len(d.Proposals.Features), len(d.Sensors.Features), len(d.Drones), d.Quantities)
	}
	kinds := map[string]int{}
	for _, ft := range d.Missions.Features {
		kinds[ft.Properties.MustString("kind")]++
	}
	if kinds["area"] != 1 || kinds["track"] != 1 {
		t.Errorf("missions %v", kinds)
	}

	// The no-JavaScript form's filters hide what they exclude; the page's
	// script gets them as the map's fragment.
	for _, c := range []struct {
		query, shown, fragment string
	}{
		{"theme=securite", "map[drones:1 missions:1 proposals:1 sensors:2]", `"theme=securite"`},
		{"grandeur=pm2_5", "map[drones:1 missions:1 proposals:3 sensors:1]", `"grandeur=pm2_5"`},
		{"statut=selected", "map[drones:1 missions:1 sensors:2]", `"statut=selected"`},
		{"campagne=" + f.campaign + "&couche=proposals&couche=sensors&filtrer=oui", "map[proposals:3 sensors:2]", `"campagne=` + f.campaign + `\u0026couches=proposals,sensors"`},
		{"filtrer=oui", "map[]", `"couches="`},
		{"couches=drones", "map[drones:1]", `"couches=drones"`},
	} {
		resp, body := f.do("GET", "/carte?"+c.query, "", nil)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", c.query, resp.StatusCode)
			continue
		}
		if s, _ := shownItems(string(body)); fmt.Sprint(s) != c.shown {
			t.Errorf("%s: shown %v, want %s", c.query, s, c.shown)
		}
		if !strings.Contains(string(body), "const fragment = "+c.fragment+";") {
			t.Errorf("%s: fragment not %s", c.query, c.fragment)
		}
	}
	if !strings.Contains(string(must(f.do("GET", "/carte?theme=securite", "", nil))), `<option value="securite" selected>`) {
		t.Error("the chosen theme is not selected again")
	}
	for _, q := range []string{"statut=nimporte", "theme=%3Cscript%3E", "couches=tout", "couche=%22%3E", "grandeur=a%20b", "campagne=" + strings.Repeat("x", 300)} {
		resp, body := f.do("GET", "/carte?"+q, "", nil)
		if resp.StatusCode != 400 || strings.Contains(string(body), "<script>") {
			t.Errorf("%s: %d", q, resp.StatusCode)
		}
	}

	// A tile server: its origin joins img-src, its settings the map's options.
	tiled := newEnv(t, sqltest.SQLite(t), nil, api.Config{Tiles: api.Tiles{URL: "https://tuiles.example.org/plan/{z}/{x}/{y}.png", Attribution: "© OpenStreetMap"}})
	resp, body = tiled.do("GET", "/carte", "", nil)
	if csp := resp.Header.Get("Content-Security-Policy"); resp.StatusCode != 200 || !strings.Contains(csp, "img-src 'self' https://tuiles.example.org;") {
		t.Errorf("tiled CSP %d %q", resp.StatusCode, csp)
	}
	if !strings.Contains(string(body), `"tiles":{"url":"https://tuiles.example.org/plan/{z}/{x}/{y}.png","attribution":"© OpenStreetMap","maxZoom":19}`) {
		t.Errorf("tiles not in the options:\n%s", body)
	}
	// Other pages never allow the tile server.
	if resp, _ := tiled.do("GET", "/idees", "", nil); strings.Contains(resp.Header.Get("Content-Security-Policy"), "tuiles") {
		t.Error("the tile server is allowed beyond the map page")
	}
	for _, bad := range []api.Tiles{{URL: "ftp://x.org/{z}/{x}/{y}", Attribution: "a"}, {URL: "https://x.org/tiles.png", Attribution: "a"},
		{URL: "https://{s}.x.org/{z}/{x}/{y}.png", Attribution: "a"}, {URL: "https://x.org/{z}/{x}/{y}.png"},
		{URL: "https://x.org/{z}/{x}/{y}.png", Attribution: "a", MaxZoom: 30}, {Attribution: "a"}} {
		if _, err := api.New(api.Config{Tiles: bad}, api.Deps{Store: f.st, Measurements: offlineMeasurements(t), Publisher: &fakePub{}}); err == nil || !strings.Contains(err.Error(), "map.tile_") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func must(_ any, b []byte) []byte { return b }

// TestMapGeoJSON: every GeoJSON route answers application/geo+json with
// features a GeoJSON library reads and coordinates in range; the open-data
// proposals are the public ones with a location; the map document route
// reads the filters.
func TestMapGeoJSON(t *testing.T) {
	f := newMapEnv(t, api.Config{})
	for _, path := range []string{"/opendata/proposals.geojson", "/opendata/sites.geojson", "/api/v1/missions/" + mapMission + "/track?format=geojson"} {
		resp, body := f.do("GET", path, "", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/geo+json" {
			t.Errorf("%s: %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
			continue
		}
		var geoms []orb.Geometry
		if strings.Contains(path, "track") {
			ft, err := geojson.UnmarshalFeature(body)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			geoms = append(geoms, ft.Geometry)
		} else {
			fc, err := geojson.UnmarshalFeatureCollection(body)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if fc.ExtraMembers["licence"] == nil {
				t.Errorf("%s: no licence", path)
			}
			for _, ft := range fc.Features {
				geoms = append(geoms, ft.Geometry)
			}
			if path == "/opendata/proposals.geojson" {
				ids := map[string]bool{}
				for _, ft := range fc.Features {
					ids[fmt.Sprint(ft.ID)] = true
					if ft.Properties["author_id"] != nil || ft.Properties["body"] != nil {
						t.Errorf("personal or unmoderated fields: %v", ft.Properties)
					}
				}
				if len(ids) != 3 || ids[f.hidden.ID] || !ids[f.published[2].ID] {
					t.Errorf("open proposals %v", ids)
				}
			}
		}
		for _, g := range geoms {
			b := g.Bound()
			if b.Min.Lon() < 5 || b.Max.Lon() > 8 || b.Min.Lat() < 43 || b.Max.Lat() > 45 {
				t.Errorf("%s: %v out of the département", path, b)
			}
		}
	}
	var doc app.MapDocument
	f.call("GET", "/api/v1/map?"+url.Values{"theme": {"securite"}, "couches": {"propositions"}}.Encode(), "", nil, 200, &doc)
	if len(doc.Proposals.Features) != 1 || len(doc.Sensors.Features) != 0 {
		t.Errorf("filtered document: %d proposals, %d sensors", len(doc.Proposals.Features), len(doc.Sensors.Features))
	}
	f.problem("GET", "/api/v1/map?statut=nimporte", "", nil, 400)
}
