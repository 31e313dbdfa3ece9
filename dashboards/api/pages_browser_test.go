package api_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/browsertest"
)

// browser starts Debian's headless Chromium for one test (browsertest.New).
// A missing browser is a failure, never a skip: the pages are only tested
// through it.
func browser(t *testing.T) context.Context {
	t.Helper()
	return browsertest.New(t)
}

// browserNoScript is browser with JavaScript disabled: what a visitor
// without scripts (or whose script failed to load) gets.
func browserNoScript(t *testing.T) context.Context {
	t.Helper()
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// browserEnv is the real API on 127.0.0.1 with SQLite in t.TempDir and a
// fresh database in the shared InfluxDB holding one known series: water_level
// of var-estuaire/level-1, ten one-minute points 0.5, 1.5 … 9.5 ending two
// minutes before now. The page covers two hours in 1-minute windows, so every
// point is its own window and the page shows the written values.
type browserEnv struct {
	*env
	base    string
	p       *civic.Proposal
	citizen string // bearer token of the author
}

const (
	browserTitle   = "Capteurs de crue sur l'estuaire du Var"
	browserMission = "Relevé de la crue du Var"
)

func newBrowserEnv(t *testing.T) *browserEnv {
	meas, in, db := freshInflux(t)
	e := newEnv(t, sqltest.SQLite(t), meas, api.Config{PageRange: 2 * time.Hour, PageSeriesPoints: 121, SignInLimit: 100}) // the accessibility run signs in as many people in a row
	agentID, agent := e.field()
	stop := time.Now().UTC().Truncate(time.Minute)
	var lines []string
	for i := range 10 {
		lines = append(lines, fmt.Sprintf("telemetry,site=var-estuaire,device=level-1,quantity=water_level,unit=m value=%g %d",
			0.5+float64(i), stop.Add(time.Duration(i-11)*time.Minute).Unix()))
	}
	writeLP(t, in.URL, db+"/autogen", lines)

	_, citizen := e.user(civic.RoleCitizen)
	var p civic.Proposal
	e.call("POST", "/api/v1/ideas", citizen, map[string]any{"campaign_id": e.campaign, "theme_id": "environnement-risques",
		"title": browserTitle, "body": "Installer des capteurs de niveau d'eau pour prévenir les crues.",
		"estimated_cost_eur": 45000, "location": map[string]float64{"lat": 43.70, "lon": 7.25}}, 201, &p)
	e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "published"}, 200, &p)
	e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", citizen, nil, 200, nil)
	e.call("POST", "/api/v1/links", e.admin, map[string]any{"proposal_id": p.ID, "site_id": "var-estuaire", "device_id": "level-1", "quantity": "water_level"}, 201, nil)
	// A second, unpublished proposal must not be listed.
	e.idea(citizen, 10, false)

	// A flood survey flown for the proposal: three fixes tagged with the
	// mission (222 m flown, 50 m high, 5 % of battery), then completed.
	m := mission(agentID, square(7.2, 43.65))
	m["id"], m["title"], m["proposal_ids"] = "crue-var-page", browserMission, []string{p.ID}
	e.call("POST", "/api/v1/missions", e.admin, m, 201, nil)
	e.call("POST", "/api/v1/missions/crue-var-page/status", agent, map[string]any{"status": "active"}, 200, nil)
	ts := time.Now().Unix()
	lines = nil
	for i, f := range [][4]float64{{43.650, 7.2, 10, 95}, {43.651, 7.2, 50, 93}, {43.652, 7.2, 30, 90}} {
		for j, q := range []string{"latitude", "longitude", "relative_altitude", "battery_remaining"} {
			lines = append(lines, fmt.Sprintf("telemetry,site=var-estuaire,device=drone-1,quantity=%s,mission=crue-var-page value=%g %d", q, f[j], ts+int64(i)))
		}
	}
	writeLP(t, in.URL, db+"/autogen", lines)
	e.call("POST", "/api/v1/missions/crue-var-page/status", agent, map[string]any{"status": "completed"}, 200, nil)
	return &browserEnv{env: e, base: serve(t, e), p: &p, citizen: citizen}
}

func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return s
}

func eval[T any](t *testing.T, ctx context.Context, js string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// tabTo presses Tab until the focused element matches css (at most max
// times) and returns how many presses it took.
func tabTo(t *testing.T, ctx context.Context, css string, max int) int {
	t.Helper()
	for i := 1; i <= max; i++ {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		if eval[bool](t, ctx, fmt.Sprintf(`document.activeElement !== null && document.activeElement.matches(%q)`, css)) {
			return i
		}
	}
	t.Fatalf("%s not reached with %d Tab presses (focus on %s)", css, max,
		eval[string](t, ctx, `document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : "none"`))
	return 0
}

// keepScreenshot saves a PNG of the page into $SMARTDEAL_SCREENSHOTS when
// it is set (to look at the pages after a run).
func keepScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("SMARTDEAL_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserPages drives the proposal pages with a real Chromium against
// the real API server, SQLite and InfluxDB.
func TestBrowserPages(t *testing.T) {
	e := newBrowserEnv(t)
	ctx := browser(t)

	// The list shows the published proposal (French text) and only it.
	if err := chromedp.Do(ctx, chromedp.Navigate(e.base+"/idees"), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
		t.Fatal(err)
	}
	if lang := eval[string](t, ctx, `document.documentElement.lang`); lang != "fr" {
		t.Fatalf("lang %q", lang)
	}
	main := text(t, ctx, "main")
	if !strings.Contains(main, browserTitle) || !strings.Contains(main, "publiée") || !strings.Contains(main, "Environnement") {
		t.Fatalf("list page: %q", main)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('main table a[href^="/idees/"]').length`); n != 1 {
		t.Fatalf("%d proposals listed, want 1 (the unpublished one must not show)", n)
	}

	// Keyboard: the skip link comes first, then Tab reaches the proposal's
	// link and Enter follows it.
	if first := tabTo(t, ctx, "a.skip", 1); first != 1 {
		t.Fatal("skip link is not the first focusable element")
	}
	tabTo(t, ctx, fmt.Sprintf(`main a[href="/idees/%s"]`, e.p.ID), 20) // past the filter form
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.KeyEvent(kb.Enter))); err != nil {
		t.Fatal(err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/idees/"+e.p.ID) {
		t.Fatalf("Enter on the focused link did not open the proposal (at %s): %v", loc, err)
	}

	// The proposal page: title, vote count, linked series values.
	if h1 := text(t, ctx, "h1"); h1 != browserTitle {
		t.Fatalf("h1 %q", h1)
	}
	page := text(t, ctx, "main")
	for _, want := range []string{"Soutiens", "45\u202f000 €", "var-estuaire / level-1 / water_level", "0,50", "9,50"} {
		if !strings.Contains(page, want) {
			t.Errorf("proposal page lacks %q:\n%s", want, page)
		}
	}
	if v := eval[string](t, ctx, `(() => { for (const dt of document.querySelectorAll("dt")) if (dt.textContent.trim() === "Soutiens") return dt.nextElementSibling.textContent.trim(); return "" })()`); v != "1" {
		t.Fatalf("vote count %q, want 1", v)
	}

	// Every link of the page is reachable with the keyboard (no tabindex=-1).
	if n := eval[int](t, ctx, `[...document.querySelectorAll("a[href]")].filter(a => a.tabIndex < 0).length`); n != 0 {
		t.Fatalf("%d links are not focusable", n)
	}

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "idee.jpg")
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Size() == 0 {
		t.Fatalf("screenshot %v %v", fi, err)
	}
	keepScreenshot(t, ctx, "idee")
}

// TestBrowserChartAndMissions checks the proposal page's accessible chart
// (inline SVG with a text alternative and a table of the same values) and
// the mission flown for the proposal, with its summary from the track.
func TestBrowserChartAndMissions(t *testing.T) {
	e := newBrowserEnv(t)
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.base+"/idees/"+e.p.ID), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	// Landmarks.
	for _, css := range []string{"header", "nav[aria-label]", "main#contenu", "footer", "section[aria-labelledby=mesures]"} {
		if !eval[bool](t, ctx, fmt.Sprintf(`document.querySelector(%q) !== null`, css)) {
			t.Errorf("no %s", css)
		}
	}
	// The chart: an image named by its title and described by its summary.
	label := eval[string](t, ctx, `(() => { const s = document.querySelector("svg#serie-1"); return s.getAttribute("role") + "|" +
		s.getAttribute("aria-labelledby").split(" ").map(id => document.getElementById(id).textContent).join("|") })()`)
	for _, want := range []string{"img|", "Niveau d'eau (m), var-estuaire / level-1", "10 moyennes", "minimum 0,5\u00a0m", "maximum 9,5\u00a0m"} {
		if !strings.Contains(label, want) {
			t.Errorf("chart label %q lacks %q", label, want)
		}
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("svg#serie-1 circle").length`); n != 10 {
		t.Errorf("%d point markers, want 10", n)
	}
	if w := eval[float64](t, ctx, `document.querySelector("svg#serie-1").getBoundingClientRect().width`); w < 300 {
		t.Errorf("chart drawn %g px wide", w)
	}
	// The table alternative: opened with the keyboard, same values.
	tabTo(t, ctx, "details summary", 30)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	if !eval[bool](t, ctx, `document.querySelector("details").open`) {
		t.Fatal("Enter on the summary did not open the table")
	}
	vals := eval[[]string](t, ctx, `[...document.querySelectorAll("#serie-1-valeurs tbody tr td:last-child")].map(td => td.textContent)`)
	if strings.Join(vals, " ") != "0,5 1,5 2,5 3,5 4,5 5,5 6,5 7,5 8,5 9,5" {
		t.Fatalf("table values %q", vals)
	}
	// The mission flown for the proposal.
	ms := text(t, ctx, "#mission-crue-var-page")
	for _, want := range []string{browserMission, "Relevé de crue", "terminée", "222\u00a0m", "50\u00a0m", "5\u00a0%", "3 positions"} {
		if !strings.Contains(ms, want) {
			t.Errorf("mission lacks %q:\n%s", want, ms)
		}
	}
	keepScreenshot(t, ctx, "idee-graphique")
}

// TestBrowserSignInAndVote signs a citizen in through the page's form (cookie
// session), supports the proposal with the keyboard (count +1), checks that a
// second support does not count twice and that the CSRF token is required,
// then withdraws and signs out.
func TestBrowserSignInAndVote(t *testing.T) {
	e := newBrowserEnv(t)
	const email, password = "camille@example.fr", "mot de passe très sûr"
	e.call("POST", "/api/v1/auth/signup", "", map[string]any{"email": email, "name": "Camille", "password": password}, 201, nil)
	e.verify(email) // TestBrowserVerifyAndSupport follows the real link
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.base+"/idees/"+e.p.ID), chromedp.WaitVisible(chromedp.ID("connexion"))); err != nil {
		t.Fatal(err)
	}
	// The page's nonce'd script and style run under the CSP: the form is
	// revealed by the script, the button styled by the stylesheet.
	if bg := eval[string](t, ctx, `getComputedStyle(document.getElementById("se-connecter")).backgroundColor`); bg != "rgb(6, 69, 173)" {
		t.Errorf("button background %q: the nonce'd stylesheet did not apply", bg)
	}
	// Labels name the fields.
	if l := eval[string](t, ctx, `document.getElementById("mot-de-passe").labels[0].textContent`); l != "Mot de passe" {
		t.Errorf("password label %q", l)
	}

	// A wrong password: an announced error, nothing else.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("courriel"), email), chromedp.SendKeys(chromedp.ID("mot-de-passe"), "faux"),
		chromedp.Click(chromedp.ID("se-connecter"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("annonce").textContent.includes("incorrect")`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("no error announced: %v (%q)", err, text(t, ctx, "#annonce"))
	}
	if inv := eval[string](t, ctx, `document.getElementById("courriel").getAttribute("aria-invalid")`); inv != "true" {
		t.Errorf("aria-invalid %q", inv)
	}

	// The right password signs in with a cookie session and reloads the page.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("mot-de-passe").value = ""`),
		chromedp.SendKeys(chromedp.ID("mot-de-passe"), password)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.ID("se-connecter")))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("soutenir"))); err != nil {
		t.Fatal(err)
	}
	if nav := text(t, ctx, "nav"); !strings.Contains(nav, "Camille") || !strings.Contains(nav, "citoyen") {
		t.Errorf("nav %q", nav)
	}
	if eval[bool](t, ctx, `document.cookie.includes("sd_session")`) {
		t.Error("session cookie readable by scripts (not HttpOnly)")
	}
	votes := func() string { return text(t, ctx, "#soutiens") }
	if v := votes(); v != "1" {
		t.Fatalf("votes before %q", v)
	}

	// Support with the keyboard: Tab to the button, Enter.
	tabTo(t, ctx, "#soutenir", 20)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("soutiens").textContent === "2"`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("count did not go to 2: %v (%q, %q)", err, votes(), text(t, ctx, "#annonce"))
	}
	for id, want := range map[string]string{"#annonce": "Soutien enregistré : 2 soutiens.", "#mon-soutien": "Vous soutenez cette proposition.", "#soutenir": "Retirer mon soutien"} {
		if got := text(t, ctx, id); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if focused := eval[string](t, ctx, `document.activeElement.id`); focused != "soutenir" {
		t.Errorf("focus moved to %q after voting", focused)
	}

	// Voting twice: the same API call from the page counts once; without the
	// CSRF token it is refused.
	again := eval[int](t, ctx, `fetch(document.getElementById("soutenir").dataset.url, {method: "POST",
		headers: {"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content}}).then(r => r.json()).then(v => v.votes)`, chromedp.EvalAwaitPromise)
	if again != 2 {
		t.Fatalf("second vote gives %d, want 2", again)
	}
	if st := eval[int](t, ctx, `fetch(document.getElementById("soutenir").dataset.url, {method: "POST"}).then(r => r.status)`, chromedp.EvalAwaitPromise); st != 403 {
		t.Fatalf("vote without CSRF token: %d, want 403", st)
	}
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Reload())); err != nil {
		t.Fatal(err)
	}
	if v, b := votes(), text(t, ctx, "#soutenir"); v != "2" || b != "Retirer mon soutien" {
		t.Fatalf("after reload: votes %q, button %q", v, b)
	}
	var p civic.Proposal
	e.call("GET", "/api/v1/ideas/"+e.p.ID, "", nil, 200, &p)
	if p.Votes != 2 {
		t.Fatalf("API says %d votes, want 2", p.Votes)
	}
	keepScreenshot(t, ctx, "idee-soutenue")

	// Withdraw, then sign out.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("soutenir"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("soutiens").textContent === "1"`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("withdraw: %v (%q)", err, votes())
	}
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.ID("deconnexion")))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("connexion"))); err != nil {
		t.Fatalf("signed out: %v", err)
	}
}
