package assets_test

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cd06/smartdeal/dashboards/assets"
	"github.com/cd06/smartdeal/dashboards/assets/maptest"
	"github.com/cd06/smartdeal/internal/browsertest"
	"github.com/cd06/smartdeal/internal/testenv"
	"github.com/cd06/smartdeal/internal/testenv/axe"
)

// fixtureCSP is the pages' policy (dashboards/api pageCSP) with 'self' for
// the scripts and styles, which the fixture loads as files: map.js must
// draw under it (no inline style attribute, no eval).
const fixtureCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// fixture serves the test page, the fixture map document, the assets under
// /static/ and a live feed whose events the test sends on events (the
// stream's series query is recorded on series).
func fixture(t *testing.T) (base string, events chan string, series chan string) {
	t.Helper()
	events, series = make(chan string, 16), make(chan string, 4)
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static", assets.Handler()))
	file := func(path, ctype string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, err := os.ReadFile(path)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Content-Security-Policy", fixtureCSP)
			_, _ = w.Write(b)
		}
	}
	mux.HandleFunc("/{$}", file("testdata/map.html", "text/html; charset=utf-8"))
	mux.HandleFunc("/fixture.js", file("testdata/fixture.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("/data.json", file("testdata/map-data.json", "application/json"))
	mux.HandleFunc("/api/v1/live", func(w http.ResponseWriter, r *http.Request) {
		select {
		case series <- r.URL.Query().Get("series"):
		default:
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		fmt.Fprint(w, ": connected\n\n")
		fl.Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case data := <-events:
				fmt.Fprintf(w, "event: reading\ndata: %s\n\n", data)
				fl.Flush()
			}
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, events, series
}

// TestBrowserMap drives map.js in Chromium on the fixture page: the
// markers of each layer with their counts (two sensors of one site
// clustered), a layer switched off and a filter, a popup opened from the
// keyboard, the view and the filters restored from the URL, a drone moved
// by live events (an older fix and junk ignored), no CSP violation, and no
// axe-core violation (WCAG 2.1 A and AA).
func TestBrowserMap(t *testing.T) {
	base, events, series := fixture(t)
	ctx := browsertest.New(t)
	const carte = "#carte"
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#v=43.75,7.25,10")); err != nil {
		t.Fatal(err)
	}
	if err := maptest.WaitReady(ctx, carte); err != nil {
		t.Fatal(err)
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
	if c := counts(); c != (maptest.Counts{Proposals: 3, Sensors: 4, Missions: 3, Drones: 1}) {
		t.Fatalf("counts %+v", c)
	}
	if s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".carte-resume"))); s != "Affichés : 3 propositions, 4 capteurs, 3 zones et vols, 1 drone en vol." {
		t.Errorf("summary %q", s)
	}
	// The two sensors of the port share its position: one cluster of 2.
	testenv.Eventually(t, 5*time.Second, func() bool {
		return count(".leaflet-marker-icon.proposition") == 3 && count(".leaflet-marker-icon.capteur") == 2 && count(".marker-cluster") == 1 &&
			count(".leaflet-marker-icon.drone") == 1 && count("path.zone") == 2 && count("path.vol") == 1
	}, "markers: %d proposals, %d sensors, %d clusters, %d drones, %d areas, %d tracks", count(".proposition"), count(".leaflet-marker-icon.capteur"),
		count(".marker-cluster"), count(".leaflet-marker-icon.drone"), count("path.zone"), count("path.vol"))
	// The base map's communes are drawn (no tile server configured).
	testenv.Eventually(t, 5*time.Second, func() bool { return count("path.fond-commune") == 163 }, "base map: %d communes", count("path.fond-commune"))
	// Every marker is named, not only coloured.
	if n := count(".leaflet-marker-icon.repere:not([aria-label])"); n != 0 {
		t.Errorf("%d markers without a name", n)
	}

	// A popup from the keyboard, with the proposal's title as text (the
	// <b> of the fixture's title is not markup) and its link.
	text, err := maptest.PopupFromKeyboard(ctx, ".leaflet-marker-icon.proposition")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ToLower(text), "proposition") || !strings.Contains(text, "Statut :") || !strings.Contains(text, "<b>gras</b>") {
		t.Errorf("popup %q", text)
	}
	if n := count(".leaflet-popup-content a[href^='/idees/']"); n != 1 {
		t.Errorf("popup links: %d", n)
	}
	if n := count(".leaflet-popup-content b"); n != 0 {
		t.Error("a title became markup")
	}

	// Switching the sensors off hides them and their cluster; the URL says so.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("couche-sensors"))); err != nil {
		t.Fatal(err)
	}
	if c := counts(); c.Sensors != 0 || c.Proposals != 3 || count(".leaflet-marker-icon.capteur")+count(".marker-cluster") != 0 {
		t.Errorf("sensors off: %+v, %d sensor markers", c, count(".leaflet-marker-icon.capteur"))
	}
	if h, _ := maptest.Hash(ctx); !strings.Contains(h, "couches=proposals,missions,drones") {
		t.Errorf("hash %q", h)
	}
	// A theme filter keeps its proposals only.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("filtre-theme"), "securite"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("filtre-theme").dispatchEvent(new Event("change"))`)); err != nil {
		t.Fatal(err)
	}
	if c := counts(); c.Proposals != 1 || count(".leaflet-marker-icon.proposition") != 1 {
		t.Errorf("theme filter: %+v", c)
	}
	h, _ := maptest.Hash(ctx)
	if !strings.Contains(h, "theme=securite") || !strings.Contains(h, "v=43.75000,7.25000,10") {
		t.Errorf("hash %q", h)
	}

	// The link restores the view, the layers and the filters.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#v=43.70000,7.28000,12&couches=proposals,missions&theme=environnement-risques&statut=published"),
		chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	if err := maptest.WaitReady(ctx, carte); err != nil {
		t.Fatal(err)
	}
	if c := counts(); c != (maptest.Counts{Proposals: 1, Missions: 3}) {
		t.Errorf("restored counts %+v", c)
	}
	view, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[carte.map.getCenter().lat, carte.map.getCenter().lng, carte.map.getZoom()]`))
	if err != nil || len(view) != 3 || math.Abs(view[0]-43.70) > 1e-4 || math.Abs(view[1]-7.28) > 1e-4 || view[2] != 12 {
		t.Errorf("restored view %v %v", view, err)
	}
	checked, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](`[document.getElementById("couche-sensors").checked, document.getElementById("filtre-theme").value, document.getElementById("filtre-statut").value]`))
	if err != nil || fmt.Sprint(checked) != "[false environnement-risques published]" {
		t.Errorf("restored controls %v %v", checked, err)
	}
	// Moving the map rewrites the link.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`void carte.map.setView([43.8, 7.1], 11, {animate: false})`)); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 3*time.Second, func() bool { h, _ := maptest.Hash(ctx); return strings.HasPrefix(h, "#v=43.80000,7.10000,11&") }, "hash after moving")
	// A hostile fragment is ignored, not obeyed.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#v=999,7,4&couches=%3Cscript%3E&theme=%22%3E%3Cimg"), chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	if err := maptest.WaitReady(ctx, carte); err != nil {
		t.Fatal(err)
	}
	if c := counts(); c.Proposals != 0 || c.Sensors != 0 || c.Missions != 0 { // no layer named: none shown, unknown theme: none
		t.Errorf("hostile fragment: %+v", c)
	}

	// The drone moves when a fix's two readings have arrived; an older fix
	// and junk leave it where it is.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	if err := maptest.WaitReady(ctx, carte); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-series:
		if !strings.Contains(s, "nice-port/drone-1/latitude") || !strings.Contains(s, "nice-port/drone-1/longitude") {
			t.Errorf("live series %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("map.js did not open the live feed")
	}
	// Drain the subscriptions of the pages navigated away from.
	for len(series) > 0 {
		<-series
	}
	where := func() [2]float64 {
		lat, lon, err := maptest.DronePosition(ctx, "nice-port/drone-1")
		if err != nil {
			t.Fatal(err)
		}
		return [2]float64{lat, lon}
	}
	if p := where(); p != [2]float64{43.70, 7.30} {
		t.Fatalf("drone at %v", p)
	}
	send := func(q string, v float64, at string) {
		events <- fmt.Sprintf(`{"site":"nice-port","device":"drone-1","quantity":%q,"unit":"lat","time":%q,"value":%g,"mission":"m1"}`, q, at, v)
	}
	send("latitude", 43.71, "2026-12-06T10:00:00Z")
	time.Sleep(300 * time.Millisecond) // half a fix: it must not move yet
	if p := where(); p != [2]float64{43.70, 7.30} {
		t.Errorf("moved on half a fix: %v", p)
	}
	send("longitude", 7.31, "2026-12-06T10:00:00Z")
	testenv.Eventually(t, 5*time.Second, func() bool { return where() == [2]float64{43.71, 7.31} }, "drone at %v, want 43.71, 7.31", where())
	events <- `not json`
	events <- `{"site":"nice-port","device":"drone-1","quantity":"latitude","time":"2026-12-06T10:00:01Z","value":"43.9"}`
	send("latitude", 43.5, "2026-12-06T09:00:00Z") // older
	send("longitude", 7.0, "2026-12-06T09:00:00Z")
	send("latitude", 95, "2026-12-06T10:00:05Z") // out of range
	send("longitude", 7.0, "2026-12-06T10:00:05Z")
	send("latitude", 43.72, "2026-12-06T10:00:10Z")
	send("longitude", 7.32, "2026-12-06T10:00:10Z")
	testenv.Eventually(t, 5*time.Second, func() bool { return where() == [2]float64{43.72, 7.32} }, "drone at %v, want 43.72, 7.32", where())

	// The port's cluster is reachable by keyboard, named, and Enter spreads
	// it (at most twice: zoom in, then spiderfy at the last zoom).
	if n := count(".marker-cluster[tabindex='0'] .hors-ecran"); n != 1 {
		t.Errorf("%d named, focusable clusters", n)
	}
	for range 2 {
		if count(".leaflet-marker-icon.capteur") == 4 {
			break
		}
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`void document.querySelector(".marker-cluster").focus()`), chromedp.KeyEvent(kb.Enter)); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 5*time.Second, func() bool { return count(".leaflet-marker-icon.capteur") > 2 || count(".marker-cluster") == 1 }, "cluster")
		time.Sleep(500 * time.Millisecond) // the zoom animation
	}
	if n := count(".leaflet-marker-icon.capteur"); n < 3 {
		t.Errorf("after Enter on the cluster: %d sensor markers", n)
	}
	if _, err := maptest.PopupFromKeyboard(ctx, ".leaflet-marker-icon.capteur.atmo-2"); err != nil {
		t.Errorf("the port's air sensor: %v", err)
	}

	if v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.cspViolations`)); err != nil || len(v) != 0 {
		t.Errorf("CSP violations %v %v", v, err)
	}
	// axe reads colours as shown: wait for the popup's fade-in to end.
	testenv.Eventually(t, 3*time.Second, func() bool {
		op, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".leaflet-popup")).opacity`))
		return op == "1"
	}, "popup still fading")
	res, err := axe.Run(ctx, axe.WCAG21AA)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) > 0 {
		t.Errorf("axe-core %s:\n%s", res.TestEngine.Version, axe.Report(res))
	}
}
