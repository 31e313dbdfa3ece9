package api_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestEvents: an administrator creates events (refused for others and for
// invalid input), citizens register within the capacity (a second one is
// refused when full, twice counts once, withdrawal frees the place, an
// erased account's registration goes), the minutes are recorded; the agenda
// and event pages show them, the registration form works without
// JavaScript; the iCalendar feeds (all, per campaign) parse with go-ical and
// carry the events' times, titles (commas and semicolons escaped) and places
// (SQLite and PostgreSQL).
func TestEvents(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{})
			_, citizen := e.user(civic.RoleCitizen)
			p := e.idea(citizen, 1000, true)
			starts := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Minute)
			ev := map[string]any{"kind": "meeting", "title": "Crues de la Roya, réunion; acteurs", "description": "Avec les pompiers, la commune\net le SMIAGE.",
				"starts": starts, "ends": starts.Add(2 * time.Hour), "place": "Mairie de Breil-sur-Roya", "location": map[string]float64{"lat": 43.9375, "lon": 7.514},
				"campaign_id": e.campaign, "proposal_ids": []string{p.ID}, "capacity": 1}
			for _, tok := range []string{citizen} {
				e.problem("POST", "/api/v1/events", tok, ev, 403)
			}
			e.problem("POST", "/api/v1/events", "", ev, 401)
			bad := func(field string, k string, v any) {
				t.Helper()
				m := map[string]any{}
				for k, v := range ev {
					m[k] = v
				}
				m[k] = v
				e.fieldProblem("POST", "/api/v1/events", e.admin, m, field)
			}
			bad("kind", "kind", "party")
			bad("ends", "ends", starts.Add(-time.Hour))
			bad("online_url", "online_url", "javascript:alert(1)")
			bad("campaign_id", "campaign_id", "ghost")
			bad("proposal_ids", "proposal_ids", []string{"ghost"})
			bad("capacity", "capacity", -1)
			var created civic.Event
			e.call("POST", "/api/v1/events", e.admin, ev, 201, &created)
			var online civic.Event
			e.call("POST", "/api/v1/events", e.admin, map[string]any{"kind": "workshop", "title": "Atelier en ligne", "starts": starts.Add(time.Hour),
				"ends": starts.Add(3 * time.Hour), "online_url": "https://visio.example.fr/atelier", "capacity": 0}, 201, &online)

			// Registration.
			_, other := e.user(civic.RoleCitizen)
			path := "/api/v1/events/" + created.ID + "/registration"
			var got civic.Event
			e.call("POST", path, citizen, nil, 200, &got)
			e.call("POST", path, citizen, nil, 200, &got)
			if got.Registered != 1 {
				t.Fatalf("registered %d after twice", got.Registered)
			}
			e.problem("POST", path, other, nil, 409) // full
			e.problem("POST", path, e.admin, nil, 403)
			e.problem("POST", "/api/v1/events/"+online.ID+"/registration", citizen, nil, 409) // no registration
			e.problem("POST", "/api/v1/events/ghost/registration", citizen, nil, 404)
			e.call("DELETE", path, citizen, nil, 200, &got)
			e.call("POST", path, other, nil, 200, &got)
			e.call("PUT", "/api/v1/events/"+created.ID+"/minutes", e.admin, map[string]string{"minutes": "Trois capteurs de niveau retenus."}, 200, &got)
			e.problem("PUT", "/api/v1/events/"+created.ID+"/minutes", citizen, map[string]string{"minutes": "x"}, 403)
			if got.Minutes != "Trois capteurs de niveau retenus." || got.Registered != 1 || len(got.ProposalIDs) != 1 {
				t.Fatalf("event %+v", got)
			}
			var listed []civic.Event
			e.call("GET", "/api/v1/events?proposal="+p.ID, "", nil, 200, &listed)
			if len(listed) != 1 || listed[0].ID != created.ID {
				t.Fatalf("events of the proposal %+v", listed)
			}

			// Pages, without JavaScript: a citizen registers from the form.
			const pass = "un mot de passe solide"
			u := e.account(civic.RoleCitizen, "agenda@example.fr", pass)
			cookie, csrf := e.cookieSession("agenda@example.fr", pass)
			page := func(path string) (int, string) {
				resp, b := e.send(e.request("GET", path, "", nil, "Cookie", cookie, "Accept", "text/html"))
				return resp.StatusCode, string(b)
			}
			post := func(path string, f url.Values) int {
				resp, _ := e.send(e.request("POST", path, "", f.Encode(), "Cookie", cookie, "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html"))
				return resp.StatusCode
			}
			code, html := page("/agenda")
			if code != 200 || !strings.Contains(html, "Crues de la Roya, réunion; acteurs") || !strings.Contains(html, "Atelier en ligne") || !strings.Contains(html, "1 inscrit·e sur 1 places (complet)") {
				t.Fatalf("agenda %d %s", code, html)
			}
			if code := post("/agenda/"+created.ID+"/inscription", url.Values{"csrf": {csrf}}); code != 409 {
				t.Fatalf("registration of a full event: %d", code)
			}
			e.call("DELETE", path, other, nil, 200, nil)
			if code := post("/agenda/"+created.ID+"/inscription", url.Values{"csrf": {"forged"}}); code != 403 {
				t.Fatalf("forged csrf: %d", code)
			}
			if code := post("/agenda/"+created.ID+"/inscription", url.Values{"csrf": {csrf}}); code != 303 {
				t.Fatalf("registration form: %d", code)
			}
			code, html = page("/agenda/" + created.ID)
			if code != 200 || !strings.Contains(html, "Vous êtes inscrit·e.") || !strings.Contains(html, "Trois capteurs de niveau retenus.") ||
				!strings.Contains(html, "/idees/"+p.ID) || !strings.Contains(html, "latitude 43,93750") {
				t.Fatalf("event page %d %s", code, html)
			}
			if code, html := page("/idees/" + p.ID); code != 200 || !strings.Contains(html, `href="/agenda/`+created.ID+`"`) || strings.Contains(html, online.ID) {
				t.Fatalf("proposal page %d does not list its event", code)
			}
			if code, _ := page("/agenda/ghost"); code != 404 {
				t.Fatalf("unknown event page %d", code)
			}
			// Erasure takes the registration.
			if err := e.st.DeleteUser(t.Context(), u.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			e.call("GET", "/api/v1/events/"+created.ID, "", nil, 200, &got)
			if got.Registered != 0 {
				t.Fatalf("registrations after erasure %d", got.Registered)
			}

			// The feeds.
			feed := func(path string, want int) *ical.Calendar {
				t.Helper()
				resp, b := e.do("GET", path, "", nil)
				if resp.StatusCode != want {
					t.Fatalf("%s: %d", path, resp.StatusCode)
				}
				if want != 200 {
					return nil
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
					t.Fatalf("%s: %s", path, ct)
				}
				cal, err := ical.NewDecoder(bytes.NewReader(b)).Decode()
				if err != nil {
					t.Fatalf("%s does not parse: %v\n%s", path, err, b)
				}
				return cal
			}
			all := feed("/agenda.ics", 200)
			if n := len(all.Events()); n != 2 {
				t.Fatalf("%d events in /agenda.ics", n)
			}
			mine := feed("/agenda/campagne/"+e.campaign+".ics", 200)
			evs := mine.Events()
			if len(evs) != 1 {
				t.Fatalf("%d events in the campaign's feed", len(evs))
			}
			sum, _ := evs[0].Props.Text(ical.PropSummary)
			loc, _ := evs[0].Props.Text(ical.PropLocation)
			desc, _ := evs[0].Props.Text(ical.PropDescription)
			st, err := evs[0].DateTimeStart(time.UTC)
			if err != nil || !st.Equal(starts) || sum != "Crues de la Roya, réunion; acteurs" || loc != "Mairie de Breil-sur-Roya" || !strings.Contains(desc, "commune\net le SMIAGE") {
				t.Fatalf("feed event: %q %q %q %v %v", sum, loc, desc, st, err)
			}
			feed("/agenda/campagne/ghost.ics", 404)

			// The administrators' forms: create an event, record its minutes.
			e.account(civic.RoleAdmin, "agenda-admin@example.fr", pass)
			aCookie, aCSRF := e.cookieSession("agenda-admin@example.fr", pass)
			form := func(cookie, path string, f url.Values) (int, string) {
				resp, b := e.send(e.request("POST", path, "", f.Encode(), "Cookie", cookie, "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html"))
				return resp.StatusCode, resp.Header.Get("Location") + string(b)
			}
			ok := url.Values{"csrf": {aCSRF}, "kind": {"workshop"}, "title": {"Atelier capteurs"}, "starts": {"2027-03-10T18:30"}, "ends": {"2027-03-10T20:00"},
				"place": {"Médiathèque de Breil"}, "lat": {"43,9"}, "lon": {"7,5"}, "campaign_id": {e.campaign}, "proposal_ids": {p.ID}, "capacity": {"12"}}
			badForm := url.Values{}
			for k, v := range ok {
				badForm[k] = v
			}
			badForm.Set("starts", "demain")
			if code, _ := form(aCookie, "/agenda", badForm); code != 400 {
				t.Fatalf("event form with a bad date: %d", code)
			}
			e.account(civic.RoleCitizen, "agenda2@example.fr", pass)
			cCookie, _ := e.cookieSession("agenda2@example.fr", pass)
			if code, _ := form(cCookie, "/agenda", ok); code != 403 {
				t.Fatalf("event form by a citizen: %d", code)
			}
			code, loc = form(aCookie, "/agenda", ok)
			if code != 303 || !strings.HasPrefix(loc, "/agenda/") {
				t.Fatalf("event form: %d %s", code, loc)
			}
			id := strings.TrimPrefix(strings.SplitN(loc, "<", 2)[0], "/agenda/")
			var made civic.Event
			e.call("GET", "/api/v1/events/"+id, "", nil, 200, &made)
			if want := time.Date(2027, 3, 10, 17, 30, 0, 0, time.UTC); !made.Starts.Equal(want) || made.Capacity != 12 || made.Location == nil || len(made.ProposalIDs) != 1 {
				t.Fatalf("event from the form %+v", made)
			}
			if code, _ := form(aCookie, "/agenda/"+id+"/compte-rendu", url.Values{"csrf": {aCSRF}, "minutes": {"Douze participants."}}); code != 303 {
				t.Fatalf("minutes form: %d", code)
			}
			e.call("GET", "/api/v1/events/"+id, "", nil, 200, &made)
			if made.Minutes != "Douze participants." {
				t.Fatalf("minutes %q", made.Minutes)
			}
		})
	}
}
