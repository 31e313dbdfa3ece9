package apid

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal/cmd/internal/bridged"
	"github.com/cd06/smartdeal/cmd/internal/ingestd"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/firmware-bridge/bridgetest"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
	"github.com/cd06/smartdeal/internal/browsertest"
	"github.com/cd06/smartdeal/internal/testenv"
	"github.com/cd06/smartdeal/internal/testenv/axe"
)

// TestBrowserFieldOps is issue 13's field mission end to end, every part
// real: Mosquitto, InfluxDB, SQLite, the ingest, the API, the MAVLink
// bridge with a simulated drone (dronesim over UDP) and Chromium. A risk
// manager plans a mission by clicking its area on the map; its agent
// starts it (the bridge gets the retained mission), sees the simulated
// drone move on the page with its altitude, completes it, uploads its
// flight log (dronesim.WriteTlog) from the page and sees the flight
// summary. axe-core checks the live page.
func TestBrowserFieldOps(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	var logs testenv.LogBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run := func(name string, f func(context.Context) error) {
		done := make(chan error, 1)
		go func() { done <- f(ctx) }()
		t.Cleanup(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("%s did not stop", name)
			}
		})
	}

	// The ingest: telemetry (live and uploaded) into InfluxDB.
	icfg := ingestd.DefaultConfig()
	icfg.MQTT.URL, icfg.MQTT.ClientID = broker.URL(), "ingest-fieldops"
	icfg.Influx.URL, icfg.Influx.Bucket = in.URL, db+"/autogen"
	icfg.Ingest.FlushInterval = 100 * time.Millisecond
	ing, err := ingestd.New(icfg, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	run("ingest", ing.Run)

	// The API with the tlog importer.
	cfg := DefaultConfig()
	cfg.DB = filepath.Join(t.TempDir(), "api.db")
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Influx.URL, cfg.Influx.Bucket = in.URL, db+"/autogen"
	cfg.MQTT.URL = broker.URL()
	cfg.Admin = AdminConfig{Email: "admin@departement06.fr", Password: "administrateur-2026"}
	app, err := New(ctx, cfg, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	run("api", app.Run)
	testenv.Eventually(t, 20*time.Second, func() bool { return app.Ready(ctx) == nil && ing.BrokerReady(ctx) == nil }, "not ready; log:\n%s", &logs)
	base := "http://" + app.Addr()

	// The bridge, listening for the simulated drone (system 7 = drone-1).
	port := bridgetest.FreeUDPPort(t)
	bcfg := bridged.DefaultConfig()
	bcfg.Site = "var-estuaire"
	bcfg.MQTT.URL = broker.URL()
	bcfg.Spool.Dir = t.TempDir() + "/spool"
	bcfg.MAVLink.Endpoints = []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)}
	bcfg.MAVLink.Devices = map[string]string{"7": "drone-1"}
	bcfg.MAVLink.Rates = map[string]string{"position": "200ms", "battery": "1s"}
	bridge, err := bridged.New(bcfg, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	run("bridge", bridge.Run)
	testenv.Eventually(t, 10*time.Second, func() bool { return bridge.Ready(ctx) == nil }, "bridge not ready")

	// The registry and the crew.
	var tok struct {
		Token string `json:"token"`
	}
	httpJSON(t, "POST", base+"/api/v1/auth/signin", "", map[string]any{"email": cfg.Admin.Email, "password": cfg.Admin.Password}, 200, &tok)
	admin := tok.Token
	httpJSON(t, "POST", base+"/api/v1/sites", admin, map[string]any{"id": "var-estuaire", "name": "Estuaire du Var", "location": map[string]float64{"lat": 43.66, "lon": 7.2}}, 201, nil)
	httpJSON(t, "POST", base+"/api/v1/devices", admin, map[string]any{"id": "drone-1", "site_id": "var-estuaire", "kind": "drone", "model": "dronesim"}, 201, nil)
	const password = "mot de passe de terrain"
	account := func(email, role string) string {
		var u map[string]any
		httpJSON(t, "POST", base+"/api/v1/auth/signup", "", map[string]any{"email": email, "name": role, "password": password}, 201, &u)
		httpJSON(t, "PUT", base+"/api/v1/users/"+u["id"].(string)+"/role", admin, map[string]any{"role": role}, 204, nil)
		return u["id"].(string)
	}
	account("risques@departement06.fr", "risk_manager")
	pilotID := account("pilote@departement06.fr", "agent")

	bctx := browsertest.New(t)
	signIn := func(email string) {
		t.Helper()
		if _, err := chromedp.Call(bctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(map[string]any{"email": email, "password": password, "cookie": true})
		if err := chromedp.Do(bctx, chromedp.Navigate(base+"/connexion")); err != nil {
			t.Fatal(err)
		}
		st, err := chromedp.Run(bctx, chromedp.Evaluate[int](fmt.Sprintf(`fetch("/api/v1/auth/signin", {method: "POST", headers: {"Content-Type": "application/json"}, body: %q}).then(r => r.status)`, body), chromedp.EvalAwaitPromise))
		if err != nil || st != 200 {
			t.Fatalf("sign-in of %s: %d %v", email, st, err)
		}
	}
	js := func(what, expr string, d time.Duration) {
		t.Helper()
		testenv.Eventually(t, d, func() bool {
			ok, err := chromedp.Run(bctx, chromedp.Evaluate[bool](expr))
			return err == nil && ok
		}, "%s: never true: %s; log:\n%s", what, expr, &logs)
	}
	submit := func(css string) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(css)))); err != nil {
			t.Fatalf("submit %s: %v", css, err)
		}
	}
	str := func(expr string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return s
	}

	// Planned on the map, around the simulator's survey area.
	signIn("risques@departement06.fr")
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/missions/nouvelle"), chromedp.WaitVisible(chromedp.CSS(`#carte-zone[data-pret="oui"]`)),
		chromedp.ScrollIntoView(chromedp.ID("carte-zone"))); err != nil {
		t.Fatal(err)
	}
	rect, err := chromedp.Run(bctx, chromedp.Evaluate[[]float64](`(() => { const r = document.getElementById("carte-zone").getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`))
	if err != nil {
		t.Fatal(err)
	}
	cx, cy := rect[0]+rect[2]/2, rect[1]+rect[3]/2
	for _, d := range [][2]float64{{-80, -60}, {80, -60}, {80, 60}, {-80, 60}} {
		if err := chromedp.Do(bctx, chromedp.MouseClickXY(cx+d[0], cy+d[1])); err != nil {
			t.Fatal(err)
		}
	}
	js("four vertices", `document.getElementById("carte-zone").dataset.sommets === "4"`, 5*time.Second)
	now := time.Now()
	if err := chromedp.Do(bctx, chromedp.SendKeys(chromedp.ID("titre"), "Relevé de l'estuaire"), chromedp.SetValue(chromedp.ID("agent"), pilotID), // the plan form lists the agents
		chromedp.SetValue(chromedp.ID("type"), "flood_survey"), chromedp.SetValue(chromedp.ID("drone"), "drone-1"),
		chromedp.SetValue(chromedp.ID("debut"), now.Add(-5*time.Minute).In(fr.Paris).Format("2006-01-02T15:04")),
		chromedp.SetValue(chromedp.ID("fin"), now.Add(time.Hour).In(fr.Paris).Format("2006-01-02T15:04"))); err != nil {
		t.Fatal(err)
	}
	submit("#planifier")
	loc, _, _ := strings.Cut(str(`location.href`), "#")
	id := strings.TrimPrefix(loc, base+"/missions/")
	if id == loc || strings.Contains(id, "/") {
		t.Fatalf("after planning at %s: %s", loc, str(`document.querySelector("main").innerText`))
	}

	// Started by its agent: the bridge tags the drone's telemetry with it.
	signIn("pilote@departement06.fr")
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/missions/"+id+"/etape?action=demarrer"), chromedp.WaitVisible(chromedp.ID("confirmer"))); err != nil {
		t.Fatal(err)
	}
	submit("#confirmer")
	js("live view", `document.getElementById("suivi") && document.getElementById("suivi").dataset.pret === "oui" && document.getElementById("carte-mission").dataset.drones === "1"`, 10*time.Second)
	first := str(`document.querySelector('[data-drone="var-estuaire/drone-1"]').dataset.lat`)
	bridgetest.Fly(t, dronesim.Fleet{N: 1, FirstID: 7, Endpoint: fmt.Sprintf("udp-client:127.0.0.1:%d", port), TimeScale: 5,
		Vehicle: dronesim.Config{ArmAfter: time.Second, Speed: 15, Altitude: 30}})
	js("the drone moves on the page", `document.querySelector('[data-drone="var-estuaire/drone-1"]').dataset.lat !== "`+first+`" &&
		document.getElementById("direct-altitude").textContent.includes("m") && document.getElementById("direct-mode").textContent !== "—"`, 40*time.Second)
	js("moves again", `(() => { const e = document.querySelector('[data-drone="var-estuaire/drone-1"]'); const was = window.__lat; window.__lat = e.dataset.lat; return was !== undefined && was !== e.dataset.lat; })()`, 20*time.Second)
	if r, err := axe.Run(bctx, axe.WCAG21AA); err != nil {
		t.Fatal(err)
	} else if len(r.Violations) > 0 {
		t.Errorf("live mission page: %d accessibility violations:\n%s", len(r.Violations), axe.Report(r))
	}
	if s := str(`document.getElementById("suivi").dataset.signal || "ok"`); s != "ok" {
		t.Errorf("signal %s while the drone flies", s)
	}

	// Completed, then the log uploaded from the page.
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/missions/"+id+"/etape?action=terminer"), chromedp.WaitVisible(chromedp.ID("confirmer"))); err != nil {
		t.Fatal(err)
	}
	submit("#confirmer")
	var m struct {
		Started time.Time `json:"started"`
		Status  string    `json:"status"`
	}
	httpJSON(t, "GET", base+"/api/v1/missions/"+id, "", nil, 200, &m)
	if m.Status != "completed" {
		t.Fatalf("status %s", m.Status)
	}
	sim, err := dronesim.NewSim(dronesim.Config{SystemID: 1, GPSNoise: -1}, m.Started.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := dronesim.WriteTlog(&buf, sim, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "vol.tlog")
	if err := os.WriteFile(logFile, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/missions/"+id+"/journal"), chromedp.WaitVisible(chromedp.ID("fichier")),
		chromedp.SetUploadFiles(chromedp.ID("fichier"), []string{logFile})); err != nil {
		t.Fatal(err)
	}
	submit("#deposer")
	if res := str(`(document.getElementById("resultat") || document.querySelector("main")).innerText`); !strings.Contains(res, "Journal importé") {
		t.Fatalf("upload: %s", res)
	}
	// The summary, once the ingest has stored the flight.
	testenv.Eventually(t, 30*time.Second, func() bool {
		if err := chromedp.Do(bctx, chromedp.Navigate(base+"/missions/"+id)); err != nil {
			return false
		}
		s, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(document.getElementById("resume-vol") || {innerText: ""}).innerText`))
		return err == nil && strings.Contains(s, "km") && !strings.Contains(s, "0\u00a0km\n") && !strings.Contains(s, "Altitude maximale\tnon transmise")
	}, "no flight summary on the mission page; log:\n%s", &logs)
}
