package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

func setValue(t *testing.T, ctx context.Context, id, value string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID(id), value)); err != nil {
		t.Fatalf("set #%s: %v", id, err)
	}
}

// TestBrowserSubmitAndComment: with JavaScript disabled in Chromium, a
// citizen follows "Déposer une proposition" from the list, signs in, gets
// the form back with one refused field, fixes it and submits; an
// administrator publishes the proposal (JSON API); the citizen comments
// through the page's form; once an administrator approves the comment, the
// page shows it. The database is checked at each step.
func TestBrowserSubmitAndComment(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	const email, password = "lou@example.fr", "un mot de passe solide"
	lou := e.account(civic.RoleCitizen, email, password)
	base := serve(t, e)

	ctx := browserNoScript(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/idees"), chromedp.WaitVisible(chromedp.ID("appel-deposer"))); err != nil {
		t.Fatal(err)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('nav a[href="/idees/nouvelle"]').length`); n != 1 {
		t.Fatalf("%d links to the form in the header", n)
	}

	// The call to action leads to the sign-in form, which comes back.
	submit(t, ctx, "#appel-deposer")
	if loc := location(t, ctx); loc != base+"/connexion?retour=%2Fidees%2Fnouvelle" {
		t.Fatalf("anonymous form at %s, want the sign-in page", loc)
	}
	typeInto(t, ctx, "courriel", email)
	typeInto(t, ctx, "mot-de-passe", password)
	submit(t, ctx, "#se-connecter")
	if loc := location(t, ctx); loc != base+"/idees/nouvelle" {
		t.Fatalf("after sign-in at %s, want the form", loc)
	}

	// A cost with cents: the form again, the field marked and focused, the
	// rest kept.
	const title = "Fontaines à eau sur la promenade"
	typeInto(t, ctx, "titre", title)
	typeInto(t, ctx, "texte", "Trois fontaines d'eau potable le long de la promenade.")
	setValue(t, ctx, "theme", "sante-solidarite")
	typeInto(t, ctx, "cout", "12,50")
	setValue(t, ctx, "latitude", "43.695")
	setValue(t, ctx, "longitude", "7.265")
	submit(t, ctx, "#deposer")
	if loc := location(t, ctx); loc != base+"/idees/nouvelle" {
		t.Fatalf("refused form at %s", loc)
	}
	if got := text(t, ctx, "#erreur"); !strings.HasPrefix(got, "Erreur : Indiquez le coût estimé en euros") {
		t.Fatalf("error %q", got)
	}
	if v := eval[string](t, ctx, `[document.activeElement.id, document.getElementById("cout").getAttribute("aria-invalid"),
		document.getElementById("titre").value, document.getElementById("theme").value, document.getElementById("latitude").value].join("|")`); v != "cout|true|"+title+"|sante-solidarite|43.695" {
		t.Fatalf("focus|invalid|title|theme|lat = %q", v)
	}
	if n := len(e.proposals()); n != 0 {
		t.Fatalf("%d proposals stored by a refused form", n)
	}
	keepScreenshot(t, ctx, "proposition-erreur")

	if err := chromedp.Do(ctx, chromedp.Clear(chromedp.ID("cout"))); err != nil {
		t.Fatal(err)
	}
	typeInto(t, ctx, "cout", "45 000")
	submit(t, ctx, "#deposer")
	ps := e.proposals()
	if len(ps) != 1 {
		t.Fatalf("%d proposals stored", len(ps))
	}
	p := ps[0]
	pageURL := base + "/idees/" + p.ID
	if loc := location(t, ctx); loc != pageURL {
		t.Fatalf("after submitting at %s, want %s", loc, pageURL)
	}
	if got := text(t, ctx, "#confirmation"); !strings.HasPrefix(got, "Votre proposition est déposée : elle sera publiée après modération.") {
		t.Fatalf("confirmation %q", got)
	}
	if p.Status != civic.StatusSubmitted || p.AuthorID != lou.ID || p.Title != title || p.EstimatedCostEUR != 45000 ||
		p.ThemeID != "sante-solidarite" || p.CampaignID != e.campaign || p.Location == nil || p.Location.Lat != 43.695 || p.Location.Lon != 7.265 {
		t.Fatalf("stored %+v", p)
	}
	if got := text(t, ctx, "dd.statut"); got != "déposée" {
		t.Fatalf("status shown %q", got)
	}

	// Published by an administrator: the page offers the comment form.
	e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "published"}, 200, nil)
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.ID("commentaire"))); err != nil {
		t.Fatal(err)
	}
	const remark = "Et une à la gare routière, s'il vous plaît."
	typeInto(t, ctx, "commentaire-texte", remark)
	submit(t, ctx, "#commenter")
	if loc := location(t, ctx); loc != pageURL {
		t.Fatalf("after commenting at %s", loc)
	}
	if got := text(t, ctx, "#confirmation"); got != "Commentaire envoyé : il sera publié après modération." {
		t.Fatalf("confirmation %q", got)
	}
	cs := e.allComments(p.ID)
	if len(cs) != 1 || cs[0].Status != civic.CommentPending || cs[0].AuthorID != lou.ID || cs[0].Body != remark {
		t.Fatalf("stored comments %+v", cs)
	}
	if got := text(t, ctx, "#commentaires"); got != "Commentaires (0)" {
		t.Fatalf("pending comment counted: %q", got)
	}

	// Approved by an administrator: shown with the author's name and date.
	e.call("PUT", "/api/v1/comments/"+cs[0].ID+"/status", e.admin, map[string]any{"status": "approved"}, 200, nil)
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.CSS("ol.commentaires"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#commentaires"); got != "Commentaires (1)" {
		t.Fatalf("heading %q", got)
	}
	got := text(t, ctx, "ol.commentaires")
	if !strings.Contains(got, "Dominique, le ") || !strings.Contains(got, remark) || !frDateRe.MatchString(">"+strings.TrimSpace(text(t, ctx, "ol.commentaires time"))+"</time>") {
		t.Fatalf("comments shown: %q", got)
	}
	keepScreenshot(t, ctx, "idee-commentaire")
}
