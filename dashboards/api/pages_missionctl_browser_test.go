package api_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/firmware-bridge/tlog"
	"github.com/cd06/smartdeal/influxschema"
	"github.com/cd06/smartdeal/internal/testenv"
	"github.com/cd06/smartdeal/internal/testenv/axe"
	"github.com/cd06/smartdeal/senml"
)

const fieldPassword = "un mot de passe de terrain"

// fieldEnv is the real API on 127.0.0.1 over SQLite and a fresh InfluxDB
// database, with the tlog importer, a drone, a risk manager and an agent
// who sign in with fieldPassword.
type fieldEnv struct {
	*env
	base, influx, db string
	rm, agent        *civic.User
}

func newFieldEnv(t *testing.T) *fieldEnv {
	meas, in, db := freshInflux(t)
	e := newEnv(t, sqltest.SQLite(t), meas, api.Config{}, func(d *api.Deps) { d.FlightLogs = tlogImporter{} })
	e.field()
	f := &fieldEnv{env: e, influx: in.URL, db: db}
	f.rm = e.account(civic.RoleRiskManager, address("risques"), fieldPassword)
	f.agent = e.account(civic.RoleAgent, address("pilote"), fieldPassword)
	f.base = serve(t, e)
	return f
}

// ingest does what the ingest service does with the packs the API
// published (flight-log uploads) on the broker: it writes their readings
// to InfluxDB with the platform's schema.
func (f *fieldEnv) ingest(t *testing.T) int {
	t.Helper()
	var lp []byte
	n := 0
	for _, m := range f.pub.all() {
		if !strings.HasSuffix(m.Topic, "/telemetry") {
			continue
		}
		rs, err := senml.Readings("var-estuaire", "drone-1", m.Payload, time.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		lp = influxschema.AppendPoints(lp, rs)
		n += len(rs)
	}
	resp, err := http.Post(f.influx+"/api/v2/write?bucket="+f.db+"/autogen&precision=ns", "text/plain", bytes.NewReader(lp))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("write %d readings: %s", n, resp.Status)
	}
	return n
}

// simReadings are the readings of a simulated flight of d from from, as
// the bridge publishes them for var-estuaire/drone-1 (every message).
func simReadings(t *testing.T, from time.Time, d time.Duration) []smartdeal.Reading {
	t.Helper()
	rs, _, err := tlog.Import(context.Background(), bytes.NewReader(simLog(t, from, d)), tlog.Options{Site: "var-estuaire"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		rs[i].Site, rs[i].Device = "var-estuaire", "drone-1"
	}
	slices.SortStableFunc(rs, func(a, b smartdeal.Reading) int { return a.Time.Compare(b.Time) })
	return rs
}

func axeClean(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	r, err := axe.Run(ctx, axe.WCAG21AA)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(r.Violations) > 0 {
		t.Errorf("%s: %d accessibility violations:\n%s", what, len(r.Violations), axe.Report(r))
	}
}

func waitJS(t *testing.T, ctx context.Context, what, js string, d time.Duration) {
	t.Helper()
	testenv.Eventually(t, d, func() bool {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		return err == nil && ok
	}, "%s: never true: %s", what, js)
}

// TestBrowserFieldMission: with JavaScript, a risk manager plans a mission
// by clicking its area on the map; its agent starts it (confirmation
// page), watches the simulated drone move on the live map with its
// altitude, speed and battery, sees "signal perdu" when the drone goes
// quiet, completes it, uploads the flight log (dronesim.WriteTlog) from
// the page and sees the result, then the flight summary. axe-core checks
// every page on the way.
func TestBrowserFieldMission(t *testing.T) {
	f := newFieldEnv(t)
	ctx := browser(t)
	a11ySignIn(t, ctx, f.base, f.rm.Email, fieldPassword)
	if err := chromedp.Do(ctx, chromedp.Navigate(f.base+"/missions/nouvelle"), chromedp.WaitVisible(chromedp.CSS(`#carte-zone[data-pret="oui"]`))); err != nil {
		t.Fatal(err)
	}
	axeClean(t, ctx, "plan form")
	// Four clicks on the map: a quadrilateral around its centre.
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.ID("carte-zone"))); err != nil {
		t.Fatal(err)
	}
	rect := eval[[]float64](t, ctx, `(() => { const r = document.getElementById("carte-zone").getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
	cx, cy := rect[0]+rect[2]/2, rect[1]+rect[3]/2
	for _, d := range [][2]float64{{-60, -40}, {60, -40}, {60, 40}, {-60, 40}} {
		if err := chromedp.Do(ctx, chromedp.MouseClickXY(cx+d[0], cy+d[1])); err != nil {
			t.Fatal(err)
		}
	}
	waitJS(t, ctx, "four vertices", `document.getElementById("carte-zone").dataset.sommets === "4"`, 5*time.Second)
	// From the keyboard: remove the last vertex, then add the map's centre.
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.ID("dessin-annuler")), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "three vertices", `document.getElementById("carte-zone").dataset.sommets === "3"`, 5*time.Second)
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.ID("carte-zone")), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown),
		chromedp.Focus(chromedp.ID("dessin-centre")), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "four vertices again", `document.getElementById("carte-zone").dataset.sommets === "4"`, 5*time.Second)
	area := eval[string](t, ctx, `document.getElementById("zone-dessinee").value`)
	if !strings.Contains(area, `"Polygon"`) || strings.Count(area, "[") != 7 { // [[ + 5 positions
		t.Fatalf("drawn area %s", area)
	}
	if s := text(t, ctx, "#dessin-etat"); !strings.Contains(s, "4 sommets") {
		t.Errorf("drawing status %q", s)
	}
	now := time.Now()
	typeInto(t, ctx, "titre", "Surveillance du littoral")
	for id, v := range map[string]string{"type": "coastline", "drone": "drone-1",
		"debut": now.Add(-10 * time.Minute).In(fr.Paris).Format("2006-01-02T15:04"), "fin": now.Add(time.Hour).In(fr.Paris).Format("2006-01-02T15:04")} {
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID(id), v)); err != nil {
			t.Fatal(err)
		}
	}
	// the agent from the list (a select: the value is the account id)
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("agent"), f.agent.ID)); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#planifier")
	loc := location(t, ctx)
	id := strings.TrimPrefix(loc, f.base+"/missions/")
	if !missionLocation.MatchString("/missions/" + id) {
		t.Fatalf("after planning: at %s:\n%s", loc, text(t, ctx, "main"))
	}
	waitJS(t, ctx, "mission map", `document.getElementById("carte-mission").dataset.pret === "oui" && document.getElementById("carte-mission").dataset.missions === "1"`, 10*time.Second)
	if s := text(t, ctx, "#confirmation"); !strings.Contains(s, "planifiée") {
		t.Errorf("confirmation %q", s)
	}
	missionLegend(t, ctx, "planned", []string{"Zone survolée"}, []string{"Vol d'un drone", "Drone en vol"})
	axeClean(t, ctx, "planned mission")
	if err := chromedp.Do(ctx, chromedp.Navigate(f.base+"/missions"), chromedp.WaitVisible(chromedp.ID("mission-"+id))); err != nil {
		t.Fatal(err)
	}

	// The agent starts it.
	a11ySignIn(t, ctx, f.base, f.agent.Email, fieldPassword)
	if err := chromedp.Do(ctx, chromedp.Navigate(f.base+"/missions/"+id), chromedp.WaitVisible(chromedp.ID("etape-demarrer"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("etape-demarrer")), chromedp.WaitVisible(chromedp.ID("confirmer"))); err != nil {
		t.Fatal(err)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#avertissement").length`); n != 0 {
		t.Error("a warning although the window is open")
	}
	axeClean(t, ctx, "start confirmation")
	submit(t, ctx, "#confirmer")
	waitJS(t, ctx, "live panel", `document.getElementById("suivi") && document.getElementById("suivi").dataset.pret === "oui" && document.getElementById("carte-mission").dataset.drones === "1"`, 10*time.Second)
	waitLiveClients(t, &browserEnv{env: f.env}, "2") // the map's drone and the panel
	missionLegend(t, ctx, "in flight", []string{"Zone survolée", "Drone en vol"}, []string{"Vol d'un drone"})
	axeClean(t, ctx, "mission in flight")

	// The simulated drone flies: its readings reach the live feed over 3 s.
	var m civic.Mission
	f.call("GET", "/api/v1/missions/"+id, "", nil, 200, &m)
	rs := simReadings(t, time.Now(), 20*time.Second)
	start := eval[string](t, ctx, `document.querySelector('[data-drone="var-estuaire/drone-1"]').dataset.lat`)
	for i := 0; i < len(rs); i += len(rs)/10 + 1 {
		f.srv.Hub().Publish(rs[i:min(i+len(rs)/10+1, len(rs))])
		time.Sleep(300 * time.Millisecond)
	}
	waitJS(t, ctx, "drone moved", `document.querySelector('[data-drone="var-estuaire/drone-1"]').dataset.lat !== "`+start+`"`, 5*time.Second)
	waitJS(t, ctx, "values", `document.getElementById("direct-position").textContent !== "—" && document.getElementById("direct-altitude").textContent.includes("m") &&
		document.getElementById("direct-batterie").textContent.includes("%") && document.getElementById("direct-vitesse").textContent.includes("km/h")`, 5*time.Second)
	if n := eval[int](t, ctx, `document.querySelector("path.trace-directe") ? document.querySelector("path.trace-directe").getAttribute("d").split("L").length : 0`); n < 2 { // Leaflet simplifies points closer than a pixel or so
		t.Errorf("trail of %d points", n)
	}
	// The bridge's events: a status text, then the link lost (said at
	// once, before the page's own 10 s timer).
	var topics smartdeal.Topics
	evTopic := topics.Device("var-estuaire", "drone-1", smartdeal.ChannelEvent)
	at := time.Now().UTC().Format(time.RFC3339Nano)
	f.srv.Hub().HandleEvent(topics, evTopic, []byte(`{"type":"statustext","time":"`+at+`","severity":"warning","message":"PreArm: <b>GPS</b> glitch"}`))
	waitJS(t, ctx, "status text", `document.getElementById("evenements").textContent.includes("Message du drone (avertissement) : PreArm: <b>GPS</b> glitch")`, 5*time.Second)
	f.srv.Hub().HandleEvent(topics, evTopic, []byte(`{"type":"link_lost","time":"`+at+`","severity":"warning","message":"no frame for 5s"}`))
	waitJS(t, ctx, "signal perdu", `document.getElementById("suivi").dataset.signal === "perdu" && !document.getElementById("signal").hidden`, 3*time.Second)
	if s := text(t, ctx, "#evenements"); !strings.Contains(s, "Signal perdu : liaison radio coupée") {
		t.Errorf("events %q", s)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#evenements b").length`); n != 0 {
		t.Error("an event's text was written as HTML")
	}
	// And the page's own timer: a link_regained, then silence.
	f.srv.Hub().HandleEvent(topics, evTopic, []byte(`{"type":"link_regained","time":"`+at+`","severity":"info"}`))
	waitJS(t, ctx, "regained", `document.getElementById("suivi").dataset.signal === "ok" && document.getElementById("signal").hidden`, 3*time.Second)
	waitJS(t, ctx, "silence", `document.getElementById("suivi").dataset.signal === "perdu"`, 15*time.Second)
	keepScreenshot(t, ctx, "mission-direct")

	// Completed, then the log uploaded from the page.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("etape-terminer")), chromedp.WaitVisible(chromedp.ID("confirmer"))); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#confirmer")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("deposer-journal"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("deposer-journal")), chromedp.WaitVisible(chromedp.ID("fichier"))); err != nil {
		t.Fatal(err)
	}
	axeClean(t, ctx, "upload page")
	logFile := filepath.Join(t.TempDir(), "vol.tlog")
	if err := os.WriteFile(logFile, simLog(t, m.Started.Add(time.Second), 40*time.Second), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("fichier"), []string{logFile})); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#deposer")
	res := text(t, ctx, "#resultat")
	for _, want := range []string{"Journal importé", "Fichier complet.", "latitude", "Véhicules trouvés"} {
		if !strings.Contains(res, want) {
			t.Errorf("result lacks %q:\n%s", want, res)
		}
	}
	axeClean(t, ctx, "upload result")
	if n := f.ingest(t); n == 0 {
		t.Fatal("no reading published by the upload")
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(f.base+"/missions/"+id), chromedp.WaitVisible(chromedp.ID("resume-vol"))); err != nil {
		t.Fatal(err)
	}
	sum := text(t, ctx, "#resume-vol")
	if strings.Contains(sum, "non transmise") || strings.Contains(sum, "0\u00a0km\n") || !strings.Contains(sum, "%") {
		t.Errorf("summary:\n%s", sum)
	}
	waitJS(t, ctx, "track on the map", `document.getElementById("carte-mission").dataset.missions === "2"`, 10*time.Second)
	missionLegend(t, ctx, "flown", []string{"Zone survolée", "Vol d'un drone"}, []string{"Drone en vol"})
	axeClean(t, ctx, "flown mission")
	keepScreenshot(t, ctx, "mission-resume")
}

// missionLegend checks the mission map's legend: the mission layers
// present, never what the map does not show (the public map's proposals and
// sensors, a track not flown yet, a drone not in flight).
func missionLegend(t *testing.T, ctx context.Context, what string, present, absent []string) {
	t.Helper()
	l := text(t, ctx, "section.carte-legende")
	for _, w := range append([]string{"Légende"}, present...) {
		if !strings.Contains(l, w) {
			t.Errorf("%s mission's legend without %q:\n%s", what, w, l)
		}
	}
	for _, a := range append([]string{"Propositions", "Capteurs", "Indice ATMO"}, absent...) {
		if strings.Contains(l, a) {
			t.Errorf("%s mission's legend lists %q, absent from its map:\n%s", what, a, l)
		}
	}
}

// TestBrowserFieldMissionNoScript: without JavaScript, the risk manager
// plans with pasted GeoJSON (the map's field stays hidden), the agent gets
// the warning of a start before the window, starts and completes the
// mission with the forms; the drone's retained mission follows.
func TestBrowserFieldMissionNoScript(t *testing.T) {
	f := newFieldEnv(t)
	ctx := browserNoScript(t)
	login := func(email string) {
		if err := chromedp.Do(ctx, chromedp.Navigate(f.base+"/connexion")); err != nil {
			t.Fatal(err)
		}
		typeInto(t, ctx, "courriel", email)
		typeInto(t, ctx, "mot-de-passe", fieldPassword)
		submit(t, ctx, "#connexion button[type=submit]")
	}
	login(f.rm.Email)
	if err := chromedp.Do(ctx, chromedp.Navigate(f.base+"/missions/nouvelle"), chromedp.WaitVisible(chromedp.ID("zone"))); err != nil {
		t.Fatal(err)
	}
	if eval[bool](t, ctx, `!document.getElementById("dessin").hidden`) {
		t.Error("the drawing tools show without JavaScript")
	}
	now := time.Now()
	typeInto(t, ctx, "titre", "Inspection de la digue")
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("zone"), squareJSON)); err != nil {
		t.Fatal(err)
	}
	for id, v := range map[string]string{"type": "inspection", "drone": "drone-1",
		"debut": now.Add(2 * time.Hour).In(fr.Paris).Format("2006-01-02T15:04"), "fin": now.Add(3 * time.Hour).In(fr.Paris).Format("2006-01-02T15:04")} {
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID(id), v)); err != nil {
			t.Fatal(err)
		}
	}
	// the agent from the list, a select without JavaScript too (its value is the account id)
	agents, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("select#agent")))
	if err != nil {
		t.Fatalf("no agent select: %v", err)
	}
	if !strings.Contains(agents, f.agent.Email) {
		t.Fatalf("agent select %q without the agent %s", agents, f.agent.Email)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("agent"), f.agent.ID)); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#planifier")
	id := strings.TrimPrefix(location(t, ctx), f.base+"/missions/")
	if !missionLocation.MatchString("/missions/" + id) {
		t.Fatalf("after planning: %s", text(t, ctx, "main"))
	}
	submit(t, ctx, "#deconnexion")
	login(f.agent.Email)
	if err := chromedp.Do(ctx, chromedp.Navigate(f.base+"/missions/"+id), chromedp.WaitVisible(chromedp.ID("etape-demarrer"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("etape-demarrer")), chromedp.WaitVisible(chromedp.ID("avertissement"))); err != nil {
		t.Fatal(err)
	}
	if s := text(t, ctx, "#avertissement"); !strings.Contains(s, "n'a pas commencé") {
		t.Errorf("warning %q", s)
	}
	submit(t, ctx, "#confirmer")
	if s := text(t, ctx, "#suivi"); !strings.Contains(s, "Aucune position reçue") || !strings.Contains(s, "rechargez la page") {
		t.Errorf("live panel without JavaScript: %q", s)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("etape-terminer")), chromedp.WaitVisible(chromedp.ID("confirmer"))); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#confirmer")
	if s := text(t, ctx, ".statut"); s != "terminée" {
		t.Errorf("status %q", s)
	}
	msgs := f.pub.all()
	if len(msgs) != 2 || !msgs[0].Retained || !strings.Contains(string(msgs[0].Payload), id) || strings.Contains(string(msgs[1].Payload), id) {
		t.Errorf("retained missions published: %v", msgs)
	}
}
