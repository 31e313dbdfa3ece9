package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestBrowserAlertSubscription, with JavaScript on and off: a risk manager
// subscribes to a site's alerts from its page (the button says it, the
// page then says so), finds it in « Mes abonnements » on /alertes/regles
// and unsubscribes from there.
func TestBrowserAlertSubscription(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	e, base := newBrowserMailEnv(t, mp)
	e.field()
	const password = "un mot de passe solide"
	for _, mode := range []struct {
		name    string
		browser func(*testing.T) context.Context
	}{{"js", browser}, {"nojs", browserNoScript}} {
		t.Run(mode.name, func(t *testing.T) {
			email := address("abonnement-" + mode.name)
			e.account(civic.RoleRiskManager, email, password)
			ctx := mode.browser(t)
			if err := chromedp.Do(ctx, chromedp.Navigate(base+"/connexion?retour=/sites/var-estuaire"), chromedp.WaitVisible(chromedp.ID("connexion"))); err != nil {
				t.Fatal(err)
			}
			typeInto(t, ctx, "courriel", email)
			typeInto(t, ctx, "mot-de-passe", password)
			submit(t, ctx, "#se-connecter")
			if got := text(t, ctx, "#abonnement-site"); !strings.Contains(got, "Recevoir par e-mail toutes les alertes de ce site") {
				t.Fatalf("site page form %q", got)
			}
			submit(t, ctx, "#abonnement-site button")
			if got := text(t, ctx, "#confirmation"); !strings.Contains(got, "Abonnement enregistré") {
				t.Fatalf("confirmation %q", got)
			}
			if got := text(t, ctx, "#abonnement-site"); !strings.Contains(got, "Vous recevez par e-mail les alertes de ce site") {
				t.Fatalf("site page after subscribing %q", got)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(base+"/alertes/regles"), chromedp.WaitVisible(chromedp.ID("abonnements"))); err != nil {
				t.Fatal(err)
			}
			if got := text(t, ctx, "#abonnements"); !strings.Contains(got, "site var-estuaire") {
				t.Fatalf("my subscriptions %q", got)
			}
			submit(t, ctx, "#abonnements button")
			if got := text(t, ctx, "#confirmation"); !strings.Contains(got, "Abonnement supprimé") {
				t.Fatalf("confirmation %q", got)
			}
			if got := text(t, ctx, "#mes-abonnements + p + p"); !strings.Contains(got, "Aucun abonnement") {
				t.Errorf("after unsubscribing %q", got)
			}
		})
	}
}
