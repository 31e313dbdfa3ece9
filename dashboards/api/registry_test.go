package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestRegistryHostile: the registry's JSON routes and forms refuse
// anonymous callers and non-administrators, forged and topic-like ids
// ("a/#", "+", "../x"), a path/body id mismatch, unknown sites, missing or
// forged CSRF tokens, and show injected names escaped; nothing is stored or
// provisioned by a refused request (SQLite and PostgreSQL).
func TestRegistryHostile(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{})
			e.field() // var-estuaire: drone-1, level-1
			_, citizen := e.user(civic.RoleCitizen)
			_, agent := e.user(civic.RoleAgent)

			// JSON: roles.
			for _, tok := range []string{"", citizen, agent} {
				want := 403
				if tok == "" {
					want = 401
				}
				e.problem("POST", "/api/v1/devices/level-1/credentials", tok, nil, want)
				e.problem("DELETE", "/api/v1/devices/level-1/credentials", tok, nil, want)
				e.problem("PUT", "/api/v1/devices/level-1", tok, map[string]any{"site_id": "var-estuaire", "kind": "sensor"}, want)
				e.problem("PUT", "/api/v1/sites/var-estuaire", tok, map[string]any{"name": "x", "location": map[string]float64{"lat": 43, "lon": 7}}, want)
				e.problem("GET", "/api/v1/broker/passwd", tok, nil, want)
				e.problem("GET", "/api/v1/broker/acl", tok, nil, want)
			}
			// JSON: forged and topic-like ids.
			for _, id := range []string{"a/#", "+", "#", "../x", "A", strings.Repeat("x", 64), "x y"} {
				e.fieldProblem("POST", "/api/v1/devices", e.admin, map[string]any{"id": id, "site_id": "var-estuaire", "kind": "sensor"}, "id")
				e.fieldProblem("POST", "/api/v1/sites", e.admin, map[string]any{"id": id, "name": "x", "location": map[string]float64{"lat": 43, "lon": 7}}, "id")
			}
			e.fieldProblem("POST", "/api/v1/devices", e.admin, map[string]any{"id": "ok-1", "site_id": "+", "kind": "sensor"}, "site_id")
			e.fieldProblem("PUT", "/api/v1/devices/level-1", e.admin, map[string]any{"id": "drone-1", "site_id": "var-estuaire", "kind": "sensor"}, "id")
			e.fieldProblem("PUT", "/api/v1/devices/level-1", e.admin, map[string]any{"site_id": "ailleurs", "kind": "sensor"}, "site_id")
			e.fieldProblem("PUT", "/api/v1/devices/level-1", e.admin, map[string]any{"site_id": "var-estuaire", "kind": "toaster"}, "kind")
			e.problem("PUT", "/api/v1/devices/ghost", e.admin, map[string]any{"site_id": "var-estuaire", "kind": "sensor"}, 404)
			e.problem("POST", "/api/v1/devices/ghost/credentials", e.admin, nil, 404)
			e.problem("DELETE", "/api/v1/devices/ghost/credentials", e.admin, nil, 404)
			e.problem("POST", "/api/v1/devices/a%2F%23/credentials", e.admin, nil, 404)
			// A device named like a service account gets no credentials.
			e.call("POST", "/api/v1/devices", e.admin, map[string]any{"id": "ingest", "site_id": "var-estuaire", "kind": "sensor"}, 201, nil)
			e.problem("POST", "/api/v1/devices/ingest/credentials", e.admin, nil, 409)
			if d, _ := e.st.Device(t.Context(), "level-1"); d.MQTTUser != "" || d.Kind != civic.DeviceSensor {
				t.Fatalf("level-1 changed by refused requests: %+v", d)
			}

			// JSON: edit, provision, export, revoke.
			var d civic.Device
			e.call("PUT", "/api/v1/devices/level-1", e.admin, map[string]any{"site_id": "var-estuaire", "kind": "sensor", "model": "radar v2",
				"quantities": []map[string]string{{"quantity": "water_level", "unit": "m"}}}, 200, &d)
			if d.Model != "radar v2" || d.Status != "unknown" {
				t.Fatalf("updated %+v", d)
			}
			var cr api.Credentials
			e.call("POST", "/api/v1/devices/level-1/credentials", e.admin, nil, 201, &cr)
			resp, acl := e.do("GET", "/api/v1/broker/acl", e.admin, nil)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") ||
				!strings.Contains(string(acl), "user level-1\ntopic write smartdeal/v1/var-estuaire/level-1/telemetry\n") || strings.Contains(string(acl), "user drone-1") {
				t.Fatalf("acl %d %s", resp.StatusCode, acl)
			}
			_, pw := e.do("GET", "/api/v1/broker/passwd", e.admin, nil)
			if string(pw) != cr.PasswordFileLine+"\n" {
				t.Fatalf("passwd %q, want %q", pw, cr.PasswordFileLine)
			}
			e.call("DELETE", "/api/v1/devices/level-1/credentials", e.admin, nil, 204, nil)
			if _, pw := e.do("GET", "/api/v1/broker/passwd", e.admin, nil); len(pw) != 0 {
				t.Fatalf("passwd after revocation %q", pw)
			}

			// Forms: a citizen's session, a missing or forged CSRF token.
			const pass = "un mot de passe solide"
			e.account(civic.RoleCitizen, "citoyen-registre@example.fr", pass)
			e.account(civic.RoleAdmin, "admin-registre@example.fr", pass)
			cCookie, cCSRF := e.cookieSession("citoyen-registre@example.fr", pass)
			aCookie, aCSRF := e.cookieSession("admin-registre@example.fr", pass)
			post := func(cookie, path string, form url.Values) (int, string) {
				req := e.request("POST", path, "", form.Encode(), "Cookie", cookie, "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
				resp, b := e.send(req)
				return resp.StatusCode, string(b)
			}
			get := func(cookie, path string) (int, string) {
				resp, b := e.send(e.request("GET", path, "", nil, "Cookie", cookie, "Accept", "text/html"))
				return resp.StatusCode, string(b)
			}
			if code, body := post(cCookie, "/admin/registre/appareils/level-1/identifiants", url.Values{"csrf": {cCSRF}}); code != 403 || !strings.Contains(body, "réservé aux administrateurs") {
				t.Fatalf("citizen provisioning: %d %s", code, body)
			}
			if code, _ := get(cCookie, "/admin/registre"); code != 403 {
				t.Fatalf("citizen registry page: %d", code)
			}
			if code, _ := get("", "/admin/registre"); code != 303 {
				t.Fatalf("anonymous registry page: %d", code)
			}
			for _, tok := range []string{"", "forged"} {
				if code, body := post(aCookie, "/admin/registre/appareils/level-1/identifiants", url.Values{"csrf": {tok}}); code != 403 || strings.Contains(body, "mqtt-mot-de-passe") {
					t.Fatalf("provisioning with csrf %q: %d", tok, code)
				}
			}
			for _, id := range []string{"a/#", "+", "x<script>"} {
				code, body := post(aCookie, "/admin/registre/appareils", url.Values{"csrf": {aCSRF}, "id": {id}, "site_id": {"var-estuaire"}, "kind": {"sensor"}})
				if code != 400 || strings.Contains(body, "<script>") {
					t.Fatalf("device %q from the form: %d %s", id, code, body)
				}
			}
			if code, _ := post(aCookie, "/admin/registre/sites", url.Values{"csrf": {aCSRF}, "id": {"s1"}, "name": {"x"}, "lat": {"nord"}, "lon": {"7"}}); code != 400 {
				t.Fatalf("latitude nord: %d", code)
			}
			if d, _ := e.st.Device(t.Context(), "level-1"); d.MQTTUser != "" {
				t.Fatal("a refused form provisioned level-1")
			}
			// Injection in names is shown as text.
			if code, _ := post(aCookie, "/admin/registre/sites", url.Values{"csrf": {aCSRF}, "id": {"s-inj"}, "name": {`<img src=x onerror=alert(1)>`}, "lat": {"43,5"}, "lon": {"7"}}); code != 303 {
				t.Fatalf("site form: %d", code)
			}
			code, page := get(aCookie, "/admin/registre")
			if code != 200 || strings.Contains(page, "<img src=x") || !strings.Contains(page, "&lt;img src=x onerror=alert(1)&gt;") || !strings.Contains(page, "43,50000") {
				t.Fatalf("registry page %d: injected name not escaped", code)
			}
			if code, body := post(aCookie, "/admin/registre/appareils/level-1/identifiants", url.Values{"csrf": {aCSRF}}); code != 200 || !strings.Contains(body, `id="mqtt-mot-de-passe"`) {
				t.Fatalf("admin provisioning: %d", code)
			}
		})
	}
}
