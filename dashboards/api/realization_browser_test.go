package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestBrowserRealization, with JavaScript disabled: a field agent records
// a milestone of a selected proposal from its page (a progress over 100 is
// refused first, the text kept and the field focused); the page shows it
// with the progress and the actual cost against the estimate and the
// budget; a supporter who opted in gets the mail in mailpit, one who did not
// gets nothing. Before selection 409, a citizen 403, forged ids 404.
func TestBrowserRealization(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	e, base := newBrowserMailEnv(t, mp)
	const password = "un mot de passe solide"
	e.account(civic.RoleAgent, "agent@example.fr", password)
	fan, quiet := address("fan"), address("discret")
	e.account(civic.RoleCitizen, fan, password)
	e.account(civic.RoleCitizen, quiet, password)
	fanTok, quietTok := e.bearer(fan, password), e.bearer(quiet, password)
	_, author := e.user(civic.RoleCitizen)
	p := e.idea(author, 40_000, true)
	e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", fanTok, nil, 200, nil)
	e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", quietTok, nil, 200, nil)
	e.call("PUT", "/api/v1/me/notifications", fanTok, map[string]bool{"own_proposals": false, "supported_proposals": true}, 200, nil)
	_, agentTok := e.user(civic.RoleAgent)
	e.problem("POST", "/api/v1/ideas/"+p.ID+"/realization", agentTok, map[string]any{"body": "Trop tôt."}, 409)
	for _, st := range []string{"shortlisted", "under_review", "selected"} {
		e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": st}, 200, nil)
	}
	e.problem("POST", "/api/v1/ideas/"+p.ID+"/realization", author, map[string]any{"body": "Moi aussi."}, 403)
	e.problem("POST", "/api/v1/ideas/forged/realization", agentTok, map[string]any{"body": "x"}, 404)
	e.fieldProblem("POST", "/api/v1/ideas/"+p.ID+"/realization", agentTok, map[string]any{"body": "x", "progress": 101}, "progress")
	e.fieldProblem("POST", "/api/v1/ideas/"+p.ID+"/realization", agentTok, map[string]any{"body": "x", "milestone_date": time.Now()}, "milestone")

	ctx := browserNoScript(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/connexion?retour=/idees/"+p.ID), chromedp.WaitVisible(chromedp.ID("connexion"))); err != nil {
		t.Fatal(err)
	}
	typeInto(t, ctx, "courriel", "agent@example.fr")
	typeInto(t, ctx, "mot-de-passe", password)
	submit(t, ctx, "#se-connecter")
	const update = "Les capteurs sont posés sur les trois ponts."
	typeInto(t, ctx, "realisation-texte", update)
	typeInto(t, ctx, "realisation-etape", "Pose des capteurs")
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("realisation-date"), "2026-11-30")); err != nil {
		t.Fatal(err)
	}
	typeInto(t, ctx, "realisation-avancement", "140")
	typeInto(t, ctx, "realisation-cout", "12 500")
	submit(t, ctx, "#publier-etape")
	if v := eval[string](t, ctx, `document.activeElement.id + "|" + document.getElementById("realisation-texte").value`); v != "realisation-avancement|"+update {
		t.Fatalf("refused update: focus|text = %q", v)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("realisation-avancement"), "40")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#publier-etape")
	if got := text(t, ctx, "#confirmation"); !strings.Contains(got, "Nouvelle étape publiée") {
		t.Fatalf("confirmation %q", got)
	}
	sum := text(t, ctx, "#realisation-resume")
	for _, want := range []string{"40 %", "12\u202f500 €", "40\u202f000 €", "1\u202f000\u202f000 €"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q: %q", want, sum)
		}
	}
	if got := text(t, ctx, "#etapes"); !strings.Contains(got, "Pose des capteurs (30\u00a0novembre 2026)") || !strings.Contains(got, update) {
		t.Errorf("milestones %q", got)
	}
	keepScreenshot(t, ctx, "realisation")
	var r civic.Realization
	e.call("GET", "/api/v1/ideas/"+p.ID+"/realization", "", nil, 200, &r)
	if len(r.Updates) != 1 || r.Progress == nil || *r.Progress != 40 || r.ActualCostEUR == nil || *r.ActualCostEUR != 12_500 {
		t.Fatalf("JSON realization %+v", r)
	}
	m := mp.WaitMail(t, fan, "nouvelles de la réalisation", 15*time.Second)
	for _, want := range []string{update, "Étape : Pose des capteurs (30\u00a0novembre 2026)", "Avancement : 40 %", "/idees/" + p.ID + "#realisation", "/desabonnement/"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("mail lacks %q:\n%s", want, m.Text)
		}
	}
	time.Sleep(500 * time.Millisecond) // the outbox polls every 100 ms: a mail to the other would be there
	for _, msg := range mp.Messages(t, quiet) {
		if strings.Contains(msg.Subject, "réalisation") {
			t.Error("a supporter who did not opt in got the mail")
		}
	}
}
