package api_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/assets/maptest"
	"github.com/cd06/smartdeal/dashboards/civic"
)

// TestBrowserMapAlertsAndSiteMap (JavaScript on): a signed-in risk manager
// sees the open alert on /carte as a marker with its level's glyph, in the
// legend with its word, with a popup opened from the keyboard that links
// to /alertes/{id}, and can switch the layer off (its list item hides);
// signed out, the layer, its box and its markers are gone. The site page
// draws its devices on the small map. No CSP violation.
func TestBrowserMapAlertsAndSiteMap(t *testing.T) {
	f := newMapEnv(t, api.Config{})
	alertID, _ := f.firedAlert(t)
	const pw = "un mot de passe solide"
	f.account(civic.RoleRiskManager, "rm-navigateur@example.fr", pw)
	base := serve(t, f.env)
	ctx := browser(t)
	recordCSP(t, ctx)
	count := func(sel string) int {
		t.Helper()
		n, err := maptest.Count(ctx, sel)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	open := func(u, container string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+u)); err != nil {
			t.Fatal(err)
		}
		if err := maptest.WaitReady(ctx, container); err != nil {
			t.Fatal(err)
		}
	}

	a11ySignIn(t, ctx, base, "rm-navigateur@example.fr", pw)
	open("/carte#v=43.66,7.2,13", "#carte")
	if n := count(".leaflet-marker-icon.alerte.alerte-orange"); n != 1 {
		t.Fatalf("%d alert markers", n)
	}
	if d := eval[string](t, ctx, `document.getElementById("carte").dataset.alerts`); d != "1" {
		t.Errorf("data-alerts %q", d)
	}
	if lg := eval[string](t, ctx, `document.getElementById("carte-legende").textContent`); !strings.Contains(lg, "Alertes actives") || !strings.Contains(lg, "Vigilance orange") {
		t.Errorf("legend %q", lg)
	}
	text, err := maptest.PopupFromKeyboard(ctx, ".leaflet-marker-icon.alerte")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ToLower(text), "vigilance orange") || !strings.Contains(text, "Crue du Var") || count(`.leaflet-popup-content a[href="/alertes/`+alertID+`"]`) != 1 {
		t.Errorf("popup %q", text)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("couche-alerts"))); err != nil {
		t.Fatal(err)
	}
	if n := count(".leaflet-marker-icon.alerte"); n != 0 || !eval[bool](t, ctx, `document.querySelector('#liste li[data-couche="alerts"]').hidden`) {
		t.Errorf("the alerts layer off: %d markers, list item shown", n)
	}
	if !strings.Contains(eval[string](t, ctx, `location.hash`), "couches=proposals,sensors,missions,drones") {
		t.Errorf("fragment %q", eval[string](t, ctx, `location.hash`))
	}

	open("/sites/var-estuaire", "#lieu-carte")
	if d := eval[string](t, ctx, `document.getElementById("lieu-carte").dataset.sensors`); d != "2" {
		t.Errorf("site map: data-sensors %q", d)
	}
	if n := count("#lieu-carte .leaflet-marker-icon"); n < 1 {
		t.Error("site map: no marker")
	}

	a11ySignIn(t, ctx, base, "", "")
	open("/carte#v=43.66,7.2,13", "#carte")
	if n := count(".leaflet-marker-icon.alerte") + count("#couche-alerts"); n != 0 {
		t.Errorf("signed out: %d alert markers and boxes", n)
	}
	if v := eval[[]string](t, ctx, `window.cspViolations`); len(v) != 0 {
		t.Errorf("CSP violations %v", v)
	}
}
