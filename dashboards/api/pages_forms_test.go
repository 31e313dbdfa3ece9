package api_test

import (
	"context"
	stdhtml "html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// formClient posts forms like a browser with JavaScript off: urlencoded
// bodies, Accept text/html, Sec-Fetch-Site same-origin, and a cookie jar.
type formClient struct {
	e       *env
	cookies map[string]string
}

func newFormClient(e *env) *formClient { return &formClient{e: e, cookies: map[string]string{}} }

func (f *formClient) send(method, path string, body string, hdr ...string) (*http.Response, string) {
	f.e.t.Helper()
	var b any
	if body != "" {
		b = body
	}
	h := []string{"Accept", "text/html,application/xhtml+xml", "Sec-Fetch-Site", "same-origin"}
	if method == "POST" {
		h = append(h, "Content-Type", "application/x-www-form-urlencoded")
	}
	var jar []string
	for k, v := range f.cookies {
		jar = append(jar, k+"="+v)
	}
	if len(jar) > 0 {
		h = append(h, "Cookie", strings.Join(jar, "; "))
	}
	resp, out := f.e.send(f.e.request(method, path, "", b, append(h, hdr...)...))
	for _, c := range resp.Cookies() {
		if c.Value == "" || c.MaxAge < 0 {
			delete(f.cookies, c.Name)
		} else {
			f.cookies[c.Name] = c.Value
		}
	}
	return resp, string(out)
}

func (f *formClient) post(path string, form url.Values, hdr ...string) (*http.Response, string) {
	f.e.t.Helper()
	return f.send("POST", path, form.Encode(), hdr...)
}

func (f *formClient) get(path string) (*http.Response, string) {
	f.e.t.Helper()
	return f.send("GET", path, "")
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the session's CSRF token from a signed-in page.
func (f *formClient) csrf(path string) string {
	f.e.t.Helper()
	_, html := f.get(path)
	m := csrfInput.FindStringSubmatch(html)
	if m == nil {
		f.e.t.Fatalf("no csrf field on %s", path)
	}
	return m[1]
}

// account creates a user with a real password hash, the given role and
// its address verified.
func (e *env) account(role civic.Role, email, password string) *civic.User {
	e.t.Helper()
	hash, err := (api.PasswordParams{MemoryKiB: 1024, Time: 1, Threads: 1}).Hash(password)
	if err != nil {
		e.t.Fatal(err)
	}
	verified := time.Now().UTC()
	u := &civic.User{Email: email, Name: "Dominique", Role: role, PasswordHash: hash, EmailVerified: &verified}
	if err := e.st.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func wantPage(t *testing.T, what string, resp *http.Response, html string, status int, wants ...string) {
	t.Helper()
	if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%s: %d %s, want %d text/html:\n%.600s", what, resp.StatusCode, resp.Header.Get("Content-Type"), status, html)
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("%s: no CSP", what)
	}
	text := stdhtml.UnescapeString(html)
	for _, w := range wants {
		if !strings.Contains(html, w) && !strings.Contains(text, w) {
			t.Errorf("%s: page lacks %q", what, w)
		}
	}
}

func sessionSet(resp *http.Response) bool {
	for _, c := range resp.Cookies() {
		if c.Name == api.SessionCookie && c.Value != "" {
			return true
		}
	}
	return false
}

func (e *env) votes(id string) int {
	e.t.Helper()
	p, err := e.st.Proposal(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Votes
}

// TestFormSignIn: the sign-in form without JavaScript: wrong password and
// unknown e-mail give the same French 401 page with no cookie; success sets
// the HttpOnly session cookie and 303s to a same-site retour only; login
// CSRF (cross-site Origin or Sec-Fetch-Site) is refused.
func TestFormSignIn(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{SignInLimit: -1})
	const email, password = "ines@example.fr", "un mot de passe solide"
	e.account(civic.RoleCitizen, email, password)

	f := newFormClient(e)
	resp, html := f.get("/connexion?retour=/idees")
	wantPage(t, "sign-in page", resp, html, 200, `<form id="connexion" method="post" action="/connexion"`, `<label for="courriel">`,
		`autocomplete="username"`, `autocomplete="current-password"`, `name="retour" value="/idees"`)

	for _, who := range []string{email, "personne@example.fr"} {
		resp, html := f.post("/connexion", url.Values{"email": {who}, "password": {"pas le bon"}, "retour": {"/idees"}})
		wantPage(t, "wrong password "+who, resp, html, 401, `role="alert"`, "Erreur : Adresse e-mail ou mot de passe incorrect.",
			`aria-invalid="true"`, `value="`+who+`"`)
		if sessionSet(resp) || strings.Contains(html, "un mot de passe") {
			t.Fatalf("%s: a failed sign-in set a cookie or echoed the password", who)
		}
	}

	// Open redirects: only same-site paths come back as they were sent.
	for retour, want := range map[string]string{
		"/idees/abc?x=1":                "/idees/abc?x=1",
		"//evil.example/":               "/idees",
		`/\evil.example/`:               "/idees",
		"/ok\\evil":                     "/idees",
		"https://evil.example/":         "/idees",
		"javascript:alert(1)":           "/idees",
		"/ok\r\nSet-Cookie: x=1":        "/idees",
		"/\t/evil.example":              "/idees",
		"evil.example":                  "/idees",
		"":                              "/idees",
		"/" + strings.Repeat("a", 2000): "/idees",
	} {
		f := newFormClient(e)
		resp, html := f.post("/connexion", url.Values{"email": {email}, "password": {password}, "retour": {retour}})
		if resp.StatusCode != 303 || resp.Header.Get("Location") != want {
			t.Fatalf("retour %q: %d Location %q, want 303 %q: %.300s", retour, resp.StatusCode, resp.Header.Get("Location"), want, html)
		}
	}

	// Success: the same cookie as the JSON sign-in with cookie=true.
	resp, _ = f.post("/connexion", url.Values{"email": {email}, "password": {password}, "retour": {"/idees"}})
	sc := resp.Header.Values("Set-Cookie")
	joined := strings.ToLower(strings.Join(sc, "\n"))
	if resp.StatusCode != 303 || !sessionSet(resp) || !strings.Contains(joined, "httponly") || !strings.Contains(joined, "samesite=lax") {
		t.Fatalf("sign-in: %d %q", resp.StatusCode, sc)
	}
	resp, html = f.get("/idees")
	wantPage(t, "after sign-in", resp, html, 200, "Vous êtes connecté·e.", `id="deconnexion"`, `role="status"`)
	if _, ok := f.cookies["sd_flash"]; ok {
		t.Fatal("flash cookie not cleared after showing")
	}
	if _, html = f.get("/idees"); strings.Contains(html, "Vous êtes connecté·e.") {
		t.Fatal("flash shown twice")
	}
	// A signed-in visitor of /connexion goes back.
	if resp, _ = f.get("/connexion?retour=/idees"); resp.StatusCode != 303 {
		t.Fatalf("signed-in /connexion: %d", resp.StatusCode)
	}

	// Login CSRF: cross-site posts are refused before any password check.
	for _, hdr := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Sec-Fetch-Site", "", "Origin", "https://evil.example"},
		{"Sec-Fetch-Site", "", "Origin", "null"},
	} {
		f := newFormClient(e)
		resp, html := f.post("/connexion", url.Values{"email": {email}, "password": {password}}, hdr...)
		wantPage(t, "cross-site "+strings.Join(hdr, " "), resp, html, 403, "Erreur : Cette demande ne vient pas de ce site")
		if sessionSet(resp) {
			t.Fatalf("%v: cookie set", hdr)
		}
	}
	// Same origin without Sec-Fetch-Site (older browsers) passes.
	resp, _ = newFormClient(e).post("/connexion", url.Values{"email": {email}, "password": {password}}, "Sec-Fetch-Site", "", "Origin", "http://example.com")
	if resp.StatusCode != 303 || !sessionSet(resp) {
		t.Fatalf("same Origin: %d", resp.StatusCode)
	}
}

// TestFormSignUp: the sign-up page creates a citizen through the same
// validation as the JSON route, in French, then signs in.
func TestFormSignUp(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	f := newFormClient(e)
	resp, html := f.get("/inscription?retour=/idees")
	wantPage(t, "sign-up page", resp, html, 200, `<label for="nom">`, `autocomplete="name"`, `autocomplete="email"`, `autocomplete="new-password"`,
		`aria-describedby="mot-de-passe-aide"`)

	resp, html = f.post("/inscription", url.Values{"name": {"Léa"}, "email": {"lea@example.fr"}, "password": {"court"}, "retour": {"/idees"}})
	wantPage(t, "short password", resp, html, 400, "Erreur : Le mot de passe doit compter entre 10 et 200 caractères.", `role="alert"`, `value="Léa"`, `value="lea@example.fr"`)
	if !regexp.MustCompile(`id="mot-de-passe"[^>]*aria-invalid="true"[^>]*autofocus`).MatchString(html) {
		t.Error("the password field is not marked invalid and focused")
	}
	resp, html = f.post("/inscription", url.Values{"name": {"Léa"}, "email": {"pas une adresse"}, "password": {"assez long pour passer"}})
	wantPage(t, "bad e-mail", resp, html, 400, "Erreur : Adresse e-mail invalide")
	resp, html = f.post("/inscription", url.Values{"name": {"Léa"}, "email": {"lea@example.fr"}, "password": {"assez long pour passer"}},
		"Sec-Fetch-Site", "cross-site")
	wantPage(t, "cross-site sign-up", resp, html, 403, "Erreur : Cette demande ne vient pas de ce site")
	if _, err := e.st.UserByEmail(context.Background(), "lea@example.fr"); civic.ErrorCode(err) != civic.ENOTFOUND {
		t.Fatalf("refused sign-ups created an account: %v", err)
	}

	resp, _ = f.post("/inscription", url.Values{"name": {"Léa"}, "email": {"lea@example.fr"}, "password": {"assez long pour passer"}, "retour": {"/idees"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/idees" || !sessionSet(resp) {
		t.Fatalf("sign-up: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	u, err := e.st.UserByEmail(context.Background(), "lea@example.fr")
	if err != nil || u.Role != civic.RoleCitizen || u.Name != "Léa" {
		t.Fatalf("account %+v %v", u, err)
	}
	resp, html = f.get("/idees")
	wantPage(t, "after sign-up", resp, html, 200, "Votre compte citoyen est créé", "Léa")

	resp, html = newFormClient(e).post("/inscription", url.Values{"name": {"Autre"}, "email": {"lea@example.fr"}, "password": {"assez long pour passer"}})
	wantPage(t, "taken e-mail", resp, html, 409, "Erreur : Un compte existe déjà")
}

// TestFormSupport: supporting and withdrawing through the proposal page's
// form, the CSRF field, role, closed voting and expired sessions, and
// sign-out.
func TestFormSupport(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	_, author := e.user(civic.RoleCitizen)
	p := e.idea(author, 1000, true)
	page := "/idees/" + p.ID
	e.account(civic.RoleCitizen, "sam@example.fr", "un mot de passe solide")
	e.account(civic.RoleExpert, "expert@example.fr", "un mot de passe solide")

	f := newFormClient(e)
	if resp, _ := f.post("/connexion", url.Values{"email": {"sam@example.fr"}, "password": {"un mot de passe solide"}, "retour": {page}}); resp.StatusCode != 303 || resp.Header.Get("Location") != page {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, html := f.get(page)
	wantPage(t, "signed-in page", resp, html, 200, `<form id="soutien" method="post" action="/idees/`+p.ID+`/soutien">`,
		`name="action" id="soutien-action" value="soutenir"`, "Soutenir cette proposition")
	tok := f.csrf(page)

	// Missing or wrong CSRF field: 403 page, no vote.
	for _, form := range []url.Values{{"action": {"soutenir"}}, {"action": {"soutenir"}, "csrf": {"forged"}}, {"action": {"soutenir"}, "csrf": {tok + "x"}}} {
		resp, html := f.post(page+"/soutien", form)
		wantPage(t, "csrf", resp, html, 403, "Erreur : Le formulaire a expiré", `role="alert"`, "<h1>"+p.Title+"</h1>")
	}
	if n := e.votes(p.ID); n != 0 {
		t.Fatalf("%d votes after forged posts", n)
	}

	resp, _ = f.post(page+"/soutien", url.Values{"action": {"soutenir"}, "csrf": {tok}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != page {
		t.Fatalf("support: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, html = f.get(page)
	wantPage(t, "supported", resp, html, 200, "Soutien enregistré.", `<dd id="soutiens">1</dd>`, "Retirer mon soutien", `value="retirer"`)
	if n := e.votes(p.ID); n != 1 {
		t.Fatalf("%d votes, want 1", n)
	}
	f.post(page+"/soutien", url.Values{"action": {"soutenir"}, "csrf": {tok}}) // twice counts once
	if n := e.votes(p.ID); n != 1 {
		t.Fatalf("%d votes after a second support, want 1", n)
	}
	resp, html = f.post(page+"/soutien", url.Values{"action": {"n'importe quoi"}, "csrf": {tok}})
	wantPage(t, "bad action", resp, html, 400, "Erreur : Choisissez de soutenir")
	f.post(page+"/soutien", url.Values{"action": {"retirer"}, "csrf": {tok}})
	resp, html = f.get(page)
	wantPage(t, "withdrawn", resp, html, 200, "Soutien retiré.", `<dd id="soutiens">0</dd>`)

	// Voting closed: the page again, 409, in French.
	closed := e.idea(author, 10, true)
	e.call("POST", "/api/v1/ideas/"+closed.ID+"/status", e.admin, map[string]any{"status": "rejected", "reason": "hors compétence"}, 200, nil)
	resp, html = f.post("/idees/"+closed.ID+"/soutien", url.Values{"action": {"soutenir"}, "csrf": {tok}})
	wantPage(t, "closed", resp, html, 409, "Erreur : Le vote n'est pas ouvert pour cette proposition.")
	resp, html = f.post("/idees/nope/soutien", url.Values{"action": {"soutenir"}, "csrf": {tok}})
	wantPage(t, "unknown proposal", resp, html, 404, "Erreur : Cette proposition n'existe pas")

	// Another role: 403, no vote.
	x := newFormClient(e)
	x.post("/connexion", url.Values{"email": {"expert@example.fr"}, "password": {"un mot de passe solide"}})
	resp, html = x.get(page)
	wantPage(t, "expert page", resp, html, 200, "réservé aux comptes citoyens")
	resp, html = x.post(page+"/soutien", url.Values{"action": {"soutenir"}, "csrf": {x.csrf(page)}})
	wantPage(t, "expert support", resp, html, 403, "Erreur : Le soutien est réservé aux comptes citoyens.")
	if n := e.votes(p.ID); n != 0 {
		t.Fatalf("%d votes after an expert's post", n)
	}

	// An expired (or unknown) session: 401 with the sign-in form.
	stale := newFormClient(e)
	stale.cookies[api.SessionCookie] = "expired"
	resp, html = stale.post(page+"/soutien", url.Values{"action": {"soutenir"}, "csrf": {tok}})
	wantPage(t, "stale session", resp, html, 401, "Erreur : Votre session a expiré", `<form id="connexion"`)

	// Sign-out needs the CSRF field too, then ends the session.
	old := f.cookies[api.SessionCookie]
	resp, html = f.post("/deconnexion", url.Values{"retour": {page}})
	wantPage(t, "sign-out without csrf", resp, html, 403, "Erreur : Le formulaire a expiré")
	resp, _ = f.post("/deconnexion", url.Values{"retour": {page}, "csrf": {tok}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != page || f.cookies[api.SessionCookie] != "" {
		t.Fatalf("sign-out: %d %q cookie %q", resp.StatusCode, resp.Header.Get("Location"), f.cookies[api.SessionCookie])
	}
	resp, html = f.get(page)
	wantPage(t, "signed out", resp, html, 200, "Vous êtes déconnecté·e.", `<form id="connexion"`)
	if resp, b := e.send(e.request("GET", "/api/v1/me", "", nil, "Cookie", api.SessionCookie+"="+old)); resp.StatusCode != 401 {
		t.Fatalf("old session still valid: %d %s", resp.StatusCode, b)
	}
}

// TestFormRateLimits: the form routes share the JSON routes' counters and
// answer a French 429 page.
func TestFormRateLimits(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{SignInLimit: 2, VoteLimit: 2})
	_, author := e.user(civic.RoleCitizen)
	p := e.idea(author, 1000, true)
	page := "/idees/" + p.ID
	e.account(civic.RoleCitizen, "sam@example.fr", "un mot de passe solide")

	f := newFormClient(e)
	e.problem("POST", "/api/v1/auth/signin", "", map[string]any{"email": "sam@example.fr", "password": "faux"}, 401) // 1 of 2
	if resp, _ := f.post("/connexion", url.Values{"email": {"sam@example.fr"}, "password": {"un mot de passe solide"}}); resp.StatusCode != 303 {
		t.Fatalf("sign-in 2 of 2: %d", resp.StatusCode) // 2 of 2
	}
	resp, html := newFormClient(e).post("/connexion", url.Values{"email": {"sam@example.fr"}, "password": {"un mot de passe solide"}})
	wantPage(t, "sign-in limit", resp, html, 429, "Erreur : Trop de tentatives de connexion : réessayez dans 1\u00a0min.", `role="alert"`)
	if sessionSet(resp) {
		t.Fatal("rate-limited sign-in set a cookie")
	}

	tok := f.csrf(page)
	// One vote through the JSON API (cookie + header), one through the form.
	if resp, b := e.send(e.request("POST", "/api/v1/ideas/"+p.ID+"/vote", "", nil, "Cookie", api.SessionCookie+"="+f.cookies[api.SessionCookie], api.CSRFHeader, tok)); resp.StatusCode != 200 {
		t.Fatalf("JSON vote: %d %s", resp.StatusCode, b)
	}
	if resp, _ := f.post(page+"/soutien", url.Values{"action": {"retirer"}, "csrf": {tok}}); resp.StatusCode != 303 {
		t.Fatalf("form withdraw: %d", resp.StatusCode)
	}
	resp, html = f.post(page+"/soutien", url.Values{"action": {"soutenir"}, "csrf": {tok}})
	wantPage(t, "vote limit", resp, html, 429, "Erreur : Trop de demandes : réessayez dans 1\u00a0min.", "<h1>"+p.Title+"</h1>")
	if n := e.votes(p.ID); n != 0 {
		t.Fatalf("%d votes after the limit", n)
	}
}
