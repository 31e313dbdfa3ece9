package api_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestBrowserIdeasFilters, with JavaScript disabled: /idees filters by
// campaign, theme and status, searches the text (LIKE wildcards and markup
// taken as plain text), sorts by supports or date, and pages through 50 at
// a time keeping the filters; the form keeps its choices.
func TestBrowserIdeasFilters(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{VoteLimit: -1, ContributionLimit: -1})
	_, author := e.user(civic.RoleCitizen)
	var green civic.Campaign
	e.call("POST", "/api/v1/campaigns", e.admin, map[string]any{"id": "green-deal", "name": "GREEN Deal", "starts": time.Now().Add(-time.Hour), "ends": time.Now().Add(time.Hour)}, 201, &green)
	mk := func(campaign, theme, title string) *civic.Proposal {
		var p civic.Proposal
		e.call("POST", "/api/v1/ideas", author, map[string]any{"campaign_id": campaign, "theme_id": theme, "title": title, "body": "Texte de " + title + "."}, 201, &p)
		e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "published"}, 200, &p)
		return &p
	}
	ruches := mk("green-deal", "environnement-risques", "Des ruches au collège")
	haies := mk("green-deal", "environnement-risques", "Des haies à 100% locales")
	mk(e.campaign, "economie-tourisme", "Un parking vélo")
	for range 3 {
		_, v := e.user(civic.RoleCitizen)
		e.call("POST", "/api/v1/ideas/"+ruches.ID+"/vote", v, nil, 200, nil)
	}
	for i := range 52 { // three pages of the SMART Deal's with the one above
		mk(e.campaign, "securite", fmt.Sprintf("Éclairage n°%02d", i))
	}
	base := serve(t, e)
	ctx := browserNoScript(t)
	titles := func() string {
		t.Helper()
		return eval[string](t, ctx, `[...document.querySelectorAll("#propositions tbody tr td:first-child")].map(c => c.textContent).join("|")`)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/idees"), chromedp.WaitVisible(chromedp.ID("filtres"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("filtre-appel"), "green-deal"), chromedp.SetValue(chromedp.ID("filtre-tri"), "soutiens")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#filtrer")
	if got := titles(); got != "Des ruches au collège|Des haies à 100% locales" {
		t.Fatalf("GREEN Deal by supports: %q", got)
	}
	if v := eval[string](t, ctx, `document.getElementById("filtre-appel").value + "|" + document.getElementById("filtre-tri").value`); v != "green-deal|soutiens" {
		t.Errorf("the form forgot its choices: %q", v)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("filtre-tri"), "date")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#filtrer")
	if got := titles(); got != "Des haies à 100% locales|Des ruches au collège" {
		t.Fatalf("GREEN Deal by date: %q", got)
	}
	// Text search: a part of the title, then wildcards that match only themselves.
	for q, want := range map[string]string{"RUCHES": "Des ruches au collège", "100%": "Des haies à 100% locales", "%": "Des haies à 100% locales", "_": ""} {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/idees?appel=green-deal&q="+url.QueryEscape(q))); err != nil {
			t.Fatal(err)
		}
		if got := titles(); got != want {
			t.Errorf("q=%q: %q, want %q", q, got, want)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/idees?q="+url.QueryEscape(`<img src=x onerror=alert(1)>`))); err != nil {
		t.Fatal(err)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("main img").length`); n != 0 || !strings.Contains(text(t, ctx, "#aucune-proposition"), "Aucune proposition") {
		t.Errorf("markup in the search: %d images", n)
	}
	// Theme and status, then the pages of a filtered list.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/idees?theme=economie-tourisme&statut=published")); err != nil {
		t.Fatal(err)
	}
	if got := titles(); got != "Un parking vélo" {
		t.Errorf("theme and status: %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/idees?theme=securite&tri=date")); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(titles(), "|") + 1; n != 50 {
		t.Fatalf("first page: %d rows", n)
	}
	submit(t, ctx, `a[rel="next"]`)
	if loc := location(t, ctx); !strings.Contains(loc, "theme=securite") || !strings.Contains(loc, "page=2") {
		t.Fatalf("next page at %s", loc)
	}
	if got := titles(); got != "Éclairage n°01|Éclairage n°00" {
		t.Errorf("second page: %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('a[rel="next"]').length`); n != 0 {
		t.Error("a next page after the last")
	}
	keepScreenshot(t, ctx, "idees-filtres")
	// Hostile filters: an unknown sort or a status that is not public.
	for _, q := range []string{"tri=pirate", "statut=submitted", "statut=refused", "page=0", "q=" + strings.Repeat("x", 101)} {
		if resp, _ := e.send(e.request("GET", "/idees?"+q, "", nil, "Accept", "text/html")); resp.StatusCode != 400 {
			t.Errorf("/idees?%s: %d", q, resp.StatusCode)
		}
	}
	// The JSON list takes the same search and order.
	var ps []civic.Proposal
	e.call("GET", "/api/v1/ideas?campaign=green-deal&sort=supports", "", nil, 200, &ps)
	if len(ps) != 2 || ps[0].ID != ruches.ID || ps[1].ID != haies.ID {
		t.Errorf("JSON by supports %+v", ps)
	}
	e.call("GET", "/api/v1/ideas?q=ruches", "", nil, 200, &ps)
	if len(ps) != 1 || ps[0].ID != ruches.ID {
		t.Errorf("JSON search %+v", ps)
	}
	e.fieldProblem("GET", "/api/v1/ideas?sort=votes", "", nil, "sort")
}
