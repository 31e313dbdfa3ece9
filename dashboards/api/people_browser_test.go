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

// TestBrowserMakeExpert, with JavaScript off and on: an administrator
// opens the back office from the header, searches a person by a part of
// her name, opens her account, makes her an expert with the role form, and
// finds the change in the audit log of the account; the database has the
// new role.
func TestBrowserMakeExpert(t *testing.T) {
	for _, js := range []bool{false, true} {
		name := "sans-javascript"
		if js {
			name = "avec-javascript"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
			const password = "un mot de passe solide"
			e.account(civic.RoleAdmin, "direction@example.fr", password)
			target := &civic.User{Email: "hydrologue@example.fr", Name: "Hélène Rivière", Role: civic.RoleCitizen, PasswordHash: "-"}
			if err := e.st.CreateUser(context.Background(), target); err != nil {
				t.Fatal(err)
			}
			base := serve(t, e)
			var ctx context.Context
			if js {
				ctx = browser(t)
			} else {
				ctx = browserNoScript(t)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/personnes"), chromedp.WaitVisible(chromedp.ID("connexion"))); err != nil {
				t.Fatal(err)
			}
			typeInto(t, ctx, "courriel", "direction@example.fr")
			typeInto(t, ctx, "mot-de-passe", password)
			submit(t, ctx, "#se-connecter")
			if loc := location(t, ctx); loc != base+"/admin/personnes" {
				t.Fatalf("after sign-in at %s", loc)
			}
			submit(t, ctx, "#nav-admin")
			submit(t, ctx, "#admin-personnes")
			typeInto(t, ctx, "recherche-texte", "rivi")
			if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("recherche-role"), "citizen")); err != nil {
				t.Fatal(err)
			}
			submit(t, ctx, "#rechercher")
			if loc := location(t, ctx); !strings.Contains(loc, "q=rivi") || !strings.Contains(loc, "role=citizen") {
				t.Fatalf("search at %s", loc)
			}
			if n := eval[int](t, ctx, `document.querySelectorAll("#personnes tbody tr").length`); n != 1 {
				t.Fatalf("%d results", n)
			}
			row := text(t, ctx, "#personne-"+target.ID)
			for _, want := range []string{"Hélène Rivière", "hydrologue@example.fr", "citoyen·ne", "actif"} {
				if !strings.Contains(row, want) {
					t.Errorf("row lacks %q: %q", want, row)
				}
			}
			keepScreenshot(t, ctx, "personnes-recherche")
			submit(t, ctx, "#personne-"+target.ID+" a")
			if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("nouveau-role"), "expert")); err != nil {
				t.Fatal(err)
			}
			submit(t, ctx, "#enregistrer-role")
			if loc := location(t, ctx); loc != base+"/admin/personnes/"+target.ID {
				t.Fatalf("after the role change at %s", loc)
			}
			if got := text(t, ctx, "#confirmation"); got != "Le rôle est changé." {
				t.Errorf("confirmation %q", got)
			}
			if got := text(t, ctx, "#role-actuel"); got != "expert·e" {
				t.Errorf("role shown %q", got)
			}
			if u := e.userByEmail("hydrologue@example.fr"); u.Role != civic.RoleExpert {
				t.Fatalf("role in the database %s", u.Role)
			}
			// The change is in the log, by its author: the journal filtered by action.
			if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/journal")); err != nil {
				t.Fatal(err)
			}
			typeInto(t, ctx, "journal-action", "user.role")
			submit(t, ctx, "#filtrer")
			if got := text(t, ctx, "#journal tbody"); !strings.Contains(got, "user.role") || !strings.Contains(got, target.ID) || !strings.Contains(got, "expert") || !strings.Contains(got, "Dominique") {
				t.Errorf("journal %q", got)
			}
			keepScreenshot(t, ctx, "journal")
		})
	}
}
