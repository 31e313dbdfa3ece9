package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// submit clicks css and waits for the page that the form post leads to.
func submit(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(css)))); err != nil {
		t.Fatalf("submit %s: %v", css, err)
	}
}

func typeInto(t *testing.T, ctx context.Context, id, value string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID(id), value)); err != nil {
		t.Fatalf("type into #%s: %v", id, err)
	}
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestBrowserNoScript uses the pages with JavaScript disabled in Chromium:
// sign up through the form, sign out, a wrong password then the right one,
// support (count and database +1, confirmation), withdraw, sign out. Every
// step is a form post and a 303 back; nothing depends on the page script.
func TestBrowserNoScript(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	_, author := e.user(civic.RoleCitizen)
	p := e.idea(author, 45000, true)
	e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", author, nil, 200, nil)
	base := serve(t, e)
	pageURL := base + "/idees/" + p.ID

	ctx := browserNoScript(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.ID("connexion"))); err != nil {
		t.Fatal(err)
	}
	// Sign up from the navigation link; the form returns to the proposal.
	submit(t, ctx, `nav a[href^="/inscription"]`)
	if !strings.Contains(location(t, ctx), "/inscription?retour=") {
		t.Fatalf("at %s", location(t, ctx))
	}
	const email, password = "camille@example.fr", "mot de passe très sûr"
	typeInto(t, ctx, "nom", "Camille")
	typeInto(t, ctx, "courriel", email)
	typeInto(t, ctx, "mot-de-passe", password)
	submit(t, ctx, "#creer-compte")
	if loc := location(t, ctx); loc != pageURL {
		t.Fatalf("after sign-up at %s, want the proposal page", loc)
	}
	if got := text(t, ctx, "#confirmation"); !strings.Contains(got, "Votre compte citoyen est créé") {
		t.Fatalf("confirmation %q", got)
	}
	if u, err := e.st.UserByEmail(context.Background(), email); err != nil || u.Role != civic.RoleCitizen {
		t.Fatalf("account %v %v", u, err)
	}
	e.verify(email) // TestBrowserVerifyAndSupport follows the real link

	// Sign out, then a wrong password: the sign-in page with the error,
	// focused on the e-mail field, marked invalid.
	submit(t, ctx, "#deconnexion")
	if got := text(t, ctx, "#confirmation"); got != "Vous êtes déconnecté·e." {
		t.Fatalf("after sign-out %q", got)
	}
	typeInto(t, ctx, "courriel", email)
	typeInto(t, ctx, "mot-de-passe", "pas le bon mot de passe")
	submit(t, ctx, "#se-connecter")
	if loc := location(t, ctx); !strings.HasSuffix(loc, "/connexion") {
		// With scripts on, the page script would have answered in place.
		t.Fatalf("wrong password at %s, want the /connexion page of the form post", loc)
	}
	if got := text(t, ctx, "#erreur"); got != "Erreur : Adresse e-mail ou mot de passe incorrect." {
		t.Fatalf("error %q", got)
	}
	if v := eval[string](t, ctx, `document.getElementById("courriel").getAttribute("aria-invalid") + " " + document.activeElement.id + " " + document.getElementById("erreur").getAttribute("role")`); v != "true courriel alert" {
		t.Fatalf("invalid/focus/role: %q", v)
	}
	if v := eval[string](t, ctx, `document.getElementById("courriel").value`); v != email {
		t.Fatalf("e-mail not kept: %q", v)
	}
	typeInto(t, ctx, "mot-de-passe", password)
	submit(t, ctx, "#se-connecter")
	if loc := location(t, ctx); loc != pageURL {
		t.Fatalf("after sign-in at %s", loc)
	}
	if got := text(t, ctx, "#confirmation"); got != "Vous êtes connecté·e." {
		t.Fatalf("after sign-in %q", got)
	}

	// Support: the count goes from 1 to 2, in the page and in the database.
	if got := text(t, ctx, "#soutiens"); got != "1" {
		t.Fatalf("votes before %q", got)
	}
	submit(t, ctx, "#soutenir")
	if got := text(t, ctx, "#confirmation"); got != "Soutien enregistré." {
		t.Fatalf("confirmation %q", got)
	}
	if c, b := text(t, ctx, "#soutiens"), text(t, ctx, "#soutenir"); c != "2" || b != "Retirer mon soutien" {
		t.Fatalf("after support: votes %q, button %q", c, b)
	}
	if focused := eval[string](t, ctx, `document.activeElement.id`); focused != "confirmation" {
		t.Errorf("focus on %q after the redirect, want the confirmation", focused)
	}
	if n := e.votes(p.ID); n != 2 {
		t.Fatalf("database: %d votes, want 2", n)
	}
	keepScreenshot(t, ctx, "idee-sans-js-soutenue")

	// Withdraw: back to 1.
	submit(t, ctx, "#soutenir")
	if got := text(t, ctx, "#confirmation"); got != "Soutien retiré." {
		t.Fatalf("confirmation %q", got)
	}
	if got := text(t, ctx, "#soutiens"); got != "1" {
		t.Fatalf("after withdraw %q", got)
	}
	if n := e.votes(p.ID); n != 1 {
		t.Fatalf("database: %d votes, want 1", n)
	}

	// Sign out: the form again, and the session is gone.
	submit(t, ctx, "#deconnexion")
	if got := text(t, ctx, "#confirmation"); got != "Vous êtes déconnecté·e." {
		t.Fatalf("after sign-out %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("connexion"))); err != nil {
		t.Fatal(err)
	}
}
