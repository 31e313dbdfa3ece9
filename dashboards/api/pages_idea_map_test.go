package api_test

import (
	"encoding/csv"
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
)

var hrefRe = regexp.MustCompile(`<a href="([^"]+)">([^<]*)</a>`)

// pageLinks are a page's links by their text, unescaped as a browser
// follows them.
func pageLinks(body string) map[string][]string {
	out := map[string][]string{}
	for _, m := range hrefRe.FindAllStringSubmatch(body, -1) {
		out[m[2]] = append(out[m[2]], html.UnescapeString(m[1]))
	}
	return out
}

// TestProposalPageMapAndExports: a proposal page shows its place (text, a
// link to /carte centred on it, a small map) and the sensors within 2 km
// with their distance (app.Maps.Nearby, also GET /api/v1/ideas/{id}/nearby);
// every "JSON" and "en CSV" link under a chart, followed from the rendered
// page, answers 200 with the range the chart shows (they answered 400); the
// export of the proposal with its series, followed from the page, gives
// the proposal, the series' metadata and values, in JSON and in CSV with
// formula cells neutralised; hostile ranges and hidden proposals refused.
func TestProposalPageMapAndExports(t *testing.T) {
	f := newMapEnv(t, api.Config{PageRange: 2 * time.Hour})
	_, citizen := f.user(civic.RoleCitizen)
	var p civic.Proposal
	f.call("POST", "/api/v1/ideas", citizen, map[string]any{"campaign_id": f.campaign, "theme_id": "environnement-risques",
		"title": "=HYPERLINK(\"http://x\") Air du port", "body": "Mesurer l'air au port.", "estimated_cost_eur": 10,
		"location": map[string]float64{"lat": 43.69, "lon": 7.29}}, 201, &p)
	f.call("POST", "/api/v1/ideas/"+p.ID+"/status", f.admin, map[string]any{"status": "published"}, 200, &p)
	f.call("POST", "/api/v1/links", f.admin, map[string]any{"proposal_id": p.ID, "site_id": "nice-port", "device_id": "air-1", "quantity": "pm2_5"}, 201, nil)

	resp, body := f.do("GET", "/idees/"+p.ID, "", nil)
	page := string(body)
	if resp.StatusCode != 200 {
		t.Fatalf("page %d", resp.StatusCode)
	}
	for _, want := range []string{`<h2 id="lieu">Lieu</h2>`, "latitude 43,69, longitude 7,29", `href="/carte#v=43.69000,7.29000,14"`,
		"Capteur air-1 (sds011), site Port de Nice : à ", `id="lieu-carte"`, "/static/map.js?v="} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "level-1") && strings.Contains(page, "Capteur level-1") {
		t.Error("a sensor 9 km away is listed as near")
	}
	var near []map[string]any
	f.call("GET", "/api/v1/ideas/"+p.ID+"/nearby", "", nil, 200, &near)
	if len(near) != 1 || near[0]["id"] != "air-1" || near[0]["distance_m"].(float64) < 300 || near[0]["distance_m"].(float64) > 1000 {
		t.Errorf("nearby %v", near)
	}
	// The charts' links, as the page gives them.
	links := pageLinks(page)
	var followed int
	for text, hrefs := range links {
		if !strings.HasPrefix(text, "Données détaillées") && text != "en CSV" {
			continue
		}
		for _, h := range hrefs {
			followed++
			resp, b := f.do("GET", h, "", nil)
			if resp.StatusCode != 200 {
				t.Errorf("%s → %d %s", h, resp.StatusCode, b)
				continue
			}
			if text == "en CSV" {
				rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
				if err != nil || len(rows) < 2 || rows[len(rows)-1][6] != "12.5" {
					t.Errorf("%s: %v %q", h, err, b)
				}
				continue
			}
			var d struct {
				Start, Stop time.Time
				Every       string
				Points      []struct{ V float64 }
			}
			if err := json.Unmarshal(b, &d); err != nil || d.Stop.Sub(d.Start) != 2*time.Hour || len(d.Points) == 0 || d.Points[len(d.Points)-1].V != 12.5 {
				t.Errorf("%s: %v %+v", h, err, d)
			}
		}
	}
	if followed != 2 {
		t.Errorf("followed %d chart links, want 2 (%v)", followed, links)
	}

	// The export, from the page.
	if len(links["JSON"]) != 1 || len(links["CSV"]) != 1 {
		t.Fatalf("export links %v %v", links["JSON"], links["CSV"])
	}
	resp, b := f.do("GET", links["JSON"][0], "", nil)
	var ex struct {
		Licence  string
		Proposal struct{ ID, Title string }
		Start    time.Time
		Stop     time.Time
		Series   []struct {
			Site, Device, Quantity, Unit string
			Points                       []struct{ V float64 }
		}
	}
	if err := json.Unmarshal(b, &ex); resp.StatusCode != 200 || err != nil || ex.Proposal.ID != p.ID || ex.Licence == "" || len(ex.Series) != 1 ||
		ex.Series[0].Device != "air-1" || ex.Series[0].Unit != "ug/m3" || len(ex.Series[0].Points) == 0 || ex.Stop.Sub(ex.Start) != 2*time.Hour {
		t.Fatalf("export JSON %d %v %s", resp.StatusCode, err, b)
	}
	resp, b = f.do("GET", links["CSV"][0], "", nil)
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if resp.StatusCode != 200 || err != nil || len(rows) < 2 || rows[0][0] != "proposal_id" || rows[1][0] != p.ID || rows[1][1] != `'=HYPERLINK("http://x") Air du port` ||
		rows[1][4] != "pm2_5" || rows[1][9] != "12.5" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Errorf("export CSV %d %v %q", resp.StatusCode, err, b)
	}
	for _, q := range []string{"?start=2026-01-02T00:00:00Z&stop=2026-01-01T00:00:00Z", "?start=2020-01-01T00:00:00Z&stop=2026-01-01T00:00:00Z", "?start=hier", "?stop=%00"} {
		f.problem("GET", "/opendata/ideas/"+p.ID+"/series.json"+q, "", nil, 400)
		f.problem("GET", "/opendata/ideas/"+p.ID+"/series.csv"+q, "", nil, 400)
	}
	f.problem("GET", "/opendata/ideas/"+f.hidden.ID+"/series.json", "", nil, 404)
	f.problem("GET", "/opendata/ideas/"+f.hidden.ID+"/series.json", f.admin, nil, 404) // open data: public proposals only
	f.problem("GET", "/opendata/ideas/inconnue/series.csv", "", nil, 404)
}
