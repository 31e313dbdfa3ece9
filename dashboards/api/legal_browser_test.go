package api_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/pages/legal"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestBrowserLegalPagesNoScript: with JavaScript disabled in Chromium, a
// visitor goes from the proposal list through the footer to each legal
// page, and opens the statement's list of checked rules with the keyboard.
func TestBrowserLegalPagesNoScript(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	base := serve(t, e)
	ctx := browserNoScript(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/idees"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ path, h1 string }{{"/mentions-legales", "Mentions légales"}, {"/confidentialite", "Politique de confidentialité"},
		{"/conditions-utilisation", "Conditions d'utilisation"}, {"/accessibilite", "Déclaration d'accessibilité"}} {
		submit(t, ctx, `footer nav[aria-label="Informations légales"] a[href="`+p.path+`"]`)
		if loc := location(t, ctx); loc != base+p.path {
			t.Fatalf("footer link to %s led to %s", p.path, loc)
		}
		if h1 := text(t, ctx, "h1"); h1 != p.h1 {
			t.Errorf("%s: h1 %q, want %q", p.path, h1, p.h1)
		}
	}
	checks, err := legal.Accessibility()
	if err != nil {
		t.Fatal(err)
	}
	if eval[bool](t, ctx, `document.querySelector("details").open`) {
		t.Fatal("rule list open before asking")
	}
	tabTo(t, ctx, "details summary", 60)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	if n := eval[int](t, ctx, `[...document.querySelectorAll("details li")].filter(li => li.getBoundingClientRect().height > 0).length`); n != len(checks.Rules) {
		t.Fatalf("%d rules shown after Enter, want %d", n, len(checks.Rules))
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#resultats-pages tbody tr").length`); n != len(checks.Pages) {
		t.Fatalf("%d result rows, want %d", n, len(checks.Pages))
	}
	// A placeholder is marked, not only coloured: its text says so.
	if got := text(t, ctx, "#contact ~ ul .a-completer"); got != "[à compléter : legal.contact_email]" {
		t.Errorf("placeholder %q", got)
	}
	keepScreenshot(t, ctx, "accessibilite")
}
