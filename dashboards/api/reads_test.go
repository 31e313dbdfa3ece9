package api_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// get reads path as the client xff through the trusted proxy.
func get(t *testing.T, base, path, xff string) (int, int) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("X-Forwarded-For", xff)
	resp, err := postClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return resp.StatusCode, ra
}

// TestPublicReadLimit: public GET routes (JSON, pages, open data) share one
// budget per client address (3 here); past it 429 with Retry-After, while
// another client still reads and the probes and the OpenAPI document are
// not counted. Before, reads had no limit.
func TestPublicReadLimit(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{PublicReadLimit: 3, TrustedProxies: []string{"127.0.0.1"}})
	base := serve(t, e)
	defer postClient.CloseIdleConnections()
	const a, b = "203.0.113.1", "203.0.113.2"
	for i, path := range []string{"/api/v1/themes", "/idees", "/opendata/proposals.json"} {
		if st, _ := get(t, base, path, a); st != 200 {
			t.Fatalf("read %d (%s): %d", i, path, st)
		}
	}
	for _, path := range []string{"/api/v1/themes", "/idees", "/api/v1/campaigns"} {
		if st, ra := get(t, base, path, a); st != 429 || ra < 1 || ra > 60 {
			t.Fatalf("%s past the limit: %d Retry-After %d", path, st, ra)
		}
	}
	for _, path := range []string{"/healthz", "/api/v1/openapi.json"} {
		if st, _ := get(t, base, path, a); st != 200 {
			t.Fatalf("%s counted as a read: %d", path, st)
		}
	}
	if st, _ := get(t, base, "/api/v1/themes", b); st != 200 {
		t.Fatalf("another client: %d", st)
	}
	if got := metricValue(t, e, `smartdeal_api_rate_limited_total{limit="read"}`); got != 3 {
		t.Fatalf(`rate_limited_total{limit="read"} %v, want 3`, got)
	}
}

// TestMetricsNotOnAPIPort: the API port serves no /metrics (the operations
// port does: cmd/api's ops.addr, the all-in-one's http.ops).
func TestMetricsNotOnAPIPort(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	e.problem("GET", "/metrics", "", nil, 404)
}

// TestCSRFNotFromQuery: a cookie session's write takes its CSRF token from
// the X-CSRF-Token header or the form body, never from the query string (a
// token in a link would leak through logs and Referer). Form fields in
// general come from the body: a password in the query string is ignored.
func TestCSRFNotFromQuery(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	_, author := e.user(civic.RoleCitizen)
	p := e.idea(author, 1000, true)
	page := "/idees/" + p.ID
	e.account(civic.RoleCitizen, "sam@example.fr", "un mot de passe solide")
	f := newFormClient(e)
	if resp, _ := f.post("/connexion", url.Values{"email": {"sam@example.fr"}, "password": {"un mot de passe solide"}}); resp.StatusCode != 303 {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	tok := f.csrf(page)
	if resp, _ := f.post(page+"/soutien?csrf="+url.QueryEscape(tok), url.Values{"action": {"soutenir"}}); resp.StatusCode != 403 {
		t.Fatalf("form with the token in the query string: %d, want 403", resp.StatusCode)
	}
	if resp, b := e.send(e.request("POST", "/api/v1/ideas/"+p.ID+"/vote?csrf="+url.QueryEscape(tok), "", nil,
		"Cookie", api.SessionCookie+"="+f.cookies[api.SessionCookie])); resp.StatusCode != 403 {
		t.Fatalf("JSON vote with the token in the query string: %d %s, want 403", resp.StatusCode, b)
	}
	if n := e.votes(p.ID); n != 0 {
		t.Fatalf("%d votes counted", n)
	}
	if resp, _ := f.post(page+"/soutien", url.Values{"action": {"soutenir"}, "csrf": {tok}}); resp.StatusCode != 303 || e.votes(p.ID) != 1 {
		t.Fatalf("form with the token in its body: %d, %d votes", resp.StatusCode, e.votes(p.ID))
	}
	// A password in the query string does not sign anybody in.
	g := newFormClient(e)
	if resp, _ := g.post("/connexion?email=sam%40example.fr&password="+url.QueryEscape("un mot de passe solide"), url.Values{}); resp.StatusCode == 303 {
		t.Fatal("signed in from the query string")
	}
}

// TestOpenAPILimits: the OpenAPI document says which routes may answer 429
// (rate limits, sign-in throttle, live streams per client) and 503 (the live
// feed full; sign-in and sign-up when their limiter is unreachable).
func TestOpenAPILimits(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	doc := e.srv.OpenAPI()
	paths := doc["paths"].(map[string]map[string]any)
	responses := func(path, method string) map[string]any {
		op, ok := paths[path][method].(map[string]any)
		if !ok {
			t.Fatalf("%s %s not documented", method, path)
		}
		return op["responses"].(map[string]any)
	}
	for _, tc := range []struct {
		path, method string
		want, not    []string
	}{
		{"/api/v1/live", "get", []string{"429", "503"}, nil},
		{"/api/v1/auth/signin", "post", []string{"429", "503"}, nil},
		{"/connexion", "post", []string{"429", "503"}, nil},
		{"/api/v1/auth/signup", "post", []string{"429", "503"}, nil},
		{"/api/v1/themes", "get", []string{"429"}, []string{"503"}},
		{"/idees/{id}", "get", []string{"429"}, nil},
		{"/healthz", "get", nil, []string{"429"}},
		{"/api/v1/openapi.json", "get", nil, []string{"429"}},
	} {
		rs := responses(tc.path, tc.method)
		for _, code := range tc.want {
			if rs[code] == nil {
				t.Errorf("%s %s: no %s response", tc.method, tc.path, code)
			}
		}
		for _, code := range tc.not {
			if rs[code] != nil {
				t.Errorf("%s %s: a %s response", tc.method, tc.path, code)
			}
		}
	}
}
