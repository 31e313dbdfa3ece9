package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestBrowserReviewDesk: with JavaScript disabled in Chromium, an expert
// signs in from the review desk, opens a shortlisted proposal, reads the
// evidence (the 30-day statistics of its linked series, computed from known
// points in a real InfluxDB, and the mission flown for it), is refused a
// review with a missing score, then scores it and sees the review listed;
// an administrator selects it; a second selection that would exceed the
// budget shows the amount and changes nothing in the database.
func TestBrowserReviewDesk(t *testing.T) {
	meas, in, db := freshInflux(t)
	e := newEnv(t, sqltest.SQLite(t), meas, api.Config{})
	agentID, agent := e.field() // var-estuaire: level-1 measures water_level in m

	// Four water levels, each in its own hour (the evidence aggregates hourly
	// means over 30 days), oldest first: count 4, min 1.5, mean 5, max 9.5,
	// last 5.5 (the latest, not the largest).
	hour := time.Now().UTC().Truncate(time.Hour)
	var lines []string
	for i, v := range []float64{3.5, 1.5, 9.5, 5.5} {
		lines = append(lines, fmt.Sprintf("telemetry,site=var-estuaire,device=level-1,quantity=water_level,unit=m value=%g %d",
			v, hour.Add(time.Duration(i-5)*time.Hour+30*time.Minute).Unix()))
	}
	writeLP(t, in.URL, db+"/autogen", lines)

	_, citizen := e.user(civic.RoleCitizen)
	p := e.shortlisted(citizen, 600_000)
	e.call("POST", "/api/v1/links", e.admin, map[string]any{"proposal_id": p.ID, "site_id": "var-estuaire", "device_id": "level-1", "quantity": "water_level"}, 201, nil)
	// Once p is selected (600 000 €), p2 would exceed the budget by 12 500 €.
	p2 := e.shortlisted(citizen, 412_500)
	e.call("POST", "/api/v1/ideas/"+p2.ID+"/status", e.admin, map[string]any{"status": "under_review"}, 200, nil)
	m := mission(agentID, square(7.2, 43.65))
	m["id"], m["title"], m["proposal_ids"] = "crue-var-expertise", browserMission, []string{p.ID}
	e.call("POST", "/api/v1/missions", e.admin, m, 201, nil)
	e.call("POST", "/api/v1/missions/crue-var-expertise/status", agent, map[string]any{"status": "active"}, 200, nil)
	e.call("POST", "/api/v1/missions/crue-var-expertise/status", agent, map[string]any{"status": "completed"}, 200, nil)

	const password = "un mot de passe solide"
	expert := e.account(civic.RoleExpert, "experte@example.fr", password)
	e.account(civic.RoleAdmin, "comite@example.fr", password)
	base := serve(t, e)

	ctx := browserNoScript(t)

	// The desk sends to the sign-in page, which comes back to it.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/expertise"), chromedp.WaitVisible(chromedp.ID("connexion"))); err != nil {
		t.Fatal(err)
	}
	if loc := location(t, ctx); loc != base+"/connexion?retour=%2Fexpertise" {
		t.Fatalf("anonymous desk at %s", loc)
	}
	typeInto(t, ctx, "courriel", "experte@example.fr")
	typeInto(t, ctx, "mot-de-passe", password)
	submit(t, ctx, "#se-connecter")
	if loc := location(t, ctx); loc != base+"/expertise" {
		t.Fatalf("after sign-in at %s, want the desk", loc)
	}
	row := text(t, ctx, "#proposition-"+p.ID)
	for _, want := range []string{"Capteurs de crue sur le Var", "présélectionnée", "600\u202f000 €", "à donner"} {
		if !strings.Contains(row, want) {
			t.Errorf("desk row lacks %q: %q", want, row)
		}
	}
	if got := text(t, ctx, "#budget-"+e.campaign); !strings.Contains(got, "1\u202f000\u202f000 €") {
		t.Errorf("budget %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('nav a[href="/expertise"]').length`); n != 1 {
		t.Errorf("%d desk links in the header", n)
	}
	keepScreenshot(t, ctx, "expertise")

	// The proposal for review: the evidence, as written into InfluxDB.
	submit(t, ctx, fmt.Sprintf(`a[href="/expertise/%s"]`, p.ID))
	pageURL := base + "/expertise/" + p.ID
	if loc := location(t, ctx); loc != pageURL {
		t.Fatalf("opened %s", loc)
	}
	stats := eval[string](t, ctx, `[...document.querySelectorAll("#statistiques tbody tr > *")].map(c => c.textContent).join("|")`)
	if want := "Niveau d'eau (m)|var-estuaire / level-1|4|1,5\u00a0m|5\u00a0m|9,5\u00a0m|5,5\u00a0m"; stats != want {
		t.Fatalf("statistics %q, want %q", stats, want)
	}
	// The same numbers as the JSON evidence route: one code path.
	var ev struct {
		Series []struct {
			Count                int
			Min, Mean, Max, Last float64
		} `json:"series"`
	}
	_, expertTok := e.user(civic.RoleExpert)
	e.call("GET", "/api/v1/ideas/"+p.ID+"/evidence", expertTok, nil, 200, &ev)
	if s := ev.Series; len(s) != 1 || s[0].Count != 4 || s[0].Min != 1.5 || s[0].Mean != 5 || s[0].Max != 9.5 || s[0].Last != 5.5 {
		t.Fatalf("JSON evidence %+v", ev.Series)
	}
	missions := text(t, ctx, "#missions-liees tbody")
	for _, want := range []string{browserMission, "Relevé de crue", "terminée"} {
		if !strings.Contains(missions, want) {
			t.Errorf("missions lack %q: %q", want, missions)
		}
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#missions-liees a[href="/api/v1/missions/crue-var-expertise/track"]').length`); n != 1 {
		t.Errorf("%d flight summary links", n)
	}

	// A review without the cost score: refused, the group focused, the rest kept.
	const remark = "Les relevés montrent des crues fréquentes."
	for _, id := range []string{"impact-4", "feasibility-3"} {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID(id))); err != nil {
			t.Fatal(err)
		}
	}
	typeInto(t, ctx, "avis-commentaire", remark)
	submit(t, ctx, "#envoyer-avis")
	if loc := location(t, ctx); loc != pageURL+"/avis" {
		t.Fatalf("refused review at %s", loc)
	}
	if got := text(t, ctx, "#erreur"); got != "Erreur : Choisissez une note de coût, de 1 à 5." {
		t.Fatalf("error %q", got)
	}
	if v := eval[string](t, ctx, `[document.activeElement.id, document.getElementById("cost-1").getAttribute("aria-invalid"),
		document.getElementById("impact-4").checked, document.getElementById("feasibility-3").checked, document.getElementById("avis-commentaire").value].join("|")`); v != "cost-1|true|true|true|"+remark {
		t.Fatalf("focus|invalid|impact|feasibility|comment = %q", v)
	}
	if rs := e.reviewsOf(p.ID); len(rs) != 0 {
		t.Fatalf("refused review stored: %+v", rs)
	}
	keepScreenshot(t, ctx, "expertise-erreur")

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("cost-5"))); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#envoyer-avis")
	if loc := location(t, ctx); loc != pageURL {
		t.Fatalf("after the review at %s", loc)
	}
	if got := text(t, ctx, "#confirmation"); got != "Avis enregistré." {
		t.Fatalf("confirmation %q", got)
	}
	listed := text(t, ctx, "#liste-avis")
	for _, want := range []string{"Dominique", "(votre avis)", "Impact 4/5, faisabilité 3/5, coût 5/5", remark} {
		if !strings.Contains(listed, want) {
			t.Errorf("reviews lack %q: %q", want, listed)
		}
	}
	if rs := e.reviewsOf(p.ID); len(rs) != 1 || rs[0].ExpertID != expert.ID || rs[0].Impact != 4 || rs[0].Feasibility != 3 || rs[0].Cost != 5 || rs[0].Comment != remark {
		t.Fatalf("stored reviews %+v", e.reviewsOf(p.ID))
	}
	keepScreenshot(t, ctx, "expertise-avis")

	// The committee: sign out, sign in as administrator, move the proposal
	// under review, then select it.
	submit(t, ctx, "#deconnexion")
	typeInto(t, ctx, "courriel", "comite@example.fr")
	typeInto(t, ctx, "mot-de-passe", password)
	submit(t, ctx, "#se-connecter")
	if loc := location(t, ctx); loc != pageURL {
		t.Fatalf("administrator at %s, want the review page", loc)
	}
	for _, step := range []struct{ choice, confirm string }{
		{"expertiser", "La proposition est passée en cours d'expertise."},
		{"retenir", "Décision enregistrée : la proposition est retenue."},
	} {
		setValue(t, ctx, "decision", step.choice)
		submit(t, ctx, "#decider")
		if got := text(t, ctx, "#confirmation"); got != step.confirm {
			t.Fatalf("%s: confirmation %q", step.choice, got)
		}
	}
	if st, _ := e.status(p.ID); st != civic.StatusSelected {
		t.Fatalf("status %s after selection", st)
	}
	if got := text(t, ctx, "#statut"); got != "retenue" {
		t.Fatalf("status shown %q", got)
	}

	// A second selection over the budget: the amount, nothing changed.
	before, entries := e.status(p2.ID)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/expertise/"+p2.ID), chromedp.WaitVisible(chromedp.ID("decision"))); err != nil {
		t.Fatal(err)
	}
	setValue(t, ctx, "decision", "retenir")
	submit(t, ctx, "#decider")
	if got := text(t, ctx, "#erreur"); got != "Erreur : Sélection refusée : retenir cette proposition dépasserait le budget de l'appel de 12\u202f500 €. Rien n'a été modifié." {
		t.Fatalf("over-budget message %q", got)
	}
	if st, n := e.status(p2.ID); st != before || st != civic.StatusUnderReview || n != entries {
		t.Fatalf("over-budget selection changed p2: %s, %d history entries (was %s, %d)", st, n, before, entries)
	}
	var cv struct {
		Committed int64 `json:"committed_eur"`
	}
	e.call("GET", "/api/v1/campaigns/"+e.campaign, "", nil, 200, &cv)
	if cv.Committed != 600_000 {
		t.Fatalf("committed %d €, want 600000", cv.Committed)
	}
	keepScreenshot(t, ctx, "expertise-budget")
}
