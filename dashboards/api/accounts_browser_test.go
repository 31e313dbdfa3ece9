package api_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// newBrowserMailEnv is the real API on 127.0.0.1 whose mails (links
// included) go through the real SMTP server mp.
func newBrowserMailEnv(t *testing.T, mp *testenv.Mailpit) (*env, string) {
	t.Helper()
	e := newMailEnv(t, sqltest.SQLite(t), api.Config{}, mp)
	base := serve(t, e)
	e.srv.SetPublicURL(base)
	return e, base
}

// TestBrowserVerifyAndSupport, with JavaScript off and on: sign up on
// /inscription, the proposal page asks to confirm the address (no support
// button), the verification mail arrives in mailpit, its link opens a page
// whose button confirms, and then the support counts.
func TestBrowserVerifyAndSupport(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	for _, js := range []bool{false, true} {
		name := "sans-javascript"
		if js {
			name = "avec-javascript"
		}
		t.Run(name, func(t *testing.T) {
			e, base := newBrowserMailEnv(t, mp)
			_, author := e.user(civic.RoleCitizen)
			p := e.idea(author, 45000, true)
			pageURL := base + "/idees/" + p.ID
			var ctx context.Context
			if js {
				ctx = browser(t)
			} else {
				ctx = browserNoScript(t)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(base+"/inscription?retour="+url.QueryEscape("/idees/"+p.ID)), chromedp.WaitVisible(chromedp.ID("inscription"))); err != nil {
				t.Fatal(err)
			}
			email := address("navigateur")
			typeInto(t, ctx, "nom", "Camille")
			typeInto(t, ctx, "courriel", email)
			typeInto(t, ctx, "mot-de-passe", "mot de passe très sûr")
			submit(t, ctx, "#creer-compte")
			if loc := location(t, ctx); loc != pageURL {
				t.Fatalf("after sign-up at %s", loc)
			}
			if got := text(t, ctx, "#confirmation"); !strings.Contains(got, "Un lien de confirmation vient d'être envoyé") {
				t.Errorf("confirmation %q", got)
			}
			if got := text(t, ctx, "section[aria-labelledby=soutien-titre] .verification-requise"); !strings.Contains(got, "Confirmez votre adresse e-mail pour soutenir") {
				t.Fatalf("notice %q", got)
			}
			if eval[bool](t, ctx, `document.getElementById("soutenir") !== null`) {
				t.Fatal("the support button is offered before verification")
			}

			m := mp.WaitMail(t, email, "Confirmez votre adresse e-mail", 30*time.Second)
			link := linkURL(t, m, "/verification")
			if !strings.HasPrefix(link, base+"/verification?jeton=") {
				t.Fatalf("link %q does not lead to %s", link, base)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("confirmer"))); err != nil {
				t.Fatal(err)
			}
			if h1 := text(t, ctx, "h1"); h1 != "Confirmer votre adresse e-mail" {
				t.Fatalf("h1 %q", h1)
			}
			if e.userByEmail(email).EmailVerified != nil {
				t.Fatal("opening the link verified the address")
			}
			tabTo(t, ctx, "#confirmer", 20) // reachable with the keyboard
			submit(t, ctx, "#confirmer")
			if got := text(t, ctx, "#confirmation"); !strings.Contains(got, "Votre adresse e-mail est confirmée") {
				t.Fatalf("after confirming: %q at %s", got, location(t, ctx))
			}
			if e.userByEmail(email).EmailVerified == nil {
				t.Fatal("address not verified")
			}

			if err := chromedp.Do(ctx, chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.ID("soutenir"))); err != nil {
				t.Fatal(err)
			}
			if js {
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("soutenir"))); err != nil {
					t.Fatal(err)
				}
				if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("soutiens").textContent === "1"`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
					t.Fatalf("count did not go to 1: %v (%q)", err, text(t, ctx, "#annonce"))
				}
			} else {
				submit(t, ctx, "#soutenir")
				if got := text(t, ctx, "#confirmation"); got != "Soutien enregistré." {
					t.Fatalf("confirmation %q", got)
				}
			}
			if n := e.votes(p.ID); n != 1 {
				t.Fatalf("database: %d votes, want 1", n)
			}
			keepScreenshot(t, ctx, "soutien-apres-verification-"+name)
		})
	}
}

// TestBrowserPasswordReset, without JavaScript: "Mot de passe oublié ?"
// from the sign-in form, the mail's link, the new password twice, sign in
// with it (back to the security page), then sign out everywhere.
func TestBrowserPasswordReset(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	e, base := newBrowserMailEnv(t, mp)
	email := address("reinit")
	e.account(civic.RoleCitizen, email, "l'ancien mot de passe")
	ctx := browserNoScript(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/connexion"), chromedp.WaitVisible(chromedp.ID("oubli"))); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#oubli")
	if loc := location(t, ctx); loc != base+"/mot-de-passe-oublie" {
		t.Fatalf("at %s", loc)
	}
	typeInto(t, ctx, "courriel", email)
	submit(t, ctx, "#envoyer-lien")
	if got := text(t, ctx, "#confirmation"); !strings.HasPrefix(got, "Si un compte existe pour cette adresse") {
		t.Fatalf("answer %q", got)
	}
	link := linkURL(t, mp.WaitMail(t, email, "Choisissez un nouveau mot de passe", 30*time.Second), "/mot-de-passe/nouveau")
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("mdp-nouveau"))); err != nil {
		t.Fatal(err)
	}
	if l := eval[string](t, ctx, `document.getElementById("mdp-nouveau").labels[0].textContent + "|" + document.getElementById("mdp-confirmation").labels[0].textContent`); l != "Nouveau mot de passe|Le même mot de passe, pour confirmer" {
		t.Errorf("labels %q", l)
	}
	const next = "un nouveau mot de passe très sûr"
	typeInto(t, ctx, "mdp-nouveau", next)
	typeInto(t, ctx, "mdp-confirmation", next)
	submit(t, ctx, "#changer-mot-de-passe")
	if loc := location(t, ctx); !strings.HasPrefix(loc, base+"/connexion?retour=") {
		t.Fatalf("after reset at %s", loc)
	}
	if got := text(t, ctx, "#confirmation"); !strings.Contains(got, "Votre mot de passe est changé") {
		t.Fatalf("confirmation %q", got)
	}
	typeInto(t, ctx, "courriel", email)
	typeInto(t, ctx, "mot-de-passe", next)
	submit(t, ctx, "#se-connecter")
	if loc := location(t, ctx); loc != base+"/compte/securite" {
		t.Fatalf("after sign-in at %s", loc)
	}
	if got := text(t, ctx, "#sessions tbody"); !strings.Contains(got, "navigateur (cette session)") {
		t.Fatalf("sessions %q", got)
	}
	keepScreenshot(t, ctx, "securite")
	submit(t, ctx, "#partout")
	if got := text(t, ctx, "#confirmation"); !strings.HasPrefix(got, "Toutes vos sessions sont fermées") {
		t.Fatalf("after sign-out everywhere %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("connexion"))); err != nil {
		t.Fatal(err)
	}
}
