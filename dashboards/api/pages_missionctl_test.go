package api_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

const squareJSON = `{"type":"Polygon","coordinates":[[[7.2,43.65],[7.21,43.65],[7.21,43.66],[7.2,43.66],[7.2,43.65]]]}`

// planValues is a valid plan form post; edit changes it.
func planValues(csrf, agentEmail string, edit ...string) url.Values {
	v := url.Values{"csrf": {csrf}, "title": {"Relevé de la crue du Var"}, "kind": {"flood_survey"},
		"area": {`{"type":"Feature","properties":{},"geometry":` + squareJSON + `}`}, "area_drawn": {""},
		"planned_from": {time.Now().Add(2 * time.Hour).In(fr.Paris).Format("2006-01-02T15:04")},
		"planned_to":   {time.Now().Add(3 * time.Hour).In(fr.Paris).Format("2006-01-02T15:04")},
		"drone_id":     {"drone-1"}, "agent": {agentEmail}}
	for i := 0; i+1 < len(edit); i += 2 {
		v.Set(edit[i], edit[i+1])
	}
	return v
}

// multipartBody encodes fields (in order) and one file part.
func multipartBody(t *testing.T, fields [][2]string, fileField, fileName string, file []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if fileField != "" {
		fw, err := w.CreateFormFile(fileField, fileName)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(file)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

func (f *formClient) multipart(path, ct string, body []byte) (*http.Response, string) {
	f.e.t.Helper()
	return f.send("POST", path, string(body), "Content-Type", ct)
}

var missionLocation = regexp.MustCompile(`^/missions/([a-z0-9_-]+)$`)

// TestMissionPlanForm: a risk manager plans missions without JavaScript,
// by pasted GeoJSON (a Feature is taken for its geometry) and by a GeoJSON
// file; refusals come back in French beside the field with what was typed;
// citizens and agents may not plan; a cross-site post plans nothing.
func TestMissionPlanForm(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{})
			e.field()
			agentMail := address("agent")
			e.account(civic.RoleAgent, agentMail, "mot de passe de l'agent")
			rmMail := address("risques")
			e.account(civic.RoleRiskManager, rmMail, "mot de passe des risques")
			f := newFormClient(e)
			f.signIn(rmMail, "mot de passe des risques")
			resp, html := f.get("/missions/nouvelle")
			wantPage(t, "plan form", resp, html, 200, "Planifier une mission", `name="area_drawn"`, `enctype="multipart/form-data"`,
				`<option value="drone-1">drone-1 (site var-estuaire)</option>`, `type="datetime-local"`, "mission.js")
			if strings.Contains(html, "level-1") {
				t.Error("a sensor offered as a drone")
			}
			csrf := csrfInput.FindStringSubmatch(html)[1]

			resp, html = f.post("/missions/nouvelle", planValues(csrf, agentMail))
			if resp.StatusCode != 303 {
				t.Fatalf("plan: %d %.600s", resp.StatusCode, html)
			}
			m := missionLocation.FindStringSubmatch(resp.Header.Get("Location"))
			if m == nil {
				t.Fatalf("plan: Location %q", resp.Header.Get("Location"))
			}
			resp, html = f.get(m[0])
			wantPage(t, "planned mission", resp, html, 200, "La mission est planifiée", "Relevé de la crue du Var", "planifiée",
				`id="carte-mission"`, `data-area="{`)
			var got civic.Mission
			e.call("GET", "/api/v1/missions/"+m[1], "", nil, 200, &got)
			if got.Status != civic.MissionPlanned || got.SiteID != "var-estuaire" || got.DroneID != "drone-1" || !strings.Contains(string(got.Area), `"Polygon"`) {
				t.Fatalf("planned %+v", got)
			}
			if d := got.PlannedTo.Sub(got.PlannedFrom); d != time.Hour {
				t.Errorf("window %v, want 1h (Paris time read back)", d)
			}
			_, list := f.get("/missions")
			mustContain(t, "list", list, `id="mission-`+m[1]+`"`)

			// A GeoJSON file (multipart), with the pasted text left empty.
			fields := [][2]string{{"csrf", csrf}}
			for k, v := range planValues(csrf, agentMail, "title", "Littoral d'Antibes", "area", "") {
				if k != "csrf" {
					fields = append(fields, [2]string{k, v[0]})
				}
			}
			ct, body := multipartBody(t, fields, "area_file", "zone.geojson", []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":`+squareJSON+`}]}`))
			if resp, html := f.multipart("/missions/nouvelle", ct, body); resp.StatusCode != 303 {
				t.Fatalf("plan by file: %d %.600s", resp.StatusCode, html)
			}

			// Refusals, in French, beside the field, with what was typed.
			for _, tc := range []struct {
				edit        []string
				input, want string
			}{
				{[]string{"area", `{"type":"Point","coordinates":[7.2,43.6]}`}, "zone", "polygone GeoJSON valide"},
				{[]string{"area", "pas du json"}, "zone", "polygone GeoJSON valide"},
				{[]string{"area", ""}, "zone", "dessinez-la sur la carte"},
				{[]string{"title", "x"}, "titre", "entre 3 et 200 caractères"},
				{[]string{"kind", "bombardement"}, "type", "type de mission"},
				{[]string{"planned_to", time.Now().Add(time.Hour).In(fr.Paris).Format("2006-01-02T15:04")}, "fin", "finir après son début"},
				{[]string{"planned_from", "demain"}, "debut", "début du créneau"},
				{[]string{"drone_id", "level-1"}, "drone", "drone enregistré"},
				{[]string{"drone_id", "inconnu"}, "drone", "drone enregistré"},
				{[]string{"agent", "personne@example.fr"}, "agent", "Aucun compte"},
				{[]string{"agent", rmMail}, "agent", "agent de terrain"},
			} {
				resp, html := f.post("/missions/nouvelle", planValues(csrf, agentMail, tc.edit...))
				typed := "Relevé de la crue du Var"
				if tc.input == "titre" {
					typed = `value="x"`
				}
				wantPage(t, "refused "+tc.input, resp, html, 400, tc.want, `id="`+tc.input+`"`, typed)
				if !regexp.MustCompile(`id="` + tc.input + `"[^>]*aria-invalid="true"`).MatchString(html) {
					t.Errorf("refused %v: %s not marked invalid", tc.edit, tc.input)
				}
			}
			// A hidden linked proposal is unknown.
			_, citizen := e.user(civic.RoleCitizen)
			hidden := e.idea(citizen, 10, false)
			resp, html = f.post("/missions/nouvelle", planValues(csrf, agentMail, "proposal_ids", hidden.ID))
			if resp.StatusCode != 303 { // a risk manager is not a moderator: hidden to them?
				wantPage(t, "hidden proposal", resp, html, 400, "propositions choisies")
			}
			// Wrong token: nothing planned, an empty form.
			var before []civic.Mission
			e.call("GET", "/api/v1/missions", "", nil, 200, &before)
			resp, html = f.post("/missions/nouvelle", planValues("faux", agentMail))
			wantPage(t, "bad csrf", resp, html, 403, "Le formulaire a expiré")
			var after []civic.Mission
			e.call("GET", "/api/v1/missions", "", nil, 200, &after)
			if len(after) != len(before) {
				t.Fatal("a post without the right token planned a mission")
			}
			// Citizens and agents may not plan.
			g := newFormClient(e)
			g.signIn(agentMail, "mot de passe de l'agent")
			if resp, _ := g.get("/missions/nouvelle"); resp.StatusCode != 403 {
				t.Errorf("agent on the plan form: %d", resp.StatusCode)
			}
			anon := newFormClient(e)
			if resp, _ := anon.get("/missions/nouvelle"); resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/connexion") {
				t.Errorf("anonymous plan form: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}

// TestMissionStepForms: the agent starts (with the confirmation page and
// its warning before the window), completes a mission by forms; each step
// publishes the drone's retained mission like the JSON route; another
// agent, a wrong token and an impossible step are refused in French and
// change nothing.
func TestMissionStepForms(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	e.field()
	agentMail, otherMail := address("agent"), address("autre")
	agentU := e.account(civic.RoleAgent, agentMail, "mot de passe de l'agent")
	e.account(civic.RoleAgent, otherMail, "mot de passe de l'autre")
	m := mission(agentU.ID, square(7.2, 43.65))
	m["id"] = "plus-tard"
	m["planned_from"], m["planned_to"] = time.Now().Add(2*time.Hour), time.Now().Add(3*time.Hour)
	e.call("POST", "/api/v1/missions", e.admin, m, 201, nil)

	f := newFormClient(e)
	f.signIn(agentMail, "mot de passe de l'agent")
	resp, html := f.get("/missions/plus-tard")
	wantPage(t, "mission page", resp, html, 200, `href="/missions/plus-tard/etape?action=demarrer"`, `href="/missions/plus-tard/etape?action=interrompre"`)
	if strings.Contains(html, "action=terminer") || strings.Contains(html, "/journal") {
		t.Error("a planned mission offers completion or an upload")
	}
	resp, html = f.get("/missions/plus-tard/etape?action=demarrer")
	wantPage(t, "start confirmation", resp, html, 200, "Démarrer la mission ?", "le créneau prévu n'a pas commencé", `name="action" value="demarrer"`)
	csrf := csrfInput.FindStringSubmatch(html)[1]
	if resp, html := f.get("/missions/plus-tard/etape?action=terminer"); resp.StatusCode != 409 || !strings.Contains(html, "pas possible") {
		t.Errorf("completing a planned mission: %d %.300s", resp.StatusCode, html)
	}

	// Another agent: refused, nothing published.
	g := newFormClient(e)
	g.signIn(otherMail, "mot de passe de l'autre")
	if resp, html := g.get("/missions/plus-tard/etape?action=demarrer"); resp.StatusCode != 403 || !strings.Contains(html, "un gestionnaire des risques ou un administrateur peuvent la conduire") {
		t.Errorf("other agent: %d %s", resp.StatusCode, html[strings.Index(html, "<main"):])
	}
	gcsrf := csrfInput.FindStringSubmatch(func() string { _, h := g.get("/missions"); return h }())
	if gcsrf != nil {
		if resp, _ := g.post("/missions/plus-tard/etape", url.Values{"csrf": {gcsrf[1]}, "action": {"demarrer"}}); resp.StatusCode != 403 {
			t.Errorf("other agent's post: %d", resp.StatusCode)
		}
	}
	if resp, _ := f.post("/missions/plus-tard/etape", url.Values{"csrf": {"faux"}, "action": {"demarrer"}}); resp.StatusCode != 403 {
		t.Errorf("bad token: %d", resp.StatusCode)
	}
	if n := len(e.pub.all()); n != 0 {
		t.Fatalf("%d messages published by refused steps", n)
	}
	// The broker down: the status stays, the message says so.
	e.pub.fail = errPublish
	resp, html = f.post("/missions/plus-tard/etape", url.Values{"csrf": {csrf}, "action": {"demarrer"}})
	wantPage(t, "broker down", resp, html, 503, "n'a pas pu être joint")
	e.pub.fail = nil

	resp, html = f.post("/missions/plus-tard/etape", url.Values{"csrf": {csrf}, "action": {"demarrer"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/missions/plus-tard" {
		t.Fatalf("start: %d %s %.300s", resp.StatusCode, resp.Header.Get("Location"), html)
	}
	resp, html = f.get("/missions/plus-tard")
	wantPage(t, "active", resp, html, 200, "La mission est démarrée", "en cours", `id="suivi"`, `data-series="var-estuaire/drone-1/*"`,
		"Signal perdu", `href="/missions/plus-tard/journal"`, "action=terminer")
	if resp, html := f.post("/missions/plus-tard/etape", url.Values{"csrf": {csrf}, "action": {"voler"}}); resp.StatusCode != 400 || !strings.Contains(html, "Choisissez une étape") {
		t.Errorf("unknown step: %d %.300s", resp.StatusCode, html)
	}
	if resp, _ := f.post("/missions/plus-tard/etape", url.Values{"csrf": {csrf}, "action": {"terminer"}}); resp.StatusCode != 303 {
		t.Fatalf("complete: %d", resp.StatusCode)
	}
	msgs := e.pub.all()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want the start and the end", len(msgs))
	}
	for i, want := range []string{"plus-tard", ""} {
		var cmd api.SetMissionCommand
		if err := json.Unmarshal(msgs[i].Payload, &cmd); err != nil || !msgs[i].Retained || cmd.Mission != want || msgs[i].Topic != "smartdeal/v1/var-estuaire/drone-1/cmd" {
			t.Fatalf("message %d: %s %s retained %v", i, msgs[i].Topic, msgs[i].Payload, msgs[i].Retained)
		}
	}
	var got civic.Mission
	e.call("GET", "/api/v1/missions/plus-tard", "", nil, 200, &got)
	if got.Status != civic.MissionCompleted {
		t.Fatalf("status %s", got.Status)
	}
}

// TestFlightLogForm: the upload page imports a simulated .tlog through the
// same importer as the JSON route (multipart, the token in the action URL)
// and says what it imported; a log outside the window and a file that is
// no flight log are refused in French with both spans; a missing token or
// another agent is refused before the file is read.
func TestFlightLogForm(t *testing.T) {
	e, agent, _ := flightEnv(t)
	var vol civic.Mission
	e.call("GET", "/api/v1/missions/vol-1", "", nil, 200, &vol)
	// The agent of vol-1 gets a password to sign in by the form.
	mail := address("pilote")
	pilot := e.account(civic.RoleAgent, mail, "mot de passe du pilote")
	m := mission(pilot.ID, square(7.2, 43.65))
	m["id"] = "vol-2"
	e.call("POST", "/api/v1/missions", e.admin, m, 201, nil)
	_ = agent
	f := newFormClient(e)
	f.signIn(mail, "mot de passe du pilote")
	// Planned: the page says so and has no form.
	if resp, html := f.get("/missions/vol-2/journal"); resp.StatusCode != 200 || strings.Contains(html, `name="fichier"`) || !strings.Contains(html, "une fois la mission démarrée") {
		t.Fatalf("upload page of a planned mission: %d %.300s", resp.StatusCode, html)
	}
	// The form's action (with the token) of an active mission, posted
	// while it is planned again below (a second planned mission, vol-3).
	m3 := mission(pilot.ID, square(7.2, 43.65))
	m3["id"] = "vol-3"
	e.call("POST", "/api/v1/missions", e.admin, m3, 201, nil)
	e.call("POST", "/api/v1/missions/vol-2/status", e.admin, map[string]any{"status": "active"}, 200, nil)
	_, page := f.get("/missions/vol-2/journal")
	action := regexp.MustCompile(`action="(/missions/vol-2/journal\?csrf=[^"]+)"`).FindStringSubmatch(page)
	if action == nil {
		t.Fatal("no form action with the token")
	}
	target := strings.ReplaceAll(action[1], "&amp;", "&")
	upload := func(path string, file []byte) (*http.Response, string) {
		ct, body := multipartBody(t, nil, "fichier", "vol.tlog", file)
		return f.multipart(path, ct, body)
	}
	// A planned mission takes no log, even posted to directly.
	resp, html := upload(strings.Replace(target, "vol-2", "vol-3", 1), simLog(t, time.Now().Add(-30*time.Second), time.Minute))
	wantPage(t, "planned", resp, html, 409, "mission en cours ou terminée")
	// The token in the query is for the upload form only: the JSON route
	// of a cookie session still wants the header.
	token := strings.TrimPrefix(target, "/missions/vol-2/journal?csrf=")
	if resp, _ := f.send("POST", "/api/v1/missions/vol-2/flightlog?csrf="+token, string(simLog(t, time.Now(), 10*time.Second)), "Content-Type", "application/octet-stream"); resp.StatusCode != 403 {
		t.Errorf("JSON upload with the token in the query: %d, want 403", resp.StatusCode)
	}
	before := len(e.pub.all())
	resp, html = upload(target, simLog(t, time.Now().Add(-30*time.Second), time.Minute))
	wantPage(t, "imported", resp, html, 200, "Journal importé", "Mesures importées par grandeur", "latitude", "Fichier complet.",
		`id="resultat-vehicules">1<`)
	if len(e.pub.all()) == before {
		t.Fatal("nothing published")
	}
	// A cut log: imported up to the cut, which the page says.
	full := simLog(t, time.Now().Add(-20*time.Second), 30*time.Second)
	resp, html = upload(target, full[:len(full)-7])
	wantPage(t, "cut", resp, html, 200, "Journal importé", "Le fichier est coupé à l'octet")
	// Outside the window: refused, both spans said.
	resp, html = upload(target, simLog(t, time.Now().Add(-48*time.Hour), time.Minute))
	wantPage(t, "outside", resp, html, 422, "en dehors du créneau de vol", `id="refus-journal"`, `id="refus-creneau"`)
	// Not a flight log.
	resp, html = upload(target, []byte("bonjour, ceci n'est pas un journal"))
	wantPage(t, "garbage", resp, html, 422, "n'est pas un journal de vol lisible")
	// No file part.
	ct, body := multipartBody(t, [][2]string{{"autre", "x"}}, "", "", nil)
	resp, html = f.multipart(target, ct, body)
	wantPage(t, "no file", resp, html, 422, "Choisissez le fichier")
	// Without the token, or with another's: refused before reading.
	n := len(e.pub.all())
	resp, html = upload("/missions/vol-2/journal", simLog(t, time.Now().Add(-30*time.Second), time.Minute))
	wantPage(t, "no token", resp, html, 403, "Le formulaire a expiré")
	resp, _ = upload("/missions/vol-2/journal?csrf=faux", simLog(t, time.Now().Add(-30*time.Second), time.Minute))
	if resp.StatusCode != 403 {
		t.Errorf("wrong token: %d", resp.StatusCode)
	}
	if len(e.pub.all()) != n {
		t.Fatal("a refused upload published readings")
	}
	// vol-1 is another agent's.
	if resp, _ := f.get("/missions/vol-1/journal"); resp.StatusCode != 403 {
		t.Errorf("another agent's mission: %d", resp.StatusCode)
	}
}
