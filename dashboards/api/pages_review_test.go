package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// webClient is a browser without JavaScript over a real HTTP connection:
// a cookie jar, no redirects followed, Accept text/html, same-origin posts.
type webClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newWebClient(t *testing.T, base string) *webClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &webClient{t: t, base: base, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (w *webClient) do(method, path, body string) (*http.Response, string) {
	w.t.Helper()
	req, err := http.NewRequest(method, w.base+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (w *webClient) get(path string) (*http.Response, string) {
	w.t.Helper()
	return w.do("GET", path, "")
}

func (w *webClient) post(path string, form url.Values) (*http.Response, string) {
	w.t.Helper()
	return w.do("POST", path, form.Encode())
}

func (w *webClient) signIn(email, password string) {
	w.t.Helper()
	if resp, html := w.post("/connexion", url.Values{"email": {email}, "password": {password}}); resp.StatusCode != 303 {
		w.t.Fatalf("sign-in %s: %d %.300s", email, resp.StatusCode, html)
	}
}

func (w *webClient) csrf(path string) string {
	w.t.Helper()
	_, html := w.get(path)
	m := csrfInput.FindStringSubmatch(html)
	if m == nil {
		w.t.Fatalf("no csrf field on %s:\n%.800s", path, html)
	}
	return m[1]
}

func (e *env) reviewsOf(id string) []*civic.Review {
	e.t.Helper()
	rs, err := e.st.Reviews(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return rs
}

func (e *env) status(id string) (civic.Status, int) {
	e.t.Helper()
	p, err := e.st.Proposal(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	h, err := e.st.History(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Status, len(h)
}

// shortlisted submits, publishes and shortlists a proposal of cost euros.
func (e *env) shortlisted(citizen string, cost int64) *civic.Proposal {
	e.t.Helper()
	p := e.idea(citizen, cost, true)
	e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "shortlisted"}, 200, p)
	return p
}

func scores(csrf, impact, feasibility, cost string, edit ...string) url.Values {
	v := url.Values{"csrf": {csrf}, "impact": {impact}, "feasibility": {feasibility}, "cost": {cost}, "comment": {"Étude de crue utile."}}
	for i := 0; i+1 < len(edit); i += 2 {
		v.Set(edit[i], edit[i+1])
	}
	return v
}

// TestReviewDeskForms: the review desk over a real listener, without
// JavaScript: who may see and post what, CSRF, hostile scores and reasons,
// re-scoring, and the committee's decisions up to an over-budget refusal;
// the database is checked after every refusal.
func TestReviewDeskForms(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	base := serve(t, e)
	_, citizenTok := e.user(civic.RoleCitizen)
	p := e.shortlisted(citizenTok, 30_000)
	// Selecting p first commits 30 000 €: p2 would then exceed the budget by 12 500 €.
	p2 := e.shortlisted(citizenTok, 1_000_000-30_000+12_500)
	e.call("POST", "/api/v1/ideas/"+p2.ID+"/status", e.admin, map[string]any{"status": "under_review"}, 200, nil)
	page, avis, decision := "/expertise/"+p.ID, "/expertise/"+p.ID+"/avis", "/expertise/"+p.ID+"/decision"

	// Anonymous: the pages send to the sign-in page, which comes back; posts get 401.
	anon := newWebClient(t, base)
	for path, want := range map[string]string{"/expertise": "/connexion?retour=%2Fexpertise", page: "/connexion?retour=" + url.QueryEscape(page)} {
		if resp, _ := anon.get(path); resp.StatusCode != 303 || resp.Header.Get("Location") != want {
			t.Fatalf("anonymous %s: %d to %q, want 303 to %s", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	for _, path := range []string{avis, decision} {
		resp, html := anon.post(path, scores("x", "4", "4", "4", "decision", "retenir"))
		wantPage(t, "anonymous post "+path, resp, html, 401, `<form id="connexion"`, "Votre session a expiré")
	}

	// Citizens, agents and risk managers: 403 pages, no header link.
	for _, role := range []civic.Role{civic.RoleCitizen, civic.RoleAgent, civic.RoleRiskManager} {
		email := string(role) + "@example.fr"
		e.account(role, email, "un mot de passe solide")
		w := newWebClient(t, base)
		w.signIn(email, "un mot de passe solide")
		for _, path := range []string{"/expertise", page} {
			resp, html := w.get(path)
			wantPage(t, string(role)+" "+path, resp, html, 403, "L'expertise des propositions est réservée aux experts et aux administrateurs.", `role="alert"`)
		}
		csrf := w.csrf("/idees")
		resp, html := w.post(avis, scores(csrf, "4", "4", "4"))
		wantPage(t, string(role)+" review", resp, html, 403, "Seuls les experts notent les propositions.")
		resp, html = w.post(decision, url.Values{"csrf": {csrf}, "decision": {"retenir"}})
		wantPage(t, string(role)+" decision", resp, html, 403, "Les décisions du comité sont réservées aux administrateurs.")
		if _, html := w.get("/idees"); strings.Contains(html, `href="/expertise"`) {
			t.Fatalf("%s sees the review desk link", role)
		}
	}

	// The expert's desk: the proposals awaiting review, the budget, the link.
	expertUser := e.account(civic.RoleExpert, "expert@example.fr", "un mot de passe solide")
	expert := newWebClient(t, base)
	expert.signIn("expert@example.fr", "un mot de passe solide")
	resp, html := expert.get("/expertise")
	wantPage(t, "desk", resp, html, 200, `href="/expertise"`, `href="/expertise/`+p.ID+`"`, `href="/expertise/`+p2.ID+`"`,
		"présélectionnée", "en cours d'expertise", "30\u202f000 €", "1\u202f000\u202f000 €", "Restant", "à donner", "Environnement")
	resp, html = expert.get(page)
	wantPage(t, "review page", resp, html, 200, `<form id="formulaire-avis" method="post" action="`+avis+`"`, `name="impact" value="5"`,
		"Impact (note obligatoire)", "Faisabilité (note obligatoire)", "Coût (note obligatoire)", "Aucune série de mesures", "Aucun avis", "latitude 43,7, longitude 7,25", "Mesurer le niveau d'eau.")
	if strings.Contains(html, "formulaire-decision") {
		t.Fatal("an expert is offered the committee's decision form")
	}
	csrf := expert.csrf(page)

	// CSRF: missing or wrong → 403, nothing stored.
	for _, bad := range []string{"", "forged", csrf + "x"} {
		resp, html := expert.post(avis, scores(bad, "4", "4", "4"))
		wantPage(t, "csrf "+bad, resp, html, 403, "Le formulaire a expiré ou ne vient pas de ce site")
		if strings.Contains(html, "Étude de crue utile.") {
			t.Fatal("a refused cross-site post came back filled in")
		}
	}
	// Hostile scores and comments → 400 with the field marked, nothing stored.
	for _, c := range []struct {
		form  url.Values
		input string
		msg   string
	}{
		{scores(csrf, "0", "4", "4"), "impact-1", "Choisissez une note d'impact, de 1 à 5."},
		{scores(csrf, "4", "6", "4"), "feasibility-1", "Choisissez une note de faisabilité, de 1 à 5."},
		{scores(csrf, "4", "4", "abc"), "cost-1", "Choisissez une note de coût, de 1 à 5."},
		{scores(csrf, "4", "4", ""), "cost-1", "Choisissez une note de coût, de 1 à 5."},
		{scores(csrf, "-1", "4", "4"), "impact-1", "Choisissez une note d'impact, de 1 à 5."},
		{scores(csrf, "99999999999999999999", "4", "4"), "impact-1", "Choisissez une note d'impact, de 1 à 5."},
		{scores(csrf, "4", "4", "4", "comment", strings.Repeat("é", 5001)), "avis-commentaire", "Le commentaire compte 5 000 caractères au plus, sans caractère de contrôle."},
		{scores(csrf, "4", "4", "4", "comment", "nul\x00"), "avis-commentaire", "Le commentaire compte 5 000 caractères au plus, sans caractère de contrôle."},
	} {
		resp, html := expert.post(avis, c.form)
		wantPage(t, "hostile "+c.input, resp, html, 400, "Erreur : "+c.msg)
		if !regexpInvalid(c.input).MatchString(html) {
			t.Errorf("%v: %s not marked invalid and focused", c.form, c.input)
		}
	}
	if resp, html := expert.post(avis, scores(csrf, "4", "4", "4", "comment", strings.Repeat("x", 70_000))); resp.StatusCode != 413 {
		t.Fatalf("70 KB comment: %d %.300s", resp.StatusCode, html)
	}
	if rs := e.reviewsOf(p.ID); len(rs) != 0 {
		t.Fatalf("refused posts stored %d reviews", len(rs))
	}
	// A refused form keeps what was typed.
	_, html = expert.post(avis, scores(csrf, "4", "3", "", "comment", "<b>gras</b>"))
	if !strings.Contains(html, `id="impact-4" name="impact" value="4" checked`) || !strings.Contains(html, "&lt;b&gt;gras&lt;/b&gt;</textarea>") {
		t.Fatalf("draft not kept:\n%s", html)
	}

	// Success, then re-scoring replaces the expert's review (as the JSON route).
	resp, _ = expert.post(avis, scores(csrf, "4", "3", "5"))
	if resp.StatusCode != 303 || resp.Header.Get("Location") != page {
		t.Fatalf("review: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, html = expert.get(page)
	wantPage(t, "after review", resp, html, 200, "Avis enregistré.", "Impact 4/5, faisabilité 3/5, coût 5/5", "Étude de crue utile.", "(votre avis)", "Modifier mon avis",
		`id="impact-4" name="impact" value="4" checked`)
	if !frDateRe.MatchString(html) {
		t.Error("review date not in French")
	}
	expert.post(avis, scores(csrf, "2", "2", "2", "comment", "Finalement coûteux."))
	if rs := e.reviewsOf(p.ID); len(rs) != 1 || rs[0].ExpertID != expertUser.ID || rs[0].Impact != 2 || rs[0].Feasibility != 2 || rs[0].Cost != 2 || rs[0].Comment != "Finalement coûteux." {
		t.Fatalf("reviews after re-scoring %+v", rs)
	}
	var viaJSON []civic.Review
	_, expertTok := e.user(civic.RoleExpert)
	e.call("GET", "/api/v1/ideas/"+p.ID+"/reviews", expertTok, nil, 200, &viaJSON)
	if len(viaJSON) != 1 || viaJSON[0].Impact != 2 {
		t.Fatalf("JSON route sees %+v", viaJSON)
	}
	_, html = expert.get("/expertise")
	if row := between(html, `id="proposition-`+p.ID+`"`, "</tr>"); !strings.Contains(row, `<td class="n">1</td><td class="n">2</td><td class="n">2</td><td class="n">2</td><td>donné</td>`) {
		t.Fatalf("desk row %q", row)
	}
	// An expert may not decide through the page.
	resp, html = expert.post(decision, url.Values{"csrf": {csrf}, "decision": {"retenir"}})
	wantPage(t, "expert decision", resp, html, 403, "réservées aux administrateurs")

	// The committee (administrator): decisions, no scoring form.
	e.account(civic.RoleAdmin, "comite@example.fr", "un mot de passe solide")
	adm := newWebClient(t, base)
	adm.signIn("comite@example.fr", "un mot de passe solide")
	resp, html = adm.get(page)
	wantPage(t, "admin review page", resp, html, 200, `<form id="formulaire-decision"`, `value="expertiser"`, `value="rejeter"`, "Finalement coûteux.", "Dominique")
	if strings.Contains(html, "formulaire-avis") {
		t.Fatal("an administrator is offered the scoring form")
	}
	resp, html = adm.post(avis, scores(adm.csrf(page), "4", "4", "4"))
	wantPage(t, "admin review", resp, html, 403, "Seuls les experts notent les propositions.")
	acsrf := adm.csrf(page)
	for _, c := range []struct {
		form   url.Values
		status int
		want   string
	}{
		{url.Values{"decision": {"rejeter"}, "reason": {"Hors champ."}}, 403, "Le formulaire a expiré"},
		{url.Values{"csrf": {"forged"}, "decision": {"rejeter"}, "reason": {"Hors champ."}}, 403, "Le formulaire a expiré"},
		{url.Values{"csrf": {acsrf}, "decision": {"rejeter"}, "reason": {"  "}}, 400, "Indiquez le motif public"},
		{url.Values{"csrf": {acsrf}, "decision": {"rejeter"}, "reason": {strings.Repeat("m", 2001)}}, 400, "Indiquez le motif public"},
		{url.Values{"csrf": {acsrf}, "decision": {"publier"}}, 400, "Choisissez une décision"},
		{url.Values{"csrf": {acsrf}}, 400, "Choisissez une décision"},
		{url.Values{"csrf": {acsrf}, "decision": {"retenir"}}, 409, "pas possible au statut actuel"}, // shortlisted: not yet under review
	} {
		resp, html := adm.post(decision, c.form)
		wantPage(t, "decision "+c.form.Encode(), resp, html, c.status, c.want)
		if st, n := e.status(p.ID); st != civic.StatusShortlisted || n != 3 {
			t.Fatalf("refused decision %v changed the proposal: %s, %d history entries", c.form, st, n)
		}
	}
	if _, html := adm.post(decision, url.Values{"csrf": {acsrf}, "decision": {"rejeter"}, "reason": {""}}); !regexpInvalid("motif").MatchString(html) {
		t.Error("reason not marked invalid and focused")
	}
	for _, step := range []string{"expertiser", "retenir"} {
		if resp, _ := adm.post(decision, url.Values{"csrf": {acsrf}, "decision": {step}}); resp.StatusCode != 303 || resp.Header.Get("Location") != page {
			t.Fatalf("%s: %d to %q", step, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, html = adm.get(page)
	wantPage(t, "selected", resp, html, 200)
	if !strings.Contains(html, "Décision enregistrée : la proposition est retenue.") || !strings.Contains(html, `<dd class="statut" id="statut">retenue</dd>`) {
		t.Fatalf("after selection:\n%.2000s", html)
	}

	// Over budget: 409 with the amount it exceeds by, nothing changed.
	before, n := e.status(p2.ID)
	resp, html = adm.post("/expertise/"+p2.ID+"/decision", url.Values{"csrf": {acsrf}, "decision": {"retenir"}})
	wantPage(t, "over budget", resp, html, 409, "Erreur : Sélection refusée : retenir cette proposition dépasserait le budget de l'appel de 12\u202f500 €. Rien n'a été modifié.",
		"dont 30\u202f000 € engagés", "restant : 970\u202f000 €")
	if st, m := e.status(p2.ID); st != before || st != civic.StatusUnderReview || m != n {
		t.Fatalf("over-budget selection changed p2: %s (%d entries, was %d)", st, m, n)
	}
	_, html = adm.get("/expertise")
	if !strings.Contains(html, "<dt>Engagé (retenues, en réalisation, réalisées)</dt><dd>30\u202f000 €</dd>") || strings.Contains(html, `id="proposition-`+p.ID+`"`) {
		t.Fatalf("desk after selection:\n%.3000s", html)
	}
}

// between returns the text of s from the first from up to the next to.
func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	out, _, _ := strings.Cut(rest, to)
	return out
}
