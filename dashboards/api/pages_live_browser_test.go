package api_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal"
)

// parisClock is how the page words a reading taken today: "à 20 h 05".
func parisClock(t *testing.T, at time.Time) string {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at = at.In(loc)
	return fmt.Sprintf("à %d\u00a0h\u00a0%02d", at.Hour(), at.Minute())
}

// liveClients reads smartdeal_api_live_clients from the API's metrics (what
// the ops server's /metrics serves).
func liveClients(t *testing.T, e *env) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^smartdeal_api_live_clients (\S+)$`).FindStringSubmatch(scrape(t, e.reg))
	if m == nil {
		t.Fatalf("no smartdeal_api_live_clients in the metrics")
	}
	return m[1]
}

// waitLiveClients polls the metrics until the hub has want subscribers. The
// server learns that a client went away when a write to it fails, so each
// round hands the hub a reading of the page's series (timed an hour back,
// which a page still open would ignore).
func waitLiveClients(t *testing.T, e *browserEnv, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := liveClients(t, e.env)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("live clients %s, want %s", got, want)
		}
		e.srv.Hub().Publish([]smartdeal.Reading{{Site: "var-estuaire", Device: "level-1", Quantity: "water_level", Unit: "m",
			Time: time.Now().Add(-time.Hour), Kind: smartdeal.KindNumber, Number: -1}})
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserLiveValue: the proposal page's "Dernière valeur" line is
// rendered from InfluxDB (with and without JavaScript) and, with
// JavaScript, follows the live feed: a reading handed to the API's hub after
// the page loaded shows in French within seconds, an older replayed reading
// never replaces a newer one, announcements are opt-in and rate-limited, the
// server-rendered table of window means stays as it was, pause and leaving
// the page close the one stream.
func TestBrowserLiveValue(t *testing.T) {
	e := newBrowserEnv(t)
	// The latest raw reading written by newBrowserEnv: 9.5 two minutes
	// before the current minute.
	last := time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Minute)
	lastISO := last.Format(time.RFC3339)
	const line = "#serie-1-direct"

	// Without JavaScript: the server-rendered value, no live controls.
	noJS := browserNoScript(t)
	if err := chromedp.Do(noJS, chromedp.Navigate(e.base+"/idees/"+e.p.ID), chromedp.WaitVisible(chromedp.CSS(line))); err != nil {
		t.Fatal(err)
	}
	if got, want := text(t, noJS, line), "Dernière valeur : 9,5\u00a0m "; !strings.HasPrefix(got, want) {
		t.Fatalf("no-JS latest value %q, want prefix %q", got, want)
	}
	if got := eval[string](t, noJS, `document.querySelector("#serie-1-direct time").getAttribute("datetime")`); got != lastISO {
		t.Errorf("no-JS datetime %q, want %q", got, lastISO)
	}
	if eval[bool](t, noJS, `!document.getElementById("direct").hidden`) {
		t.Error("live controls shown without JavaScript")
	}
	if n := liveClients(t, e.env); n != "0" {
		t.Fatalf("%s live streams without JavaScript", n)
	}

	// With JavaScript: the same line, then the stream opens.
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.base+"/idees/"+e.p.ID), chromedp.WaitVisible(chromedp.ID("direct"))); err != nil {
		t.Fatal(err)
	}
	poll := func(js, what string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("%s: %v (line %q, state %q, announced %q)", what, err, text(t, ctx, line), text(t, ctx, "#direct-etat"), eval[string](t, ctx, `document.getElementById("direct-annonce").textContent`))
		}
	}
	poll(`document.getElementById("direct-etat").textContent.startsWith("En direct")`, "stream not open")
	waitLiveClients(t, e, "1")
	if got := eval[string](t, ctx, `document.querySelector("#serie-1-direct .valeur").textContent`); got != "9,5\u00a0m" {
		t.Fatalf("server-rendered value %q", got)
	}
	table := func() string {
		return eval[string](t, ctx, `[...document.querySelectorAll("#serie-1-valeurs tbody tr")].map(tr => tr.textContent).join("|")`)
	}
	before := table()
	// Record every value the line shows from now on.
	eval[bool](t, ctx, `(() => { window.seen = []; const v = document.querySelector("#serie-1-direct .valeur");
		new MutationObserver(() => window.seen.push(v.textContent)).observe(v, {childList: true, characterData: true, subtree: true}); return true })()`)

	now := time.Now().UTC()
	reading := func(at time.Time, v float64) smartdeal.Reading {
		return smartdeal.Reading{Site: "var-estuaire", Device: "level-1", Quantity: "water_level", Unit: "m", Time: at, Kind: smartdeal.KindNumber, Number: v}
	}
	// Another device's reading, not subscribed by the page, must not show.
	other := reading(now, 77)
	other.Device = "level-2"
	e.srv.Hub().Publish([]smartdeal.Reading{other, reading(now, 12.4)})
	poll(`document.querySelector("#serie-1-direct .valeur").textContent === "12,4\u00a0m"`, "12,4 m not shown")
	if got, want := text(t, ctx, "#serie-1-direct time"), parisClock(t, now); got != want {
		t.Errorf("time %q, want %q", got, want)
	}
	if got := eval[string](t, ctx, `document.querySelector("#serie-1-direct time").dateTime`); got != now.Format(time.RFC3339Nano) {
		t.Errorf("datetime %q, want %q", got, now.Format(time.RFC3339Nano))
	}

	// A gateway replaying its spool: the older reading is ignored, the
	// newer one after it shows.
	e.srv.Hub().Publish([]smartdeal.Reading{reading(now.Add(-time.Hour), 99), reading(now.Add(time.Second), 1234.567)})
	poll(`document.querySelector("#serie-1-direct .valeur").textContent === "1234,57\u00a0m"`, "1234,57 m not shown")
	if seen := eval[[]string](t, ctx, `window.seen`); strings.Join(seen, "|") != "12,4\u00a0m|1234,57\u00a0m" {
		t.Errorf("the line showed %q, want 12,4 m then 1234,57 m (never the older 99)", seen)
	}
	if after := table(); after != before {
		t.Errorf("value table changed:\n%s\n%s", before, after)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#serie-1-direct *:not(.valeur):not(time)").length`); n != 0 {
		t.Errorf("%d elements injected into the line", n)
	}

	// Announcements: none before the visitor asks; once asked, the next
	// reading is announced, and a second one within the minute is not.
	if got := eval[string](t, ctx, `document.getElementById("direct-annonce").textContent`); got != "" {
		t.Errorf("announced %q without being asked", got)
	}
	if role := eval[string](t, ctx, `document.getElementById("direct-annonce").getAttribute("role")`); role != "status" {
		t.Errorf("live region role %q", role)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("direct-annonces"))); err != nil {
		t.Fatal(err)
	}
	if p := eval[string](t, ctx, `document.getElementById("direct-annonces").getAttribute("aria-pressed")`); p != "true" {
		t.Fatalf("aria-pressed %q after the click", p)
	}
	e.srv.Hub().Publish([]smartdeal.Reading{reading(now.Add(2*time.Second), 15)})
	poll(`document.getElementById("direct-annonce").textContent.includes("level-1 : 15\u00a0m à ")`, "15 m not announced")
	e.srv.Hub().Publish([]smartdeal.Reading{reading(now.Add(3*time.Second), 16)})
	poll(`document.querySelector("#serie-1-direct .valeur").textContent === "16\u00a0m"`, "16 m not shown")
	// Proving a silence takes waiting: the announcement would come 0.3 s after the update.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("direct-annonce").textContent.includes("16")`, chromedp.WithPollingTimeout(1500*time.Millisecond))); err == nil {
		t.Error("a second reading within the minute was announced")
	}

	// Pause closes the stream, resume opens it again.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("direct-pause"))); err != nil {
		t.Fatal(err)
	}
	waitLiveClients(t, e, "0")
	if s := text(t, ctx, "#direct-etat"); !strings.HasPrefix(s, "Direct en pause") || text(t, ctx, "#direct-pause") != "Reprendre le direct" {
		t.Errorf("paused: state %q", s)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("direct-pause"))); err != nil {
		t.Fatal(err)
	}
	poll(`document.getElementById("direct-etat").textContent.startsWith("En direct")`, "stream not reopened")
	waitLiveClients(t, e, "1")
	keepScreenshot(t, ctx, "idee-direct")

	// Leaving the page closes the stream (pagehide, or the unload itself).
	if err := chromedp.Do(ctx, chromedp.Navigate(e.base+"/idees"), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
		t.Fatal(err)
	}
	waitLiveClients(t, e, "0")
}
