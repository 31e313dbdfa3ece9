package api_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// signInForm signs a form client in with the sign-in form and returns
// where it was sent.
func signInForm(t *testing.T, f *formClient, email, password, retour string) string {
	t.Helper()
	resp, html := f.post("/connexion", url.Values{"email": {email}, "password": {password}, "retour": {retour}})
	if resp.StatusCode != 303 {
		t.Fatalf("sign in: %d %.300s", resp.StatusCode, html)
	}
	return resp.Header.Get("Location")
}

var alertIDOnPage = regexp.MustCompile(`id="alerte-([a-z0-9]+)"`)

// TestAlertPages: the risk managers' pages without JavaScript: signing in
// sends a risk manager to the dashboard; who may see and do what; a rule
// created from the form (errors in French beside their field, hostile text
// escaped), tried on the last 7 days, disabled and deleted; an alert on the
// dashboard, acknowledged with a comment, then closed once cleared, its
// history on its page.
func TestAlertPages(t *testing.T) {
	meas, in, db := freshInflux(t)
	e, svc := alertEnv(t, sqltest.SQLite(t), meas)
	e.field() // var-estuaire with level-1 (water_level) and drone-1
	const pw = "un mot de passe solide"
	rmUser := e.account(civic.RoleRiskManager, "rm@example.fr", pw)
	e.account(civic.RoleAgent, "agent@example.fr", pw)
	e.account(civic.RoleCitizen, "cit@example.fr", pw)

	// Readings of the last days for the preview: two floods of 2.6 m.
	t0 := time.Now().UTC().Add(-2 * 24 * time.Hour).Truncate(time.Hour)
	var lines []string
	for i := range 40 {
		v := 2.0
		if i%20 >= 5 && i%20 < 10 {
			v = 2.6
		}
		lines = append(lines, fmt.Sprintf("telemetry,site=var-estuaire,device=level-1,quantity=water_level,unit=m value=%g %d", v, t0.Add(time.Duration(i)*time.Minute).Unix()))
	}
	writeLP(t, in.URL, db+"/autogen", lines)

	anon := newFormClient(e)
	resp, _ := anon.get("/tableau-de-bord")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/connexion?retour=%2Ftableau-de-bord" {
		t.Fatalf("anonymous dashboard: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	cit := newFormClient(e)
	if to := signInForm(t, cit, "cit@example.fr", pw, "/idees"); to != "/idees" {
		t.Fatalf("citizen sent to %s", to)
	}
	resp, html := cit.get("/tableau-de-bord")
	wantPage(t, "citizen dashboard", resp, html, 403, "réservée aux gestionnaires des risques")
	if strings.Contains(html, `id="nav-tableau-de-bord"`) {
		t.Error("citizen sees the dashboard link")
	}

	rm := newFormClient(e)
	if to := signInForm(t, rm, "rm@example.fr", pw, "/idees"); to != "/tableau-de-bord" {
		t.Fatalf("risk manager sent to %s", to)
	}
	if to := signInForm(t, newFormClient(e), "rm@example.fr", pw, "/missions"); to != "/missions" {
		t.Fatalf("risk manager with retour sent to %s", to)
	}
	resp, html = rm.get("/tableau-de-bord")
	wantPage(t, "dashboard", resp, html, 200, "Tableau de bord des risques", `id="nav-tableau-de-bord"`, "Aucune alerte en cours", "Mises à jour en direct")
	csrf := csrfInput.FindStringSubmatch(html)[1]

	// The rule form: refused posts come back with the message beside the field.
	name := `Crue <script>alert(1)</script>`
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf": {csrf}, "name": {name}, "site": {"var-estuaire"}, "quantity": {"water_level"}, "kind": {"above"},
			"hold": {"0"}, "orange_seuil": {"2,5"}, "orange_fin": {"2,3"}, "enabled": {"oui"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, c := range []struct {
		name, input, msg string
		form             url.Values
	}{
		{"blank name", "regle-nom", "Donnez à la règle un nom", form("name", " ")},
		{"unknown kind", "regle-type", "Choisissez le type de règle", form("kind", "explode")},
		{"bad site", "regle-site", "Identifiant de site invalide", form("site", "Var' OR 1=1")},
		{"oversized threshold", "seuil-orange", "au plus un milliard", form("orange_seuil", "1e300")},
		{"clear above threshold", "fin-orange", "le seuil de fin ne le dépasse pas", form("orange_fin", "3")},
		{"not a number", "seuil-orange", "Seuil invalide", form("orange_seuil", "beaucoup")},
		{"no level", "seuil-jaune", "au moins un niveau", form("orange_seuil", "", "orange_fin", "")},
		{"bad hold", "regle-duree", "Durée en minutes", form("hold", "toujours")},
	} {
		resp, html := rm.post("/alertes/regles/nouvelle", c.form)
		wantPage(t, c.name, resp, html, 400, c.msg, `id="`+c.input+`-erreur"`)
		if !regexp.MustCompile(`id="` + c.input + `"[^>]*aria-invalid="true"`).MatchString(html) {
			t.Errorf("%s: %s not marked invalid", c.name, c.input)
		}
		if c.name != "blank name" && !strings.Contains(html, `value="Crue &lt;script&gt;alert(1)&lt;/script&gt;"`) {
			t.Errorf("%s: the name typed is not kept, escaped", c.name)
		}
	}
	resp, html = rm.post("/alertes/regles/nouvelle", form("csrf", "faux"))
	wantPage(t, "bad csrf", resp, html, 403)

	// Try it on the last 7 days, then create it.
	resp, html = rm.post("/alertes/regles/essai", form())
	wantPage(t, "preview", resp, html, 200, "La règle se serait déclenchée", "2 fois", "Rien n'est enregistré")
	if rs, _ := svc.Rules(context.Background()); len(rs) != 0 {
		t.Fatalf("the preview stored a rule: %+v", rs)
	}
	resp, html = rm.post("/alertes/regles/nouvelle", form())
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/alertes/regles" {
		t.Fatalf("create: %d %.300s", resp.StatusCode, html)
	}
	resp, html = rm.get("/alertes/regles")
	wantPage(t, "rules", resp, html, 200, "Règle d'alerte créée.", "Crue &lt;script&gt;", "vigilance orange", "seuil 2,5, fin 2,3", "active")
	if strings.Contains(html, "<script>alert") {
		t.Fatal("hostile name not escaped")
	}
	rs, _ := svc.Rules(context.Background())
	if len(rs) != 1 || rs[0].Levels[0].Threshold != 2.5 || *rs[0].Levels[0].Clear != 2.3 || rs[0].CreatedBy != rmUser.ID {
		t.Fatalf("stored rule %+v", rs)
	}
	ruleID := rs[0].ID
	resp, html = rm.get("/alertes/regles/" + ruleID)
	wantPage(t, "edit rule", resp, html, 200, `value="2,5"`, `value="2,3"`, `action="/alertes/regles/`+ruleID+`"`)

	// An alert: on the dashboard first, with its acknowledge form.
	now := time.Now().UTC()
	if err := svc.HandleReadings(context.Background(), []smartdeal.Reading{river(0, 2.8, now.Add(-time.Minute))}); err != nil {
		t.Fatal(err)
	}
	resp, html = rm.get("/tableau-de-bord")
	wantPage(t, "dashboard with alert", resp, html, 200, "Alertes en cours (1)", "vigilance orange", "Prendre en compte", "2,8")
	m := alertIDOnPage.FindStringSubmatch(html)
	if m == nil {
		t.Fatal("no alert row")
	}
	id := m[1]

	agent := newFormClient(e)
	signInForm(t, agent, "agent@example.fr", pw, "/idees")
	resp, html = agent.get("/tableau-de-bord")
	wantPage(t, "agent dashboard", resp, html, 200, "vigilance orange")
	if strings.Contains(html, "Prendre en compte") {
		t.Error("an agent is offered the acknowledge form")
	}
	agentCSRF := csrfInput.FindStringSubmatch(html)[1]
	resp, html = agent.post("/alertes/"+id+"/prise-en-compte", url.Values{"csrf": {agentCSRF}, "comment": {"vu"}})
	wantPage(t, "agent acknowledges", resp, html, 403, "Seuls les gestionnaires des risques")
	resp, html = agent.get("/alertes/regles/nouvelle")
	wantPage(t, "agent rule form", resp, html, 403)

	long := strings.Repeat("é", alerting.MaxCommentLen+1)
	resp, html = rm.post("/alertes/"+id+"/prise-en-compte", url.Values{"csrf": {csrf}, "comment": {long}})
	wantPage(t, "long comment", resp, html, 400, "Le commentaire est trop long", `id="erreur-commentaire"`)
	resp, html = rm.post("/alertes/"+id+"/prise-en-compte", url.Values{"csrf": {csrf}, "comment": {"Équipe <b>envoyée</b>"}, "retour": {"/tableau-de-bord"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/tableau-de-bord" {
		t.Fatalf("acknowledge: %d %.300s", resp.StatusCode, html)
	}
	resp, html = rm.get("/tableau-de-bord")
	wantPage(t, "acknowledged", resp, html, 200, "Alerte prise en compte.", "prise en compte", "« Équipe &lt;b&gt;envoyée&lt;/b&gt; »")
	resp, html = rm.post("/alertes/"+id+"/cloture", url.Values{"csrf": {csrf}})
	wantPage(t, "close while on", resp, html, 409, "pas possible au statut actuel")

	// Cleared, then closed from its page.
	if err := svc.HandleReadings(context.Background(), []smartdeal.Reading{river(0, 2.0, now)}); err != nil {
		t.Fatal(err)
	}
	resp, html = rm.get("/alertes/" + id)
	wantPage(t, "alert page", resp, html, 200, "terminée", "Clôturer l'alerte", "évaluateur automatique", "Dominique", "Équipe &lt;b&gt;envoyée&lt;/b&gt;",
		"/api/v1/series/var-estuaire/level-1/water_level?")
	resp, _ = rm.post("/alertes/"+id+"/cloture", url.Values{"csrf": {csrf}, "comment": {"fin de crue"}})
	if resp.StatusCode != 303 {
		t.Fatalf("close: %d", resp.StatusCode)
	}
	resp, html = rm.get("/alertes/" + id)
	wantPage(t, "closed", resp, html, 200, "Alerte close.", "close", "fin de crue")
	resp, html = rm.get("/alertes")
	wantPage(t, "alerts", resp, html, 200, "En cours (0)", "Terminées ou closes (1)")
	resp, html = rm.get("/alertes/nexistepas")
	wantPage(t, "unknown alert", resp, html, 404)

	// The site's page and its device's: charts over a day, a week, a month; its alerts.
	resp, html = rm.get("/sites/var-estuaire?periode=semaine")
	wantPage(t, "site page", resp, html, 200, "Estuaire du Var", "Mesures sur 7 jours", `class="chart"`, "Niveau d'eau", "level-1", "drone-1",
		"Crue &lt;script&gt;", "close", `aria-current="page">7 jours`)
	if !strings.Contains(html, "<polyline") {
		t.Error("the week's water level is not drawn")
	}
	resp, html = rm.get("/sites/var-estuaire")
	wantPage(t, "site page, a day", resp, html, 200, "Mesures sur 24 heures", "Aucune mesure sur la période")
	resp, html = rm.get("/sites/var-estuaire/appareils/level-1?periode=mois")
	wantPage(t, "device page", resp, html, 200, "Appareil level-1 — Estuaire du Var", "Mesures sur 30 jours", `aria-current="page">level-1`)
	if strings.Contains(html, "drone-1 —") {
		t.Error("the device page charts another device")
	}
	for path, want := range map[string]int{"/sites/var-estuaire?periode=annee": 400, "/sites/nulle-part": 404, "/sites/var-estuaire/appareils/inconnu": 404} {
		resp, html = rm.get(path)
		wantPage(t, path, resp, html, want)
	}
	resp, html = cit.get("/sites/var-estuaire")
	wantPage(t, "citizen site page", resp, html, 403)

	// Disable, then delete.
	resp, _ = rm.post("/alertes/regles/"+ruleID+"/activation", url.Values{"csrf": {csrf}, "active": {"non"}})
	if resp.StatusCode != 303 {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if r, _ := svc.Rule(context.Background(), ruleID); r.Enabled {
		t.Fatal("still enabled")
	}
	resp, html = rm.get("/alertes/regles")
	wantPage(t, "disabled", resp, html, 200, "désactivée", "Activer")
	resp, _ = rm.post("/alertes/regles/"+ruleID+"/suppression", url.Values{"csrf": {csrf}})
	if resp.StatusCode != 303 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	resp, html = rm.get("/alertes/regles")
	wantPage(t, "deleted", resp, html, 200, "Règle d'alerte supprimée", "Aucune règle")
}
