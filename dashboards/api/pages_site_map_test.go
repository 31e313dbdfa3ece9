package api_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestSitePageMap: /sites/{id} says where the site is in words (which is
// what the page shows without JavaScript) and embeds the proposal page's
// small map (small-map: map.js, the hashed assets, nonce'd) with the
// site's devices at its position; a device's page too.
func TestSitePageMap(t *testing.T) {
	meas, _, _ := freshInflux(t)
	e, _ := alertEnv(t, sqltest.SQLite(t), meas)
	e.field() // var-estuaire (43.66, 7.2) with level-1 and drone-1
	const pw = "un mot de passe solide"
	e.account(civic.RoleRiskManager, "rm-site@example.fr", pw)
	rm := newFormClient(e)
	signInForm(t, rm, "rm-site@example.fr", pw, "/carte")
	for _, path := range []string{"/sites/var-estuaire", "/sites/var-estuaire/appareils/level-1"} {
		resp, html := rm.get(path)
		wantPage(t, path, resp, html, 200, `<h2 id="emplacement">Emplacement</h2>`,
			"Position du site : latitude 43,66, longitude 7,2 (degrés décimaux), où sont ses 2 appareil(s)",
			`<a href="/carte#v=43.66000,7.20000,15">voir sur la carte</a>`, `<div id="lieu-carte" class="carte carte-lieu" hidden></div>`,
			"/static/map.js?v=", "/static/vendor/leaflet/leaflet.js?v=", "/static/basemap-06.geojson?v=")
		nonce := mapNonce(t, resp.Header.Get("Content-Security-Policy"))
		for _, tag := range regexp.MustCompile(`<(script|link)\b[^>]*>`).FindAllString(html, -1) {
			if !strings.Contains(tag, `nonce="`+nonce+`"`) && !strings.Contains(tag, `type="application/json"`) {
				t.Errorf("%s: without the nonce: %s", path, tag)
			}
		}
		_, doc, _ := strings.Cut(html, `<script type="application/json" id="lieu-donnees">`)
		doc, _, _ = strings.Cut(doc, "</script>")
		var d app.MapDocument
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			t.Fatalf("%s: document: %v", path, err)
		}
		if d.Sensors == nil || len(d.Sensors.Features) != 2 || len(d.Proposals.Features) != 0 {
			t.Fatalf("%s: document %s", path, doc)
		}
		ids := map[any]bool{}
		for _, f := range d.Sensors.Features {
			ids[f.ID] = true
			if p := f.Point(); p[0] != 7.2 || p[1] != 43.66 || f.Properties.MustString("site", "") != "var-estuaire" {
				t.Errorf("%s: device %v at %v %v", path, f.ID, p, f.Properties)
			}
		}
		if !ids["level-1"] || !ids["drone-1"] {
			t.Errorf("%s: devices %v", path, ids)
		}
	}
	// The proposal page's map is the same template (small-map).
	_, html := rm.get("/sites/var-estuaire")
	if strings.Count(html, `id="lieu-donnees"`) != 1 || !strings.Contains(html, "hash: false") {
		t.Error("the small map is not the proposal page's")
	}
}
