package api_test

import (
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// withLog sends the API's log to buf (at every level).
func withLog(buf *testenv.LogBuffer) func(*api.Deps) {
	return func(d *api.Deps) {
		d.Logger = slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// TestInvalidUTF8: invalid UTF-8 in a path parameter (percent-encoded or as
// raw bytes), a query parameter (value or name), a JSON body or a form body
// is a 400 problem on every kind of route, on SQLite and PostgreSQL, and
// never an internal error: no 500 and no ERROR line in the log (PostgreSQL
// refuses such text, which used to surface as 500 "internal error").
func TestInvalidUTF8(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			var log testenv.LogBuffer
			e := newEnv(t, b, nil, api.Config{}, withLog(&log))
			_, citizen := e.user(civic.RoleCitizen)
			p := e.idea(citizen, 10, true)
			const bad = "\xff\xfe"
			esc := url.PathEscape(bad) // %FF%FE
			form := "application/x-www-form-urlencoded"
			jsonBody := func(v map[string]any) string {
				j, err := json.Marshal(v) // replaces invalid UTF-8: put the bytes back
				if err != nil {
					t.Fatal(err)
				}
				return strings.ReplaceAll(string(j), `\ufffd\ufffd`, bad)
			}
			cases := []struct {
				name, method, path, token, ct, body string
			}{
				{"path param", "GET", "/api/v1/ideas/" + esc, "", "", ""},
				{"path param of a page", "GET", "/idees/" + esc, "", "", ""},
				{"path param of a mission", "GET", "/api/v1/missions/" + esc + "/track", "", "", ""},
				{"path param, admin write", "PUT", "/api/v1/users/" + esc + "/role", e.admin, "application/json", `{"role":"expert"}`},
				{"query value", "GET", "/api/v1/ideas?campaign=" + esc, "", "", ""},
				{"query value of a list", "GET", "/api/v1/devices?site=" + esc, "", "", ""},
				{"query value of links", "GET", "/api/v1/links?proposal=" + esc, "", "", ""},
				{"query name", "GET", "/api/v1/themes?" + esc + "=1", "", "", ""},
				{"query of a page", "GET", "/connexion?retour=/idees/" + esc, "", "", ""},
				{"JSON sign-in", "POST", "/api/v1/auth/signin", "", "application/json", jsonBody(map[string]any{"email": bad + "@example.fr", "password": "x"})},
				{"JSON sign-up", "POST", "/api/v1/auth/signup", "", "application/json", jsonBody(map[string]any{"email": "a@example.fr", "password": "0123456789ab", "name": bad})},
				{"JSON comment", "POST", "/api/v1/ideas/" + p.ID + "/comments", citizen, "application/json", jsonBody(map[string]any{"body": bad})},
				{"JSON mission area", "POST", "/api/v1/missions", e.admin, "application/json", strings.Replace(jsonBody(mission("x", square(7.2, 43.6))), `"Polygon"`, `"Poly`+bad+`"`, 1)},
				{"form sign-in", "POST", "/connexion", "", form, "email=" + esc + "%40example.fr&password=x"},
				{"form sign-up", "POST", "/inscription", "", form, "email=b%40example.fr&password=0123456789ab&name=" + esc},
				{"form comment", "POST", "/idees/" + p.ID + "/commentaires", citizen, form, "body=" + esc},
				{"form field name", "POST", "/connexion", "", form, esc + "=1&email=c%40example.fr&password=x"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					var body any
					if tc.body != "" {
						body = tc.body
					}
					req := e.request(tc.method, tc.path, tc.token, body)
					if tc.ct != "" {
						req.Header.Set("Content-Type", tc.ct)
					}
					resp, rb := e.send(req)
					if tc.ct == form { // a form's refusal is its French page
						if resp.StatusCode != 400 {
							t.Fatalf("status %d, want 400: %s", resp.StatusCode, rb)
						}
						return
					}
					checkProblem(t, tc.name, resp, rb, 400)
				})
			}
			// Raw bytes in the request line (no client library sends them).
			addr := strings.TrimPrefix(serve(t, e), "http://")
			for _, path := range []string{"/api/v1/ideas/" + bad, "/api/v1/ideas?theme=" + bad, "/idees/" + bad} {
				status, rb, err := rawRequest{method: "GET", path: path, contentLength: 0}.do(addr)
				if err != nil || status != 400 {
					t.Errorf("raw %q: %d %v %s", path, status, err, rb)
				}
			}
			if strings.Contains(log.String(), "level=ERROR") {
				t.Fatalf("ERROR logged:\n%s", &log)
			}
		})
	}
}
