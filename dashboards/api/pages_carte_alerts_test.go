package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
)

// TestMapPageAlerts: a signed-in risk manager or agent finds the open
// alerts on /carte (the map document's alerts at their sensor's position,
// with the level's word; the list alternative's "Alertes actives" with a
// link to /alertes/{id}; the layer's checkbox); an anonymous visitor and a
// citizen get neither the layer, nor its list, nor the alert in the page.
func TestMapPageAlerts(t *testing.T) {
	f := newMapEnv(t, api.Config{})
	alertID, _ := f.firedAlert(t)
	const pw = "un mot de passe solide"
	f.account(civic.RoleRiskManager, "rm-carte@example.fr", pw)
	f.account(civic.RoleAgent, "agent-carte@example.fr", pw)
	f.account(civic.RoleCitizen, "cit-carte@example.fr", pw)

	docOf := func(html string) app.MapDocument {
		t.Helper()
		_, doc, _ := strings.Cut(html, `<script type="application/json" id="carte-donnees">`)
		doc, _, _ = strings.Cut(doc, "</script>")
		var d app.MapDocument
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			t.Fatalf("map document: %v", err)
		}
		return d
	}
	for _, email := range []string{"rm-carte@example.fr", "agent-carte@example.fr"} {
		c := newFormClient(f.env)
		signInForm(t, c, email, pw, "/carte")
		resp, html := c.get("/carte")
		wantPage(t, email+" /carte", resp, html, 200, `<h3 id="liste-alertes-titre">Alertes actives</h3>`,
			`<a href="/alertes/`+alertID+`">Crue du Var</a>`, `<span class="niveau niveau-orange">vigilance orange</span>`,
			"site var-estuaire, appareil level-1", "(seuil 2,5\u00a0m)", "position 43,66, 7,2", `value="alerts" id="f-couche-alerts" checked`,
			`<span data-n="alerts">1</span> alerte(s) active(s)`)
		d := docOf(html)
		if len(d.Alerts) != 1 || d.Alerts[0].ID != alertID || d.Alerts[0].Severity != "orange" || d.Alerts[0].Level != "vigilance orange" ||
			d.Alerts[0].Lat != 43.66 || d.Alerts[0].Lon != 7.2 {
			t.Errorf("%s: document alerts %+v", email, d.Alerts)
		}
		if shown, _ := shownItems(html); shown["alerts"] != 1 {
			t.Errorf("%s: list %v", email, shown)
		}
		// The layer off (the no-JavaScript form): the item is hidden.
		_, html = c.get("/carte?couche=proposals&couche=sensors")
		if _, hidden := shownItems(html); hidden["alerts"] != 1 {
			t.Errorf("%s: the alerts layer off: hidden %v", email, hidden)
		}
	}

	cit := newFormClient(f.env)
	signInForm(t, cit, "cit-carte@example.fr", pw, "/carte")
	_, citHTML := cit.get("/carte")
	resp, anon := f.do("GET", "/carte", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("anonymous /carte: %d", resp.StatusCode)
	}
	for who, html := range map[string]string{"citizen": citHTML, "anonymous": string(anon)} {
		if !strings.Contains(html, "Liste des éléments de la carte") {
			t.Fatalf("%s: not the map page:\n%.400s", who, html)
		}
		for _, leak := range []string{alertID, "Alertes actives", "liste-alertes", "Crue du Var", `"alerts":`, "f-couche-alerts"} {
			if strings.Contains(html, leak) {
				t.Errorf("%s sees %q", who, leak)
			}
		}
		if d := docOf(html); d.Alerts != nil {
			t.Errorf("%s: document alerts %+v", who, d.Alerts)
		}
	}
}
