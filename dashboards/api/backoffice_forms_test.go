package api_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestBackOfficeForms: the back office's form posts without JavaScript and
// their hostile inputs. A citizen signed in with a cookie gets 403 on every
// /admin page and post; a post without the CSRF token, or with another
// session's, changes nothing; forged ids are 404; an unknown kind of
// content is 404; the last administrator's refusal is shown in French; the
// search escapes what it shows.
func TestBackOfficeForms(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	const password = "un mot de passe solide"
	e.account(civic.RoleAdmin, "bureau@example.fr", password)
	target := e.account(civic.RoleCitizen, "cible@example.fr", password)
	e.account(civic.RoleCitizen, "curieux@example.fr", password)
	admin, citizen := newFormClient(e), newFormClient(e)
	admin.signIn("bureau@example.fr", password)
	citizen.signIn("curieux@example.fr", password)
	adminCSRF, citizenCSRF := admin.csrf("/admin/personnes"), citizen.csrf("/idees")

	for _, path := range []string{"/admin", "/admin/moderation", "/admin/personnes", "/admin/personnes/" + target.ID, "/admin/journal"} {
		if resp, html := citizen.get(path); resp.StatusCode != 403 || !strings.Contains(html, "réservée aux administrateurs") {
			t.Errorf("citizen GET %s: %d %.200s", path, resp.StatusCode, html)
		}
	}
	posts := map[string]url.Values{
		"/admin/personnes/" + target.ID + "/role":    {"role": {"admin"}},
		"/admin/personnes/" + target.ID + "/blocage": {"action": {"bloquer"}, "reason": {"x"}},
		"/admin/moderation/comment/x":                {"decision": {"keep"}},
	}
	for path, form := range posts {
		form.Set("csrf", citizenCSRF)
		if resp, _ := citizen.post(path, form); resp.StatusCode != 403 {
			t.Errorf("citizen POST %s: %d", path, resp.StatusCode)
		}
		for _, tok := range []string{"", citizenCSRF} { // no token, another session's
			form.Set("csrf", tok)
			if resp, _ := admin.post(path, form); resp.StatusCode != 403 {
				t.Errorf("admin POST %s with csrf %q: %d", path, tok, resp.StatusCode)
			}
		}
	}
	if u, _ := e.st.UserByID(context.Background(), target.ID); u.Role != civic.RoleCitizen || u.Blocked != nil {
		t.Fatalf("a refused post changed the account: %+v", u)
	}

	ok := url.Values{"csrf": {adminCSRF}}
	for path, want := range map[string]int{"/admin/personnes/forged/role": 404, "/admin/moderation/user/" + target.ID: 404, "/admin/moderation/comment/forged": 404} {
		form := url.Values{"csrf": {adminCSRF}, "role": {"expert"}, "decision": {"keep"}}
		if resp, _ := admin.post(path, form); resp.StatusCode != want {
			t.Errorf("POST %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	// The role form makes the citizen an expert.
	ok.Set("role", "expert")
	if resp, html := admin.post("/admin/personnes/"+target.ID+"/role", ok); resp.StatusCode != 303 {
		t.Fatalf("role post: %d %.300s", resp.StatusCode, html)
	}
	if _, html := admin.get("/admin/personnes/" + target.ID); !strings.Contains(html, `<dd id="role-actuel">expert·e</dd>`) || !strings.Contains(html, "Le rôle est changé.") {
		t.Errorf("account page after the role change: %.2000s", html)
	}
	// A block without a reason is refused with the field focused.
	if resp, html := admin.post("/admin/personnes/"+target.ID+"/blocage", url.Values{"csrf": {adminCSRF}, "action": {"bloquer"}}); resp.StatusCode != 400 ||
		!strings.Contains(html, "Indiquez le motif du blocage") || !strings.Contains(html, `aria-invalid="true" aria-describedby="erreur" autofocus`) {
		t.Errorf("block without a reason: %d %.3000s", resp.StatusCode, html)
	}
	// The last administrator cannot be made a citizen: the French refusal.
	var me civic.User
	e.call("GET", "/api/v1/me", e.admin, nil, 200, &me)
	bureau := e.userByEmail("bureau@example.fr")
	e.call("PUT", "/api/v1/users/"+me.ID+"/role", e.admin, map[string]any{"role": "citizen"}, 204, nil)
	if resp, html := admin.post("/admin/personnes/"+bureau.ID+"/role", url.Values{"csrf": {adminCSRF}, "role": {"citizen"}}); resp.StatusCode != 409 ||
		!strings.Contains(html, "le dernier compte administrateur") {
		t.Errorf("last admin: %d %.2000s", resp.StatusCode, html)
	}
	// What the search shows is escaped; a wildcard matches only itself.
	hostile := `<script>alert(1)</script>%_`
	if resp, html := admin.get("/admin/personnes?q=" + url.QueryEscape(hostile)); resp.StatusCode != 200 || strings.Contains(html, "<script>alert") ||
		!strings.Contains(html, "Aucun compte ne correspond") {
		t.Errorf("hostile search: %d %.300s", resp.StatusCode, html)
	}
	if resp, html := admin.get("/admin/personnes?q=cible"); resp.StatusCode != 200 || !strings.Contains(html, `id="personne-`+target.ID+`"`) {
		t.Errorf("search: %d", resp.StatusCode)
	}
	if resp, _ := admin.get("/admin/journal?du=hier"); resp.StatusCode != 400 {
		t.Errorf("bad date: %d", resp.StatusCode)
	}
	if resp, html := admin.get("/admin/journal?action=user.&acteur=" + bureau.ID); resp.StatusCode != 200 || !strings.Contains(html, "<code>user.role</code>") {
		t.Errorf("journal: %d %.300s", resp.StatusCode, html)
	}
}
