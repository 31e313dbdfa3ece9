package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestBrowserCreateCampaign, with JavaScript off and on: an administrator
// adds a theme, creates the GREEN Deal with it (a refused budget first: the
// field is focused and what was typed kept), finds it listed with its
// rule and theme, closes its vote, and opens its public results page.
func TestBrowserCreateCampaign(t *testing.T) {
	for _, js := range []bool{false, true} {
		name := "sans-javascript"
		if js {
			name = "avec-javascript"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
			const password = "un mot de passe solide"
			e.account(civic.RoleAdmin, "appels@example.fr", password)
			base := serve(t, e)
			var ctx context.Context
			if js {
				ctx = browser(t)
			} else {
				ctx = browserNoScript(t)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/appels"), chromedp.WaitVisible(chromedp.ID("connexion"))); err != nil {
				t.Fatal(err)
			}
			typeInto(t, ctx, "courriel", "appels@example.fr")
			typeInto(t, ctx, "mot-de-passe", password)
			submit(t, ctx, "#se-connecter")
			if loc := location(t, ctx); loc != base+"/admin/appels" {
				t.Fatalf("after sign-in at %s", loc)
			}
			typeInto(t, ctx, "theme-id", "biodiversite")
			typeInto(t, ctx, "theme-nom", "Biodiversité")
			submit(t, ctx, "#ajouter-theme")
			if got := text(t, ctx, "#confirmation"); got != "Le thème est ajouté." {
				t.Fatalf("theme confirmation %q", got)
			}
			day := func(d time.Duration) string { return time.Now().UTC().Add(d).Format(time.DateOnly) }
			typeInto(t, ctx, "appel-nom", "GREEN Deal")
			typeInto(t, ctx, "appel-id", "green-deal")
			setDate := func(id, v string) {
				if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID(id), v)); err != nil {
					t.Fatal(err)
				}
			}
			setDate("appel-debut", day(-24*time.Hour))
			setDate("appel-fin", day(60*24*time.Hour))
			typeInto(t, ctx, "appel-budget", "deux cents")
			typeInto(t, ctx, "appel-top", "2")
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("appel-theme-biodiversite"))); err != nil {
				t.Fatal(err)
			}
			submit(t, ctx, "#creer")
			if v := eval[string](t, ctx, `[document.activeElement.id, document.getElementById("appel-nom").value, document.getElementById("appel-theme-biodiversite").checked].join("|")`); v != "appel-budget|GREEN Deal|true" {
				t.Fatalf("refused form: focus|name|theme = %q", v)
			}
			if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("appel-budget"), "250 000")); err != nil {
				t.Fatal(err)
			}
			submit(t, ctx, "#creer")
			if got := text(t, ctx, "#confirmation"); got != "L'appel est créé." {
				t.Fatalf("confirmation %q", got)
			}
			got := text(t, ctx, "#resume-green-deal")
			for _, want := range []string{"propositions citoyennes", "en cours", "250\u202f000 €", "les 2 plus soutenues de chaque thème", "Biodiversité"} {
				if !strings.Contains(got, want) {
					t.Errorf("campaign lacks %q: %q", want, got)
				}
			}
			keepScreenshot(t, ctx, "appels")
			submit(t, ctx, "#cloture-green-deal")
			if got := text(t, ctx, "#confirmation"); !strings.Contains(got, "Le vote est clos") {
				t.Fatalf("close confirmation %q", got)
			}
			if got := text(t, ctx, "#resume-green-deal"); !strings.Contains(got, "hors période") {
				t.Errorf("closed campaign %q", got)
			}
			cp, err := e.st.Campaign(context.Background(), "green-deal")
			if err != nil || cp.BudgetEUR != 250_000 || cp.ShortlistTopN != 2 || cp.Open(time.Now()) {
				t.Fatalf("stored campaign %+v %v", cp, err)
			}
			submit(t, ctx, `a[href="/appels/green-deal/resultats"]`)
			if h := text(t, ctx, "h1"); h != "Résultats : GREEN Deal" {
				t.Fatalf("results title %q", h)
			}
			if got := text(t, ctx, `section[aria-labelledby="retenues"]`); !strings.Contains(got, "aucune proposition") {
				t.Errorf("results %q", got)
			}
		})
	}
}
