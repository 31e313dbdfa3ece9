package api_test

import (
	"strings"
	"testing"
	"time"
)

// TestPageLatestValue: the proposal page carries, per linked series, the
// latest raw reading from InfluxDB in French with its Paris time, inside the
// element the script updates (data-series, data-unit, data-time), and the
// hidden live controls and live region; ids that could break out of the
// attribute cannot be linked in the first place.
func TestPageLatestValue(t *testing.T) {
	e := newBrowserEnv(t)
	last := time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Minute) // newBrowserEnv's 9.5
	lastISO := last.Format(time.RFC3339)

	// Identifiers are validated when linked: quotes, brackets and spaces
	// never reach a data-series attribute.
	for _, bad := range []string{`level-1" onmouseover="alert(1)`, "level-1><script>", "Level 1", "level-1/x"} {
		e.problem("POST", "/api/v1/links", e.admin, map[string]any{"proposal_id": e.p.ID, "site_id": "var-estuaire", "device_id": bad, "quantity": "water_level"}, 400)
	}
	e.problem("POST", "/api/v1/links", e.admin, map[string]any{"proposal_id": e.p.ID, "site_id": "var-estuaire", "device_id": "level-1", "quantity": `water_level"`}, 400)

	resp, b := e.send(e.request("GET", "/idees/"+e.p.ID, "", nil, "Accept", "text/html"))
	html := string(b)
	if resp.StatusCode != 200 {
		t.Fatalf("page: %d", resp.StatusCode)
	}
	when := parisClock(t, last)
	if last.In(parisLoc(t)).YearDay() != time.Now().In(parisLoc(t)).YearDay() {
		when = "le " // just after midnight in Paris: the reading was yesterday
	}
	want := `<p class="direct" id="serie-1-direct" data-series="var-estuaire/level-1/water_level" data-unit="m" data-time="` + lastISO +
		`">Dernière valeur : <strong class="valeur">9,5` + "\u00a0" + `m</strong> <time class="quand" datetime="` + lastISO + `">` + when
	if !strings.Contains(html, want) {
		t.Fatalf("page lacks\n%s\nin\n%s", want, html)
	}
	if n := strings.Count(html, "data-series="); n != 1 {
		t.Errorf("%d data-series attributes, want 1 (one linked series)", n)
	}
	for _, want := range []string{`<div id="direct" hidden>`, `<p id="direct-annonce" class="lecteur" role="status" aria-live="polite"></p>`,
		`aria-pressed="false"`, "Annoncer les nouvelles valeurs", "Suspendre le direct"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"onmouseover", "<script>alert", `level-1&#34;`} {
		if strings.Contains(html, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	// The value table keeps the window means; the line is the raw reading.
	if !strings.Contains(html, `<td class="n">9,5</td>`) {
		t.Error("value table lost its last mean")
	}
}

func parisLoc(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
