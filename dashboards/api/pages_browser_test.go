package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts Debian's headless Chromium for one test. A missing browser
// is a failure, never a skip: the pages are only tested through it.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s not found (%v): apt-get install chromium", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1024, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
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

const browserTitle = "Capteurs de crue sur l'estuaire du Var"

func newBrowserEnv(t *testing.T) *browserEnv {
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	meas, err := measure.New(measure.Config{URL: in.URL, Bucket: db + "/autogen"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, sqltest.SQLite(t), meas, api.Config{PageRange: 2 * time.Hour, PageSeriesPoints: 121})
	e.field()
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

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
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
	if n := eval[int](t, ctx, `document.querySelectorAll('main a[href^="/idees/"]').length`); n != 1 {
		t.Fatalf("%d proposals listed, want 1 (the unpublished one must not show)", n)
	}

	// Keyboard: the skip link comes first, then Tab reaches the proposal's
	// link and Enter follows it.
	if first := tabTo(t, ctx, "a.skip", 1); first != 1 {
		t.Fatal("skip link is not the first focusable element")
	}
	tabTo(t, ctx, fmt.Sprintf(`main a[href="/idees/%s"]`, e.p.ID), 10)
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
	if dir := os.Getenv("SMARTDEAL_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "idee.jpg"), shot, 0o644)
	}
}
