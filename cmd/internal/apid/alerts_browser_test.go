package apid

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/cmd/internal/alertsd"
	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/internal/browsertest"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
	"github.com/cd06/smartdeal/internal/testenv/axe"
	"github.com/cd06/smartdeal/senml"
)

// runEvaluator runs the real alert evaluator (alertsd's App, as cmd/alerts
// and the all-in-one do) on the API's database, broker and InfluxDB until
// the test ends.
func runEvaluator(t *testing.T, api Config) *alertsd.App {
	t.Helper()
	cfg := alertsd.DefaultConfig()
	cfg.DB = api.DB
	cfg.MQTT.URL = api.MQTT.URL
	cfg.MQTT.ClientID = "alerts-" + civic.NewID()[:8]
	cfg.Influx.URL, cfg.Influx.Bucket = api.Influx.URL, api.Influx.Bucket
	cfg.Alerts.RulesRefresh = 200 * time.Millisecond
	cfg.Alerts.Poll = 100 * time.Millisecond
	cfg.Alerts.Sweep = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	logs := new(testenv.LogBuffer)
	ev, err := alertsd.New(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)), nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ev.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("evaluator Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("evaluator did not stop; log:\n%s", logs.String())
		}
	})
	testenv.Eventually(t, 20*time.Second, func() bool { return ev.BrokerReady(ctx) == nil }, "evaluator not connected; log:\n%s", logs)
	return ev
}

// TestBrowserRiskManager is the risk manager's story end to end, with real
// Mosquitto, InfluxDB, SQLite, Chromium and the real evaluator: signing in
// lands on the dashboard; a rule is created from its page; readings that
// cross it, published over MQTT, make the alert appear on the open
// dashboard without reloading; it is acknowledged with a comment from the
// dashboard; readings below its end threshold clear it, and the dashboard
// says so, again without reloading. The dashboard passes axe, and works
// with JavaScript off.
func TestBrowserRiskManager(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	cfg := DefaultConfig()
	cfg.DB = filepath.Join(t.TempDir(), "api.db")
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Influx.URL = in.URL
	cfg.Influx.Bucket = db + "/autogen"
	cfg.MQTT.URL = broker.URL()
	cfg.Admin = AdminConfig{Email: "admin@departement06.fr", Password: "administrateur-2026"}
	ctx := context.Background()
	base, app, logs := runApp(t, cfg)
	testenv.Eventually(t, 20*time.Second, func() bool { return app.Ready(ctx) == nil },
		"app not ready: %v; log:\n%s", lazy(func() string { return fmt.Sprint(app.Ready(ctx)) }), logs)
	runEvaluator(t, cfg)

	var tok struct {
		Token string `json:"token"`
	}
	httpJSON(t, "POST", base+"/api/v1/auth/signin", "", map[string]any{"email": "admin@departement06.fr", "password": "administrateur-2026"}, 200, &tok)
	httpJSON(t, "POST", base+"/api/v1/sites", tok.Token, map[string]any{"id": "var-estuaire", "name": "Estuaire du Var", "location": map[string]float64{"lat": 43.66, "lon": 7.2}}, 201, nil)
	httpJSON(t, "POST", base+"/api/v1/devices", tok.Token, map[string]any{"id": "level-1", "site_id": "var-estuaire", "kind": "sensor", "model": "Sonde de niveau",
		"quantities": []map[string]string{{"quantity": "water_level", "unit": "m"}}}, 201, nil)
	const email, password = "gestionnaire@departement06.fr", "un mot de passe solide"
	hash, err := api.DefaultPasswordParams().Hash(password)
	if err != nil {
		t.Fatal(err)
	}
	verified := time.Now().UTC()
	if err := app.Store().CreateUser(ctx, &civic.User{Email: email, Name: "Camille Risques", Role: civic.RoleRiskManager, PasswordHash: hash, EmailVerified: &verified}); err != nil {
		t.Fatal(err)
	}

	page := browsertest.New(t)
	fail := func(what string, err error) {
		t.Helper()
		body, _ := chromedp.Run(page, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("%s: %v\npage: %.1500s\nlog:\n%s", what, err, body, logs.String())
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(page, actions...); err != nil {
			fail(what, err)
		}
	}
	// poll evaluates js until it is true, across the page's navigations.
	poll := func(what, js string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		var err error
		for time.Now().Before(deadline) {
			var ok bool
			if ok, err = chromedp.Run(page, chromedp.Evaluate[bool](js)); err == nil && ok {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		fail(what, fmt.Errorf("still false (last error %v)", err))
	}
	// Sign in with the page's form (its script signs in through the API).
	run("sign in", chromedp.Navigate(base+"/connexion"), chromedp.WaitVisible(chromedp.CSS("#courriel")),
		chromedp.SendKeys(chromedp.CSS("#courriel"), email), chromedp.SendKeys(chromedp.CSS("#mot-de-passe"), password),
		chromedp.Submit(chromedp.CSS("#mot-de-passe")))
	poll("the dashboard after sign-in", `location.pathname === "/tableau-de-bord" && !!document.querySelector("#nav-tableau-de-bord")`)

	// A rule from its page.
	run("rule form", chromedp.Click(chromedp.CSS("#bloc-alertes a[href='/alertes/regles']")), chromedp.WaitVisible(chromedp.CSS("#nouvelle-regle")),
		chromedp.Click(chromedp.CSS("#nouvelle-regle")), chromedp.WaitVisible(chromedp.CSS("#regle-nom")),
		chromedp.SendKeys(chromedp.CSS("#regle-nom"), "Crue du Var"), chromedp.SendKeys(chromedp.CSS("#regle-site"), "var-estuaire"),
		chromedp.SendKeys(chromedp.CSS("#regle-grandeur"), "water_level"), chromedp.SendKeys(chromedp.CSS("#seuil-orange"), "2,5"),
		chromedp.SendKeys(chromedp.CSS("#fin-orange"), "2,3"), chromedp.Click(chromedp.CSS("#enregistrer-regle")))
	poll("the rule listed", `location.pathname === "/alertes/regles" && document.querySelector("#regles").textContent.includes("Crue du Var")`)

	// The dashboard, open and live; a marker tells a reload from an update.
	run("dashboard", chromedp.Navigate(base+"/tableau-de-bord"), chromedp.WaitVisible(chromedp.CSS("#aucune-alerte")))
	poll("live updates on", `document.getElementById("direct-alertes-etat").textContent.startsWith("Mises à jour en direct : actives")`)
	run("opt in to announcements", chromedp.Click(chromedp.CSS("#alertes-annonces")),
		chromedp.Evaluate[chromedp.Void](`window.pasRecharge = true`))

	pub := mqtttest.Client(t, broker.URL(), "gateway-var")
	send := func(v float64) {
		t.Helper()
		payload, err := senml.EncodeReadings("var-estuaire", "level-1", []smartdeal.Reading{{Site: "var-estuaire", Device: "level-1", Quantity: "water_level", Unit: "m",
			Time: time.Now().UTC(), Kind: smartdeal.KindNumber, Number: v}})
		if err != nil {
			t.Fatal(err)
		}
		mqtttest.Publish(t, pub, smartdeal.Topics{}.Telemetry("var-estuaire", "level-1"), payload)
		// What the ingest (not run here) writes of it, for the dashboard's latest values.
		resp, err := http.Post(in.URL+"/api/v2/write?bucket="+db+"/autogen&precision=ns", "text/plain",
			strings.NewReader(fmt.Sprintf("telemetry,site=var-estuaire,device=level-1,quantity=water_level,unit=m value=%g %d", v, time.Now().UnixNano())))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("influx write: %s", resp.Status)
		}
	}
	send(2.8)
	poll("the alert on the dashboard without reload", `window.pasRecharge === true && !!document.querySelector("#alertes-en-cours") &&
		document.querySelector("#alertes-en-cours").textContent.includes("vigilance orange") &&
		document.querySelector("#site-var-estuaire").textContent.includes("vigilance orange")`)
	poll("the change announced", `document.getElementById("alertes-annonce").textContent.includes("Nouvelle alerte : vigilance orange, Crue du Var")`)
	r, err := axe.Run(page, axe.WCAG21AA)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Violations) > 0 {
		t.Errorf("dashboard with an alert: %s", axe.Report(r))
	}

	// Acknowledged from the dashboard, with a comment.
	run("acknowledge", chromedp.SendKeys(chromedp.CSS("#alertes-en-cours input[name=comment]"), "Équipe envoyée sur place"),
		chromedp.Click(chromedp.CSS("#alertes-en-cours button[type=submit]")))
	poll("acknowledged", `location.pathname === "/tableau-de-bord" && document.querySelector("#alertes-en-cours").textContent.includes("prise en compte") &&
		document.querySelector("#alertes-en-cours").textContent.includes("Équipe envoyée sur place")`)
	poll("live again", `document.getElementById("direct-alertes-etat").textContent.startsWith("Mises à jour en direct : actives")`)
	run("mark", chromedp.Evaluate[chromedp.Void](`window.pasRecharge = true`))

	// Back below its end threshold: cleared, shown without reload.
	send(2.1)
	poll("cleared without reload", `window.pasRecharge === true && !!document.querySelector("#aucune-alerte") &&
		document.querySelector("#bloc-recentes").textContent.includes("terminée") && document.querySelector("#site-var-estuaire").textContent.includes("normal") && document.querySelector("#site-var-estuaire").textContent.includes("2,1 m")`)
	if r, err = axe.Run(page, axe.WCAG21AA); err != nil {
		t.Fatal(err)
	} else if len(r.Violations) > 0 {
		t.Errorf("dashboard after the alert: %s", axe.Report(r))
	}

	// Without JavaScript the same dashboard, by reload.
	noJS := browsertest.New(t)
	if err := chromedp.Do(noJS, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(noJS, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(noJS, chromedp.Navigate(base+"/connexion?retour=/idees"), chromedp.WaitVisible(chromedp.CSS("#courriel")),
		chromedp.SendKeys(chromedp.CSS("#courriel"), email), chromedp.SendKeys(chromedp.CSS("#mot-de-passe"), password),
		chromedp.Submit(chromedp.CSS("#mot-de-passe")), chromedp.WaitVisible(chromedp.CSS("#bloc-sites"))); err != nil {
		t.Fatalf("no-JS dashboard: %v", err)
	}
	text, err := chromedp.Run(noJS, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Tableau de bord des risques", "Vous êtes connecté·e.", "Estuaire du Var", "normal", "Aucune alerte en cours", "Crue du Var",
		"Mises à jour en direct : inactives (rechargez la page"} {
		if !strings.Contains(text, want) {
			t.Errorf("no-JS dashboard lacks %q:\n%s", want, text)
		}
	}
}
