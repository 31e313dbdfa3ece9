package api_test

import (
	"strings"
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestPageErrors: a browser asking for a page that cannot be shown gets a
// French HTML page with the right status (unknown proposal, a submitted one
// seen by someone else, an unknown address); API clients, and browsers
// calling the JSON API, keep problem+json.
func TestPageErrors(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	_, author := e.user(civic.RoleCitizen)
	hidden := e.idea(author, 1000, false) // submitted: visible to its author only
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for _, tc := range []struct {
		path, accept string
		status       int
		html         bool
	}{
		{"/idees/no-such-proposal", browser, 404, true},
		{"/idees/" + hidden.ID, browser, 404, true},
		{"/nulle-part", browser, 404, true},
		{"/idees/no-such-proposal", "", 404, false},
		{"/idees/no-such-proposal", "application/json", 404, false},
		{"/api/v1/ideas/no-such-proposal", browser, 404, false},
		{"/opendata/series/x/y/z.csv", browser, 400, false},
	} {
		resp, body := e.send(e.request("GET", tc.path, "", nil, "Accept", tc.accept))
		ct := resp.Header.Get("Content-Type")
		if resp.StatusCode != tc.status {
			t.Errorf("%s (Accept %q): %d, want %d", tc.path, tc.accept, resp.StatusCode, tc.status)
		}
		switch {
		case tc.html && (!strings.HasPrefix(ct, "text/html") || !strings.Contains(string(body), `role="alert"`) ||
			!strings.Contains(string(body), "Page introuvable") || !strings.Contains(string(body), `lang="fr"`)):
			t.Errorf("%s: want a French HTML page, got %s %.200s", tc.path, ct, body)
		case !tc.html && ct != "application/problem+json":
			t.Errorf("%s (Accept %q): want problem+json, got %s", tc.path, tc.accept, ct)
		}
		if tc.html && resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no CSP on the error page", tc.path)
		}
	}
	// The error page shows who is signed in (a browser session).
	f := newFormClient(e)
	e.account(civic.RoleCitizen, "sam@example.fr", "un mot de passe solide")
	f.signIn("sam@example.fr", "un mot de passe solide")
	if resp, html := f.get("/idees/no-such-proposal"); resp.StatusCode != 404 || !strings.Contains(html, "Connecté·e : <strong>Dominique</strong>") {
		t.Errorf("signed-in error page: %d, header missing:\n%.800s", resp.StatusCode, html)
	}
	// The author still sees their submitted proposal.
	resp, _ := e.send(e.request("GET", "/idees/"+hidden.ID, author, nil, "Accept", browser))
	if resp.StatusCode != 200 {
		t.Fatalf("author's own submitted proposal: %d", resp.StatusCode)
	}
}
