package api_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/assets/maptest"
	"github.com/cd06/smartdeal/internal/testenv"
	"github.com/cd06/smartdeal/internal/testenv/axe"
)

// recordCSP makes every page of ctx record its Content-Security-Policy
// violations in window.cspViolations (a DevTools script, which the policy
// does not block).
func recordCSP(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `window.cspViolations = [];
			document.addEventListener("securitypolicyviolation", (e) => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI));`})
		return err
	})); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserMapPage drives the real /carte with JavaScript on: the markers
// of each layer with the fixture's counts, the list alternative agreeing,
// a layer switched off and a filter hiding markers and list items alike, a
// popup opened from the keyboard, the view and the filters kept in the URL
// (and the no-JavaScript form's query turned into the fragment), the drone
// in flight moved by readings handed to the live feed's hub (as the MQTT
// feed of cmd/internal/apid does), no CSP violation and no axe-core
// violation (axe needs JavaScript: the page with its list, JavaScript on). Without JavaScript, the list shows the same items and the
// filter form works.
func TestBrowserMapPage(t *testing.T) {
	f := newMapEnv(t, api.Config{})
	base := serve(t, f.env)
	ctx := browser(t)
	recordCSP(t, ctx)
	const carte = "#carte"
	first := true
	open := func(u string) {
		t.Helper()
		if first {
			first = false
			if err := chromedp.Do(ctx, chromedp.Navigate(base+u)); err != nil {
				t.Fatal(err)
			}
			if err := maptest.WaitReady(ctx, carte); err != nil {
				t.Fatal(err)
			}
			return
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(base+u)); err != nil {
			t.Fatal(err)
		}
		// From one fragment to another is no new document.
		if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
			t.Fatal(err)
		}
		if err := maptest.WaitReady(ctx, carte); err != nil {
			t.Fatal(err)
		}
	}
	counts := func() maptest.Counts {
		t.Helper()
		c, err := maptest.ReadCounts(ctx, carte)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	count := func(sel string) int {
		t.Helper()
		n, err := maptest.Count(ctx, sel)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	listed := func() string {
		return eval[string](t, ctx, `[...document.querySelectorAll("#liste-resume [data-n]")].map((s) => s.dataset.n + "=" + s.textContent).join(" ")`)
	}
	// Zoom 13 over the fixture: the two proposals at one place make a
	// cluster, every other marker stands alone.
	open("/carte#v=43.68,7.245,13")
	if c := counts(); c != (maptest.Counts{Proposals: 3, Sensors: 2, Missions: 2, Drones: 1}) {
		t.Fatalf("counts %+v", c)
	}
	if l := listed(); l != "proposals=3 sensors=2 missions=1 drones=1" {
		t.Errorf("list %s", l)
	}
	if eval[bool](t, ctx, `document.getElementById("carte-filtres-sans-js").hidden === false`) {
		t.Error("the no-JavaScript form is still shown beside the map's")
	}
	testenv.Eventually(t, 5*time.Second, func() bool {
		return count(".leaflet-marker-icon.proposition") == 1 && count(".marker-cluster") == 1 && count(".leaflet-marker-icon.capteur") == 2 &&
			count(".leaflet-marker-icon.drone") == 1 && count("path.zone") == 1 && count("path.vol") == 1 && count("path.fond-commune") == 163
	}, "markers: %d proposals, %d clusters, %d sensors, %d drones, %d areas, %d tracks, %d communes", count(".leaflet-marker-icon.proposition"),
		count(".marker-cluster"), count(".leaflet-marker-icon.capteur"), count(".leaflet-marker-icon.drone"), count("path.zone"), count("path.vol"), count("path.fond-commune"))
	if n := count(".leaflet-marker-icon.capteur.atmo-3"); n != 1 {
		t.Errorf("%d sensors of ATMO class 3", n)
	}
	// Leaflet's stylesheet (a nonce'd <link>) applies.
	if pos := eval[string](t, ctx, `getComputedStyle(document.querySelector(".leaflet-pane")).position`); pos != "absolute" {
		t.Errorf("leaflet.css not applied: pane position %q", pos)
	}

	// The drone moves with the live feed, once both halves of a fix are in.
	lat, lon, err := maptest.DronePosition(ctx, "var-estuaire/drone-1")
	if err != nil || lat != 43.692 || lon != 7.287 {
		t.Fatalf("drone at %g, %g (%v), want its last fix", lat, lon, err)
	}
	// The streams of the pages left are noticed closed at a write to them:
	// an old fix, which the open page ignores.
	testenv.Eventually(t, 10*time.Second, func() bool {
		f.srv.Hub().Publish([]smartdeal.Reading{{Site: "var-estuaire", Device: "drone-1", Quantity: "latitude", Unit: "lat",
			Time: time.Now().Add(-time.Hour), Kind: smartdeal.KindNumber, Number: 40, Mission: mapMission}})
		time.Sleep(50 * time.Millisecond)
		return liveClients(t, f.env) == "1"
	}, "live clients %s, want 1", liveClients(t, f.env))
	at := time.Now().UTC().Add(time.Minute)
	fix := func(q string, v float64) smartdeal.Reading {
		return smartdeal.Reading{Site: "var-estuaire", Device: "drone-1", Quantity: q, Unit: q[:3], Time: at, Kind: smartdeal.KindNumber, Number: v, Mission: mapMission}
	}
	f.srv.Hub().Publish([]smartdeal.Reading{fix("latitude", 43.7), fix("longitude", 7.3)})
	testenv.Eventually(t, 5*time.Second, func() bool {
		lat, lon, _ = maptest.DronePosition(ctx, "var-estuaire/drone-1")
		return lat == 43.7 && lon == 7.3
	}, "drone at %g, %g, want 43.7, 7.3", lat, lon)

	// A popup from the keyboard, with the sensor's latest values.
	text, err := maptest.PopupFromKeyboard(ctx, ".leaflet-marker-icon.capteur.atmo-3")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Indice ATMO : 3 — Dégradé") || !strings.Contains(text, "Particules fines PM2,5 : 12,5\u00a0µg/m³") || !strings.Contains(text, "Indice ATMO : 3 (") {
		t.Errorf("popup %q", text)
	}
	hrefs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".leaflet-popup-content a")].map(a => a.getAttribute("href"))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(hrefs) < 2 || !strings.HasPrefix(hrefs[0], "/sites/") || !strings.Contains(hrefs[0], "/appareils/") || !strings.HasPrefix(hrefs[1], "/sites/") || strings.Contains(hrefs[1], "/appareils/") {
		t.Errorf("popup links %q, want the device's page then its site's", hrefs)
	}

	// Switching the sensors off hides their markers and their list items.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("couche-sensors"))); err != nil {
		t.Fatal(err)
	}
	if c := counts(); c.Sensors != 0 || count(".leaflet-marker-icon.capteur") != 0 {
		t.Errorf("sensors off: %+v", c)
	}
	if l := listed(); l != "proposals=3 sensors=0 missions=1 drones=1" || count("#liste-capteurs li:not([hidden])") != 0 {
		t.Errorf("list with the sensors off: %s", l)
	}
	if h, _ := maptest.Hash(ctx); !strings.Contains(h, "couches=proposals,missions,drones") {
		t.Errorf("hash %q", h)
	}
	// A theme filter.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("filtre-theme"), "securite"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("filtre-theme").dispatchEvent(new Event("change", {bubbles: true}))`)); err != nil {
		t.Fatal(err)
	}
	if c := counts(); c.Proposals != 1 {
		t.Errorf("theme filter: %+v", c)
	}
	if l := listed(); l != "proposals=1 sensors=0 missions=1 drones=1" || !strings.Contains(text2(t, ctx, "#liste-propositions li:not([hidden])"), mapSecurite) {
		t.Errorf("list with the theme filter: %s", l)
	}

	// The link keeps the view and the filters.
	open("/carte#v=43.70000,7.28000,12&couches=proposals,missions&theme=securite")
	if c := counts(); c != (maptest.Counts{Proposals: 1, Missions: 2}) {
		t.Errorf("restored counts %+v", c)
	}
	view := eval[[]float64](t, ctx, `[carte.map.getCenter().lat, carte.map.getCenter().lng, carte.map.getZoom()]`)
	if len(view) != 3 || math.Abs(view[0]-43.70) > 1e-4 || math.Abs(view[1]-7.28) > 1e-4 || view[2] != 12 {
		t.Errorf("restored view %v", view)
	}
	if l := listed(); l != "proposals=1 sensors=0 missions=1 drones=0" {
		t.Errorf("restored list %s", l)
	}
	// The no-JavaScript form's query becomes the fragment.
	open("/carte?grandeur=pm2_5")
	if h, _ := maptest.Hash(ctx); !strings.Contains(h, "grandeur=pm2_5") {
		t.Errorf("hash from the query %q", h)
	}
	if c := counts(); c.Sensors != 1 || c.Proposals != 3 {
		t.Errorf("counts from the query %+v", c)
	}

	if v := eval[[]string](t, ctx, `window.cspViolations`); len(v) != 0 {
		t.Errorf("CSP violations %v", v)
	}
	res, err := axe.Run(ctx, axe.WCAG21AA)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) > 0 {
		t.Errorf("axe-core %s:\n%s", res.TestEngine.Version, axe.Report(res))
	}
	keepScreenshot(t, ctx, "carte")

	// Without JavaScript: the list is the page, the form filters it.
	nojs := browserNoScript(t)
	if err := chromedp.Do(nojs, chromedp.Navigate(base+"/carte"), chromedp.WaitVisible(chromedp.ID("liste"))); err != nil {
		t.Fatal(err)
	}
	visible := func() string {
		return eval[string](t, nojs, `["propositions", "capteurs", "missions", "drones"].map((l) => l + "=" + [...document.querySelectorAll("#liste-" + l + " li[data-couche]")].filter((li) => li.offsetParent !== null).length).join(" ")`)
	}
	if v := visible(); v != "propositions=3 capteurs=2 missions=1 drones=1" {
		t.Errorf("without JavaScript: %s", v)
	}
	if eval[bool](t, nojs, `document.getElementById("carte-js").offsetParent !== null`) {
		t.Error("the empty map shows without JavaScript")
	}
	if err := chromedp.Do(nojs, chromedp.SetValue(chromedp.ID("f-theme"), "securite"), chromedp.Click(chromedp.ID("f-couche-sensors")),
		chromedp.Click(`#carte-filtres-sans-js button[type=submit]`), chromedp.WaitVisible(chromedp.ID("liste"))); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 5*time.Second, func() bool { return strings.Contains(location(t, nojs), "theme=securite") }, "form not sent")
	if v := visible(); v != "propositions=1 capteurs=0 missions=1 drones=1" {
		t.Errorf("without JavaScript, filtered: %s", v)
	}
}

func text2(t *testing.T, ctx context.Context, css string) string {
	return eval[string](t, ctx, `[...document.querySelectorAll(`+"`"+css+"`"+`)].map((e) => e.textContent).join(" | ")`)
}
