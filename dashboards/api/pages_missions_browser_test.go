package api_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserMissionPages: with JavaScript disabled in Chromium, a visitor
// follows the header link to the missions, opens the flown mission of
// newBrowserEnv (three fixes due north, 222 m), sees the track drawn over
// the area with its text alternative, and opens the table of fixes with the
// keyboard.
func TestBrowserMissionPages(t *testing.T) {
	e := newBrowserEnv(t)
	ctx := browserNoScript(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.base+"/idees"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`header a[href="/missions"]`), chromedp.WaitVisible(chromedp.ID("missions"))); err != nil {
		t.Fatal(err)
	}
	row := text(t, ctx, "#mission-crue-var-page")
	for _, want := range []string{browserMission, "Relevé de crue", "terminée", browserTitle} {
		if !strings.Contains(row, want) {
			t.Errorf("list row lacks %q:\n%s", want, row)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#mission-crue-var-page a[href="/missions/crue-var-page"]`), chromedp.WaitVisible(chromedp.ID("trajet"))); err != nil {
		t.Fatal(err)
	}
	if loc := location(t, ctx); loc != e.base+"/missions/crue-var-page" {
		t.Fatalf("mission page at %s", loc)
	}
	sum := text(t, ctx, "#resume-vol")
	for _, want := range []string{"0,22\u00a0km", "50\u00a0m", "5\u00a0%"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	// The drawing: an image with a name, the track inside the drawn area,
	// going north (up).
	if got := eval[string](t, ctx, `document.querySelector("svg#trajet").getAttribute("role")`); got != "img" {
		t.Errorf("svg role %q", got)
	}
	label := eval[string](t, ctx, `document.querySelector("svg#trajet").getAttribute("aria-label")`)
	if !strings.Contains(label, "3 positions") || !strings.Contains(label, "0,22\u00a0km parcourus") {
		t.Errorf("svg label %q", label)
	}
	if n := eval[int](t, ctx, `document.querySelector("#trace").points.length`); n != 3 {
		t.Errorf("polyline of %d points, want 3", n)
	}
	if !eval[bool](t, ctx, `(() => { const z = document.querySelector("#zone").getBBox(), tr = document.querySelector("#trace").getBBox();
		return tr.height > 10 && tr.x >= z.x && tr.x + tr.width <= z.x + z.width && tr.y >= z.y && tr.y + tr.height <= z.y + z.height })()`) {
		t.Error("the track is not drawn inside the area")
	}
	if !eval[bool](t, ctx, `document.querySelector("#depart").getBBox().y > document.querySelector("#arrivee").getBBox().y`) {
		t.Error("the end is not north of the start")
	}
	// The table alternative, opened with the keyboard.
	tabTo(t, ctx, "details summary", 40)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	lats := eval[[]string](t, ctx, `[...document.querySelectorAll("#positions tbody tr td:nth-child(2)")].map(td => td.textContent)`)
	if strings.Join(lats, " ") != "43,65000° 43,65100° 43,65200°" {
		t.Errorf("latitudes %q", lats)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('a[href="/api/v1/missions/crue-var-page/track?format=geojson"]').length`); n != 1 {
		t.Errorf("%d GeoJSON links", n)
	}
	keepScreenshot(t, ctx, "mission-trajet")
}
