package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// cookieSession signs in through the JSON route with cookie=true and
// returns the Cookie header value and the CSRF token.
func (e *env) cookieSession(email, password string) (cookie, csrf string) {
	e.t.Helper()
	resp, b := e.do("POST", "/api/v1/auth/signin", "", map[string]any{"email": email, "password": password, "cookie": true})
	if resp.StatusCode != 200 {
		e.t.Fatalf("cookie sign-in: %d %s", resp.StatusCode, b)
	}
	var in struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		e.t.Fatal(err)
	}
	return strings.Split(resp.Header.Get("Set-Cookie"), ";")[0], in.CSRF
}

// TestAccountJSON: GET /api/v1/me/activity lists exactly the caller's
// proposals, supports and comments; /me/notifications is off until PUT
// turns it on (strict body; a cookie session needs the CSRF token); the
// export is a JSON attachment a browser downloads with its session cookie
// (a GET: no CSRF token), never cached, and carries the consent; DELETE
// /api/v1/me expires the cookie at Path=/ (it used to be cleared without a
// path, leaving the browser's cookie in place).
func TestAccountJSON(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{})
			f := newAccountFixture(t, e)
			var a civic.Activity
			e.call("GET", "/api/v1/me/activity", f.meTok, nil, 200, &a)
			ids := func(get func(i int) string, n int) string {
				var out []string
				for i := range n {
					out = append(out, get(i))
				}
				sort.Strings(out)
				return strings.Join(out, ",")
			}
			sorted := func(v ...string) string { sort.Strings(v); return strings.Join(v, ",") }
			if got, want := ids(func(i int) string { return a.Proposals[i].ID }, len(a.Proposals)), sorted(f.mine.ID, f.waiting.ID, f.refused.ID, f.moderated.ID); got != want {
				t.Errorf("proposals %s, want %s", got, want)
			}
			for _, p := range a.Proposals {
				if p.ID == f.refused.ID && (p.Status != civic.StatusRejected || p.StatusReason != refusalReason) {
					t.Errorf("refused %+v", p)
				}
				if p.ID == f.moderated.ID && (p.Status != civic.StatusRefused || p.Moderation == nil || p.Moderation.Reason != civic.ReasonDuplicate || p.StatusReason != moderationNote) {
					t.Errorf("refused at moderation %+v", p)
				}
			}
			if got, want := ids(func(i int) string { return a.Supports[i].ProposalID }, len(a.Supports)), sorted(f.mine.ID, f.theirs.ID, f.closed.ID); got != want {
				t.Errorf("supports %s, want %s", got, want)
			}
			for _, sp := range a.Supports {
				if sp.VotingOpen != (sp.ProposalID != f.closed.ID) {
					t.Errorf("support %+v: voting_open", sp)
				}
			}
			if got, want := ids(func(i int) string { return a.Comments[i].ID }, len(a.Comments)), sorted(f.myPending.ID, f.myApproved.ID); got != want {
				t.Errorf("comments %s, want %s", got, want)
			}
			var theirs civic.Activity
			e.call("GET", "/api/v1/me/activity", f.otherTok, nil, 200, &theirs)
			if len(theirs.Proposals) != 3 || len(theirs.Supports) != 2 || len(theirs.Comments) != 1 {
				t.Errorf("the other's activity: %d proposals, %d supports, %d comments", len(theirs.Proposals), len(theirs.Supports), len(theirs.Comments))
			}

			var p civic.NotificationPrefs
			e.call("GET", "/api/v1/me/notifications", f.meTok, nil, 200, &p)
			if p.OwnProposals || p.SupportedProposals || p.OwnSince != nil || p.Updated != nil {
				t.Fatalf("default %+v", p)
			}
			e.problem("PUT", "/api/v1/me/notifications", f.meTok, map[string]any{"own_proposals": true, "sms": true}, 400)
			cookie, csrf := e.cookieSession(f.me.Email, f.password)
			body := map[string]bool{"own_proposals": false, "supported_proposals": true}
			if resp, b := e.send(e.request("PUT", "/api/v1/me/notifications", "", body, "Cookie", cookie)); resp.StatusCode != 403 {
				t.Fatalf("cookie PUT without CSRF: %d %s", resp.StatusCode, b)
			}
			resp, raw := e.send(e.request("PUT", "/api/v1/me/notifications", "", body, "Cookie", cookie, api.CSRFHeader, csrf))
			if resp.StatusCode != 200 || json.Unmarshal(raw, &p) != nil || p.OwnProposals || !p.SupportedProposals || p.SupportedSince == nil {
				t.Fatalf("cookie PUT: %d %s", resp.StatusCode, raw)
			}

			// The download as a browser does it: a GET with the cookie only.
			resp, raw = e.send(e.request("GET", "/api/v1/me/export", "", nil, "Cookie", cookie, "Accept", "text/html,*/*", "Sec-Fetch-Site", "same-origin"))
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
				resp.Header.Get("Content-Disposition") != `attachment; filename="smartdeal-export.json"` ||
				resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
			}
			var ex struct {
				User  civic.User `json:"user"`
				Extra struct {
					Prefs civic.NotificationPrefs `json:"notification_prefs"`
				} `json:"extra"`
			}
			if err := json.Unmarshal(raw, &ex); err != nil || ex.User.ID != f.me.ID || !ex.Extra.Prefs.SupportedProposals {
				t.Fatalf("export %s: %v", raw, err)
			}

			resp, raw = e.send(e.request("DELETE", "/api/v1/me", "", nil, "Cookie", cookie, api.CSRFHeader, csrf))
			if resp.StatusCode != 204 {
				t.Fatalf("delete: %d %s", resp.StatusCode, raw)
			}
			var cleared *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == api.SessionCookie {
					cleared = c
				}
			}
			if cleared == nil || cleared.Value != "" || cleared.Path != "/" || !cleared.Expires.Before(time.Now()) {
				t.Fatalf("session cookie not expired at Path=/: %v", resp.Header["Set-Cookie"])
			}
			if pr := e.prefsOf(f.me.ID); pr.SupportedProposals {
				t.Fatalf("preferences outlive the account: %+v", pr)
			}
		})
	}
}

var withdrawForm = regexp.MustCompile(`action="/compte/soutiens/([a-z0-9]+)/retrait"`)

// TestAccountForms: the forms of /compte without JavaScript, as posts: an
// anonymous visit of /compte or /compte/suppression is sent to the sign-in
// page and back; the preferences and withdraw forms need the CSRF token,
// change nothing without it, and a withdrawal where voting has closed is a
// French 409; deletion needs the token and the password (both refused
// without a change), then expires the cookie and confirms once.
func TestAccountForms(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	f := newAccountFixture(t, e)
	c := newFormClient(e)
	for path, retour := range map[string]string{"/compte": "%2Fcompte", "/compte/suppression": "%2Fcompte%2Fsuppression"} {
		resp, _ := c.get(path)
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/connexion?retour="+retour {
			t.Fatalf("anonymous %s: %d %q", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp, html := c.post("/connexion", url.Values{"email": {f.me.Email}, "password": {f.password}, "retour": {"/compte"}}); resp.StatusCode != 303 || resp.Header.Get("Location") != "/compte" {
		t.Fatalf("sign-in: %d %.300s", resp.StatusCode, html)
	}
	resp, html := c.get("/compte")
	if strings.Contains(html, "suivi-adresse-non-confirmee") {
		t.Error("a verified account is told its address is not confirmed")
	}
	wantPage(t, "/compte", resp, html, 200, "Mon compte", "Mon idée publiée &lt;b&gt;éclairage&lt;/b&gt;", refusalReason, "en attente de modération", moderationShown,
		`href="/compte/securite"`, `href="/api/v1/me/export"`, `href="/compte/suppression"`, `<a href="/compte" id="mon-compte">Mon compte</a>`)
	if strings.Contains(html, "<b>éclairage") {
		t.Fatal("a title is not escaped")
	}
	var open []string
	for _, m := range withdrawForm.FindAllStringSubmatch(html, -1) {
		open = append(open, m[1])
	}
	sort.Strings(open)
	want := []string{f.mine.ID, f.theirs.ID}
	sort.Strings(want)
	if strings.Join(open, ",") != strings.Join(want, ",") {
		t.Fatalf("withdraw buttons for %v, want %v (not the closed vote)", open, want)
	}
	csrf := csrfInput.FindStringSubmatch(html)[1]

	// Preferences: refused without the token, stored with it.
	if resp, _ := c.post("/compte/notifications", url.Values{"own": {"oui"}, "supported": {"oui"}}); resp.StatusCode != 403 || e.prefsOf(f.me.ID).OwnProposals {
		t.Fatalf("prefs without csrf: %d", resp.StatusCode)
	}
	if resp, html := c.post("/compte/notifications", url.Values{"csrf": {csrf}, "supported": {"oui"}}); resp.StatusCode != 303 || resp.Header.Get("Location") != "/compte#notifications" {
		t.Fatalf("prefs: %d %.300s", resp.StatusCode, html)
	}
	if p := e.prefsOf(f.me.ID); p.OwnProposals || !p.SupportedProposals {
		t.Fatalf("prefs stored %+v", p)
	}
	resp, html = c.get("/compte")
	wantPage(t, "after prefs", resp, html, 200, "Vos préférences d'e-mail sont enregistrées.", `id="suivi-soutiens" name="supported" value="oui" checked`, "Accepté le ")

	// Withdraw: token needed; closed vote refused in French; open one withdrawn.
	if resp, _ := c.post("/compte/soutiens/"+f.theirs.ID+"/retrait", url.Values{}); resp.StatusCode != 403 || e.votes(f.theirs.ID) != 1 {
		t.Fatalf("withdraw without csrf: %d, votes %d", resp.StatusCode, e.votes(f.theirs.ID))
	}
	resp, html = c.post("/compte/soutiens/"+f.closed.ID+"/retrait", url.Values{"csrf": {csrf}})
	wantPage(t, "closed vote", resp, html, 409, "Erreur : Le vote est clos pour cette proposition : le soutien ne peut plus être retiré.", "Mes soutiens (3)")
	if resp, _ := c.post("/compte/soutiens/"+f.theirs.ID+"/retrait", url.Values{"csrf": {csrf}}); resp.StatusCode != 303 || e.votes(f.theirs.ID) != 0 {
		t.Fatalf("withdraw: %d, votes %d", resp.StatusCode, e.votes(f.theirs.ID))
	}

	// Deletion: the page, then refusals, then the real thing.
	resp, html = c.get("/compte/suppression")
	wantPage(t, "deletion page", resp, html, 200, "La suppression est définitive", f.me.Email,
		`<li id="propositions-gardees">2 publiée(s)`, `<li id="propositions-supprimees">2 jamais publiée(s)`,
		`<li id="soutiens-retires">1 sur des propositions dont le vote est ouvert`, `<li id="soutiens-gardes">1 sur des propositions dont le vote est clos`,
		`<li id="commentaires-gardes">1 publié(s)`, `<li id="commentaires-supprimes">1 en attente de modération ou masqué(s)`)
	if strings.Contains(html, "dernier compte administrateur") {
		t.Error("a citizen is told about the last administrator")
	}
	if resp, _ := c.post("/compte/suppression", url.Values{"password": {f.password}}); resp.StatusCode != 403 {
		t.Fatalf("deletion without csrf: %d", resp.StatusCode)
	}
	resp, html = c.post("/compte/suppression", url.Values{"csrf": {csrf}, "password": {"pas le bon"}})
	wantPage(t, "wrong password", resp, html, 403, "Erreur : Mot de passe incorrect : votre compte n'a pas été supprimé.", `aria-invalid="true"`)
	if strings.Contains(html, "pas le bon") {
		t.Error("the typed password is shown again")
	}
	if _, err := e.st.UserByID(context.Background(), f.me.ID); err != nil {
		t.Fatalf("refused deletion deleted: %v", err)
	}
	resp, html = c.post("/compte/suppression", url.Values{"csrf": {csrf}, "password": {f.password}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/compte/supprime" || sessionSet(resp) {
		t.Fatalf("deletion: %d %q %.300s", resp.StatusCode, resp.Header.Get("Location"), html)
	}
	if _, ok := c.cookies[api.SessionCookie]; ok {
		t.Fatal("session cookie kept after deletion")
	}
	resp, html = c.get("/compte/supprime")
	wantPage(t, "confirmation", resp, html, 200, "Votre compte est supprimé", "Vos sessions sont fermées")
	if resp, _ := c.get("/compte/supprime"); resp.StatusCode != 303 || resp.Header.Get("Location") != "/idees" {
		t.Fatalf("confirmation shown twice: %d", resp.StatusCode)
	}
	// An account whose address is not confirmed is told it gets no status
	// e-mail until it is.
	const pw = "mot de passe non confirmé"
	hash, err := (api.PasswordParams{MemoryKiB: 1024, Time: 1, Threads: 1}).Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	fresh := &civic.User{Email: "pas.confirmee." + civic.NewID() + "@example.fr", Name: "Nina", Role: civic.RoleCitizen, PasswordHash: hash}
	if err := e.st.CreateUser(context.Background(), fresh); err != nil {
		t.Fatal(err)
	}
	u := newFormClient(e)
	if resp, html := u.post("/connexion", url.Values{"email": {fresh.Email}, "password": {pw}, "retour": {"/compte"}}); resp.StatusCode != 303 {
		t.Fatalf("unverified sign-in: %d %.300s", resp.StatusCode, html)
	}
	resp, html = u.get("/compte")
	wantPage(t, "unverified /compte", resp, html, 200, `id="suivi-adresse-non-confirmee"`,
		"aucun e-mail de suivi ne vous est envoyé tant que vous ne l'avez pas confirmée")

	log, _ := e.st.AuditLog(context.Background(), 1000)
	var refused, deleted int
	for _, a := range log {
		switch a.Action {
		case "user.delete_refused":
			refused++
		case "user.delete":
			deleted++
		}
	}
	if refused != 1 || deleted != 1 {
		t.Errorf("audit: %d refused, %d deletions", refused, deleted)
	}
}

// TestDeletionPageLastAdmin: the only administrator's deletion page says the
// deletion is refused for the last administrator, and posting it with the
// right password is a 409 with that reason in French (the erasure's own
// civic.LastAdminError), not the agents' message the form used to show for
// every conflict; nothing is deleted.
func TestDeletionPageLastAdmin(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	const password = "mot de passe administrateur"
	admin := e.account(civic.RoleAdmin, "seule.admin."+civic.NewID()+"@example.fr", password)
	first := e.mustUser(t, e.admin)
	e.call("PUT", "/api/v1/users/"+first.ID+"/role", e.signIn(admin.Email, password), map[string]any{"role": "citizen"}, 204, nil)

	c := newFormClient(e)
	if resp, html := c.post("/connexion", url.Values{"email": {admin.Email}, "password": {password}, "retour": {"/compte/suppression"}}); resp.StatusCode != 303 {
		t.Fatalf("sign-in: %d %.300s", resp.StatusCode, html)
	}
	resp, html := c.get("/compte/suppression")
	wantPage(t, "deletion page", resp, html, 200, "Si vous êtes le dernier compte administrateur, la suppression est refusée")
	csrf := csrfInput.FindStringSubmatch(html)[1]
	resp, html = c.post("/compte/suppression", url.Values{"csrf": {csrf}, "password": {password}})
	wantPage(t, "last administrator", resp, html, 409,
		"Erreur : C'est le dernier compte administrateur : nommez d'abord un autre administrateur avant de rétrograder ou de supprimer celui-ci.")
	if strings.Contains(html, "agent de missions") {
		t.Error("the last administrator is told about drone missions")
	}
	if u, err := e.st.UserByID(context.Background(), admin.ID); err != nil || u.Role != civic.RoleAdmin {
		t.Fatalf("the last administrator after a refused deletion: %+v %v", u, err)
	}
}
