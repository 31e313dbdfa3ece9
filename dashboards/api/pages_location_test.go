package api_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/assets"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestFormProposalLocation: the proposal form's place without JavaScript:
// a decimal comma in the numeric fields, a commune of the Alpes-Maritimes
// named as people type it (its gazetteer point), the numbers winning over
// the commune, and what is refused (an unknown or ambiguous commune with
// the candidates named, exponents, NaN, infinities, out of range).
func TestFormProposalLocation(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{ContributionLimit: 1000})
	const pw = "un mot de passe solide"
	e.account(civic.RoleCitizen, "lieu@example.fr", pw)
	f := newFormClient(e)
	f.signIn("lieu@example.fr", pw)
	resp, html := f.get("/idees/nouvelle")
	wantPage(t, "form page", resp, html, 200, `<label for="commune">Commune</label>`, `list="communes-06"`, `<option value="Saint-Martin-Vésubie">`,
		`id="latitude" name="lat" type="text" inputmode="decimal"`, `id="lieu-carte"`, "/static/map.js?v=")
	if n := strings.Count(html, "<option value=\"") - strings.Count(html, `<option value="`+"sante"); n < 163 {
		t.Errorf("%d options: the communes are not all suggested", n)
	}
	eze := assets.FindCommunes("Èze")[0]
	var stored int
	for _, c := range []struct {
		lat, lon, commune string
		want              *civic.Point
	}{
		{"43,70", "7,25", "", &civic.Point{Lat: 43.70, Lon: 7.25}},
		{" -0,5 ", "+7.25", "", &civic.Point{Lat: -0.5, Lon: 7.25}},
		{"", "", "eze", &civic.Point{Lat: eze.Lat, Lon: eze.Lon}},
		{"", "", "  ÈZE ", &civic.Point{Lat: eze.Lat, Lon: eze.Lon}},
		{"43,71", "7,26", "Menton", &civic.Point{Lat: 43.71, Lon: 7.26}},
		{"", "", "", nil},
	} {
		resp, html := f.post("/idees/nouvelle", proposalForm(f.csrf("/idees/nouvelle"), e.campaign, "lat", c.lat, "lon", c.lon, "commune", c.commune))
		if resp.StatusCode != 303 {
			t.Errorf("%q %q %q: %d %.300s", c.lat, c.lon, c.commune, resp.StatusCode, html)
			continue
		}
		stored++
		ps := e.proposals()
		p := ps[0]
		for _, q := range ps {
			if q.Created.After(p.Created) {
				p = q
			}
		}
		if fmt.Sprint(p.Location) != fmt.Sprint(c.want) && (p.Location == nil || c.want == nil ||
			math.Abs(p.Location.Lat-c.want.Lat) > 1e-9 || math.Abs(p.Location.Lon-c.want.Lon) > 1e-9) {
			t.Errorf("%q %q %q: stored %v, want %v", c.lat, c.lon, c.commune, p.Location, c.want)
		}
	}
	for _, c := range []struct{ lat, lon, commune, field, msg string }{
		{"", "", "Atlantide", "commune", "Aucune commune des Alpes-Maritimes ne porte ce nom"},
		{"", "", "saint", "commune", "Plusieurs communes correspondent (Saint-"},
		{"4e1", "7", "", "latitude", "Indiquez la latitude"},
		{"NaN", "7", "", "latitude", "Indiquez la latitude"},
		{"43", "Inf", "", "longitude", "Indiquez la latitude"},
		{"0x2A", "7", "", "latitude", "Indiquez la latitude"},
		{"4370", "7", "", "latitude", "Indiquez la latitude"},
		{"43,,7", "7", "Nice", "latitude", "Indiquez la latitude"},
		{"43,70", "", "", "longitude", "Indiquez la latitude"},
	} {
		resp, html := f.post("/idees/nouvelle", proposalForm(f.csrf("/idees/nouvelle"), e.campaign, "lat", c.lat, "lon", c.lon, "commune", c.commune))
		wantPage(t, c.lat+" "+c.lon+" "+c.commune, resp, html, 400, "Erreur : "+c.msg)
		if !regexpInvalid(c.field).MatchString(html) {
			t.Errorf("%q %q %q: #%s not marked invalid", c.lat, c.lon, c.commune, c.field)
		}
		if c.commune != "" && !strings.Contains(html, `value="`+c.commune+`"`) {
			t.Errorf("the commune typed is not kept: %q", c.commune)
		}
	}
	if n := len(e.proposals()); n != stored {
		t.Errorf("%d proposals stored, want %d", n, stored)
	}
}

// TestBrowserProposalLocation: "43,70" typed in the latitude field (the
// bug: it became 4370 and the form refused) is stored as 43.70, with
// JavaScript off and on; with JavaScript a click on the small map fills
// both fields with decimal commas, and the proposal is stored there.
func TestBrowserProposalLocation(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{ContributionLimit: 1000})
	const email, pw = "virgule@example.fr", "un mot de passe solide"
	e.account(civic.RoleCitizen, email, pw)
	base := serve(t, e)
	latest := func() *civic.Proposal {
		var p *civic.Proposal
		for _, q := range e.proposals() {
			if p == nil || q.Created.After(p.Created) {
				p = q
			}
		}
		return p
	}
	fill := func(ctx context.Context, title string) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/idees/nouvelle"), chromedp.WaitVisible(chromedp.ID("titre"))); err != nil {
			t.Fatal(err)
		}
		typeInto(t, ctx, "titre", title)
		typeInto(t, ctx, "texte", "Des bancs à l'ombre.")
		setValue(t, ctx, "theme", "sante-solidarite")
		typeInto(t, ctx, "cout", "1 000")
	}
	for _, js := range []bool{false, true} {
		ctx := browserNoScript(t)
		if js {
			ctx = browser(t)
		}
		a11ySignIn(t, ctx, base, email, pw)
		title := fmt.Sprintf("Bancs ombragés (JavaScript %v)", js)
		fill(ctx, title)
		typeInto(t, ctx, "latitude", "43,70")
		typeInto(t, ctx, "longitude", "7,25")
		if v := eval[string](t, ctx, `document.getElementById("latitude").value`); v != "43,70" {
			t.Errorf("JavaScript %v: the field holds %q", js, v)
		}
		submit(t, ctx, "#deposer")
		p := latest()
		if p == nil || p.Title != title || p.Location == nil || p.Location.Lat != 43.70 || p.Location.Lon != 7.25 {
			t.Fatalf("JavaScript %v: stored %+v, at %s", js, p, location(t, ctx))
		}
		if !js {
			continue
		}
		// A click on the map fills the fields.
		fill(ctx, "Fontaine au port")
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#lieu-carte[data-pret="oui"]`))); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lieu-carte"))); err != nil {
			t.Fatal(err)
		}
		got := eval[[]string](t, ctx, `[document.getElementById("latitude").value, document.getElementById("longitude").value]`)
		if len(got) != 2 || !strings.Contains(got[0], ",") || !strings.Contains(got[1], ",") {
			t.Fatalf("after a click: %q", got)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll("path.lieu-choisi").length`); n != 1 {
			t.Errorf("%d points marked", n)
		}
		submit(t, ctx, "#deposer")
		p = latest()
		want := strings.Replace(got[0], ",", ".", 1) + " " + strings.Replace(got[1], ",", ".", 1)
		if p == nil || p.Title != "Fontaine au port" || p.Location == nil || fmt.Sprintf("%.5f %.5f", p.Location.Lat, p.Location.Lon) != want {
			t.Fatalf("clicked %s, stored %+v", want, p)
		}
		// The département: the click is inside its box.
		if p.Location.Lat < 43.4 || p.Location.Lat > 44.4 || p.Location.Lon < 6.6 || p.Location.Lon > 7.8 {
			t.Errorf("clicked outside the Alpes-Maritimes: %v", p.Location)
		}
	}
}
