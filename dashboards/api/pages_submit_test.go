package api_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// proposals counts every stored proposal, whatever its status.
func (e *env) proposals() []*civic.Proposal {
	e.t.Helper()
	ps, err := e.st.Proposals(context.Background(), civic.ProposalFilter{Limit: 500})
	if err != nil {
		e.t.Fatal(err)
	}
	return ps
}

// allComments lists a proposal's comments, pending ones included.
func (e *env) allComments(id string) []*civic.Comment {
	e.t.Helper()
	cs, err := e.st.Comments(context.Background(), id, true)
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

// regexpInvalid matches the element with id marked invalid and focused.
func regexpInvalid(id string) *regexp.Regexp {
	return regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*aria-invalid="true"[^>]*autofocus`)
}

// frDateRe is a comment's date as the page writes it.
var frDateRe = regexp.MustCompile(`>\d{1,2}(er)?\x{a0}(janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) \d{4} à \d{1,2}\x{a0}h\x{a0}\d{2}</time>`)

// signIn signs a form client in through /connexion.
func (f *formClient) signIn(email, password string) {
	f.e.t.Helper()
	if resp, html := f.post("/connexion", url.Values{"email": {email}, "password": {password}}); resp.StatusCode != 303 {
		f.e.t.Fatalf("sign-in %s: %d %.300s", email, resp.StatusCode, html)
	}
}

// proposalForm is a valid proposal form post; edit changes it.
func proposalForm(csrf, campaign string, edit ...string) url.Values {
	v := url.Values{"csrf": {csrf}, "campaign_id": {campaign}, "title": {"Bancs ombragés au port"},
		"body": {"Des bancs sous les arbres du port.\nPour les personnes âgées."}, "theme_id": {"sante-solidarite"},
		"estimated_cost_eur": {"12000"}, "lat": {""}, "lon": {""}}
	for i := 0; i+1 < len(edit); i += 2 {
		v.Set(edit[i], edit[i+1])
	}
	return v
}

// TestFormProposal: the proposal form without JavaScript: access (sign-in
// redirect, 401, roles of POST /api/v1/ideas), CSRF, hostile and invalid
// input refused with a French 400 page and nothing stored, then a
// submission stored like the JSON route's, seen by its author only.
func TestFormProposal(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{ContributionLimit: 1000}) // validation, not the rate limit
	const pw = "un mot de passe solide"
	alix := e.account(civic.RoleCitizen, "alix@example.fr", pw)
	e.account(civic.RoleExpert, "expert@example.fr", pw)
	e.account(civic.RoleAgent, "agent@example.fr", pw)
	e.account(civic.RoleCitizen, "autre@example.fr", pw)

	// Anonymous: the page sends to the sign-in form, which comes back; a post is a 401 page.
	anon := newFormClient(e)
	resp, html := anon.get("/idees/nouvelle")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/connexion?retour=%2Fidees%2Fnouvelle" {
		t.Fatalf("anonymous form page: %d %q %.200s", resp.StatusCode, resp.Header.Get("Location"), html)
	}
	resp, html = anon.get(resp.Header.Get("Location"))
	wantPage(t, "sign-in for the form", resp, html, 200, `name="retour" value="/idees/nouvelle"`)
	resp, html = anon.post("/idees/nouvelle", proposalForm("", e.campaign))
	wantPage(t, "anonymous post", resp, html, 401, "Erreur : Votre session a expiré", `<form id="connexion"`, `name="retour" value="/idees/nouvelle"`)
	resp, html = anon.get("/idees")
	wantPage(t, "list", resp, html, 200, `<a class="action" href="/idees/nouvelle" id="appel-deposer">Déposer une proposition</a>`,
		`<li><a href="/idees/nouvelle">Déposer une proposition</a></li>`)

	// Roles: as POST /api/v1/ideas, experts and agents cannot submit.
	for _, who := range []string{"expert@example.fr", "agent@example.fr"} {
		x := newFormClient(e)
		x.signIn(who, pw)
		resp, html := x.get("/idees/nouvelle")
		wantPage(t, who+" form page", resp, html, 403, "Erreur : Le dépôt de propositions est réservé aux comptes citoyens.")
		if _, html := x.get("/idees"); strings.Contains(html, `<li><a href="/idees/nouvelle">`) {
			t.Errorf("%s: the header offers a form they cannot use", who)
		}
		resp, html = x.post("/idees/nouvelle", proposalForm(x.csrf("/idees"), e.campaign))
		wantPage(t, who+" post", resp, html, 403, "réservé aux comptes citoyens")
	}

	f := newFormClient(e)
	f.signIn("alix@example.fr", pw)
	resp, html = f.get("/idees/nouvelle")
	wantPage(t, "form page", resp, html, 200, `<form id="proposition" method="post" action="/idees/nouvelle"`,
		`<label for="titre">`, `<label for="texte">`, `<textarea id="texte" name="body"`, `<label for="theme">`,
		`<option value="sante-solidarite">Santé et solidarité</option>`, `<label for="cout">`, `inputmode="numeric"`,
		`<label for="latitude">`, `<label for="longitude">`, `<legend>Lieu (facultatif)</legend>`,
		`name="campaign_id" value="`+e.campaign+`"`, "par exemple 45 000")
	if strings.Contains(html, `aria-invalid="true"`) || strings.Contains(html, "style=") {
		t.Fatal("a fresh form marked invalid, or an inline style")
	}
	tok := f.csrf("/idees/nouvelle")

	// CSRF: missing, forged, altered → 403, the form again but empty, nothing stored.
	for _, bad := range []string{"", "forged", tok + "x"} {
		resp, html := f.post("/idees/nouvelle", proposalForm(bad, e.campaign, "title", "Titre venu d'ailleurs"))
		wantPage(t, "csrf "+bad, resp, html, 403, "Erreur : Le formulaire a expiré", `<form id="proposition"`)
		if strings.Contains(html, "Titre venu d") {
			t.Fatal("a refused cross-site post came back filled in")
		}
	}

	// Invalid and hostile input: 400, the French message, the field marked
	// and focused, what was typed kept (escaped), nothing stored.
	for _, c := range []struct {
		name, input, msg string
		edit             []string
	}{
		{"short title", "titre", "Le titre doit compter entre 3 et 200 caractères", []string{"title", "ab"}},
		{"long title", "titre", "Le titre doit compter", []string{"title", strings.Repeat("é", 201)}},
		{"empty text", "texte", "Décrivez votre proposition", []string{"body", "  "}},
		{"oversized text", "texte", "Décrivez votre proposition", []string{"body", strings.Repeat("x", 20001)}},
		{"control character", "texte", "sans caractère de contrôle", []string{"body", "a\x00b"}},
		{"unknown theme", "theme", "Choisissez un thème dans la liste.", []string{"theme_id", "inconnu"}},
		{"no theme", "theme", "Choisissez un thème", []string{"theme_id", ""}},
		{"negative cost", "cout", "Indiquez le coût estimé en euros", []string{"estimated_cost_eur", "-5"}},
		{"cents", "cout", "sans centimes", []string{"estimated_cost_eur", "12,50"}},
		{"no cost", "cout", "un nombre entier", []string{"estimated_cost_eur", ""}},
		{"huge cost", "cout", "Indiquez le coût", []string{"estimated_cost_eur", "99999999999999999999"}},
		{"latitude out of range", "latitude", "Indiquez la latitude (entre -90 et 90)", []string{"lat", "91", "lon", "7"}},
		{"longitude out of range", "latitude", "la longitude (entre -180 et 180)", []string{"lat", "43", "lon", "-181"}},
		{"latitude alone", "longitude", "remplissez", []string{"lat", "43.7"}},
		{"longitude alone", "latitude", "ou laissez les deux champs vides", []string{"lon", "7.25"}},
		{"not a number", "latitude", "Indiquez la latitude", []string{"lat", "abc", "lon", "7"}},
		{"NaN", "latitude", "Indiquez la latitude", []string{"lat", "NaN", "lon", "7"}},
		{"infinity", "longitude", "Indiquez la latitude", []string{"lat", "43", "lon", "Inf"}},
		{"unknown campaign", "", "Choisissez un appel à propositions ouvert.", []string{"campaign_id", "nope"}},
		{"script in title, bad cost", "cout", "Indiquez le coût", []string{"title", `<script>alert("t")</script>`, "body", `<img src=x onerror=alert(1)>`, "estimated_cost_eur", "abc"}},
	} {
		resp, html := f.post("/idees/nouvelle", proposalForm(tok, e.campaign, c.edit...))
		wantPage(t, c.name, resp, html, 400, "Erreur : ", c.msg, `role="alert"`)
		if c.input != "" && !strings.Contains(html, `id="`+c.input+`"`) {
			t.Fatalf("%s: no input %s", c.name, c.input)
		}
		if c.input != "" && strings.Count(html, `aria-invalid="true"`) != 1 {
			t.Errorf("%s: %d fields marked invalid, want 1", c.name, strings.Count(html, `aria-invalid="true"`))
		}
		if c.input != "" && !regexpInvalid(c.input).MatchString(html) {
			t.Errorf("%s: #%s not marked invalid and focused", c.name, c.input)
		}
		if strings.Contains(html, "<script>alert") || strings.Contains(html, "<img src=x") {
			t.Fatalf("%s: input not escaped", c.name)
		}
		if c.name == "short title" && !strings.Contains(html, "Des bancs sous les arbres du port.\nPour les personnes âgées.</textarea>") {
			t.Errorf("%s: text not kept", c.name)
		}
		if c.name == "script in title, bad cost" && !strings.Contains(html, `value="&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;"`) {
			t.Errorf("%s: title not kept escaped", c.name)
		}
	}
	// Larger than the body limit: 413, in French.
	resp, html = f.post("/idees/nouvelle", proposalForm(tok, e.campaign, "body", strings.Repeat("x", 70_000)))
	wantPage(t, "body limit", resp, html, 413, "Erreur : Le formulaire est trop volumineux.")
	if n := len(e.proposals()); n != 0 {
		t.Fatalf("%d proposals stored by refused posts", n)
	}

	// Success: French amounts and a decimal comma; the HTML in the title is
	// stored as typed and shown escaped.
	title := `<b>Bancs</b> ombragés & fontaines`
	resp, html = f.post("/idees/nouvelle", proposalForm(tok, e.campaign, "title", title, "estimated_cost_eur", "45 000 €", "lat", "43,70", "lon", "7.25"))
	ps := e.proposals()
	if resp.StatusCode != 303 || len(ps) != 1 || resp.Header.Get("Location") != "/idees/"+ps[0].ID {
		t.Fatalf("submit: %d %q, %d stored: %.300s", resp.StatusCode, resp.Header.Get("Location"), len(ps), html)
	}
	p := ps[0]
	if p.Status != civic.StatusSubmitted || p.AuthorID != alix.ID || p.Title != title || p.EstimatedCostEUR != 45000 ||
		p.CampaignID != e.campaign || p.ThemeID != "sante-solidarite" || p.Location == nil || p.Location.Lat != 43.70 || p.Location.Lon != 7.25 {
		t.Fatalf("stored %+v", p)
	}
	var hist []civic.StatusChange
	e.call("GET", "/api/v1/ideas/"+p.ID+"/history", e.admin, nil, 200, &hist)
	if len(hist) != 1 || hist[0].To != civic.StatusSubmitted || hist[0].By != alix.ID {
		t.Fatalf("history %+v", hist)
	}
	page := "/idees/" + p.ID
	resp, html = f.get(page)
	wantPage(t, "own submitted proposal", resp, html, 200, "Votre proposition est déposée : elle sera publiée après modération.",
		"&lt;b&gt;Bancs&lt;/b&gt; ombragés &amp; fontaines", "déposée", "attend la modération", "Le vote ouvrira quand",
		"Les commentaires ouvriront quand", "45\u202f000 €")
	if strings.Contains(html, "<b>Bancs") || strings.Contains(html, `id="commentaire"`) || strings.Contains(html, `id="soutien"`) {
		t.Fatal("title not escaped, or a comment or support form on a submitted proposal")
	}
	// Not public yet: others get 404 and the list does not show it.
	other := newFormClient(e)
	other.signIn("autre@example.fr", pw)
	if resp, _ := other.get(page); resp.StatusCode != 404 {
		t.Fatalf("another citizen sees a submitted proposal: %d", resp.StatusCode)
	}
	if _, html := anon.get("/idees"); strings.Contains(html, p.ID) {
		t.Fatal("a submitted proposal is listed")
	}
}

// TestFormComment: the comment form of a proposal page: approved comments
// listed with author and French date ("Anonyme" once the account is
// erased), CSRF, 401, validation and hostile text, comments on a proposal
// that is not public, moderation before publication.
func TestFormComment(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	const pw = "un mot de passe solide"
	_, author := e.user(civic.RoleCitizen)
	p := e.idea(author, 1000, true)
	page := "/idees/" + p.ID
	sam := e.account(civic.RoleCitizen, "sam@example.fr", pw)
	e.account(civic.RoleExpert, "expert@example.fr", pw)

	anon := newFormClient(e)
	resp, html := anon.get(page)
	wantPage(t, "anonymous page", resp, html, 200, `<h2 id="commentaires">Commentaires (0)</h2>`, "Aucun commentaire publié",
		`">Connectez-vous</a> pour commenter`, `/connexion?retour=%2fidees%2f`+p.ID)
	if strings.Contains(html, `id="commentaire"`) {
		t.Fatal("comment form for an anonymous visitor")
	}
	resp, html = anon.post(page+"/commentaires", url.Values{"body": {"Bonjour"}})
	wantPage(t, "anonymous post", resp, html, 401, "Erreur : Votre session a expiré", `<form id="connexion"`)

	f := newFormClient(e)
	f.signIn("sam@example.fr", pw)
	resp, html = f.get(page)
	wantPage(t, "signed-in page", resp, html, 200, `<form id="commentaire" method="post" action="/idees/`+p.ID+`/commentaires">`,
		`<label for="commentaire-texte">Votre commentaire</label>`, `aria-describedby="commentaire-aide"`)
	tok := f.csrf(page)

	for _, bad := range []string{"", "forged", tok + "x"} {
		resp, html := f.post(page+"/commentaires", url.Values{"csrf": {bad}, "body": {"Texte venu d'ailleurs"}})
		wantPage(t, "csrf "+bad, resp, html, 403, "Erreur : Le formulaire a expiré", "<h1>"+p.Title+"</h1>")
		if strings.Contains(html, "Texte venu d") {
			t.Fatal("a refused cross-site post came back filled in")
		}
	}
	for _, c := range []struct{ name, body string }{
		{"empty", "   "}, {"oversized", strings.Repeat("é", 5001)}, {"control character", "a\x07b"},
	} {
		resp, html := f.post(page+"/commentaires", url.Values{"csrf": {tok}, "body": {c.body}})
		wantPage(t, c.name, resp, html, 400, "Erreur : Écrivez votre commentaire : entre 1 et 5 000 caractères", `role="alert"`)
		if !regexpInvalid("commentaire-texte").MatchString(html) {
			t.Errorf("%s: textarea not marked invalid and focused", c.name)
		}
	}
	_, html = f.post(page+"/commentaires", url.Values{"csrf": {tok}, "body": {strings.Repeat("é", 5001)}})
	if !strings.Contains(html, ">"+strings.Repeat("é", 5001)+"</textarea>") {
		t.Error("refused comment not kept")
	}
	resp, html = f.post(page+"/commentaires", url.Values{"csrf": {tok}, "body": {strings.Repeat("x", 70_000)}})
	wantPage(t, "body limit", resp, html, 413, "Erreur : Le formulaire est trop volumineux.")
	if n := len(e.allComments(p.ID)); n != 0 {
		t.Fatalf("%d comments stored by refused posts", n)
	}

	// Not public: 409 for its author, as the JSON route; 404 for anyone
	// else, who may not learn it exists (the comment form of another
	// citizen: the page of an unknown proposal); unknown proposal 404.
	draft := e.idea(author, 10, false)
	resp, html = f.post("/idees/"+draft.ID+"/commentaires", url.Values{"csrf": {tok}, "body": {"Trop tôt"}})
	wantPage(t, "someone else's submitted proposal", resp, html, 404, "Erreur : Cette proposition n'existe pas")
	e.problem("POST", "/api/v1/ideas/"+draft.ID+"/comments", author, map[string]any{"body": "Trop tôt"}, 409)
	own := &civic.Proposal{CampaignID: e.campaign, ThemeID: "securite", Title: "Trop tôt pour commenter", Body: "Pas encore publiée.",
		AuthorID: e.account(civic.RoleCitizen, "auteur@example.fr", pw).ID}
	if err := e.st.CreateProposal(context.Background(), own); err != nil {
		t.Fatal(err)
	}
	af := newFormClient(e)
	af.signIn("auteur@example.fr", pw)
	resp, html = af.post("/idees/"+own.ID+"/commentaires", url.Values{"csrf": {af.csrf("/idees/" + own.ID)}, "body": {"Trop tôt"}})
	wantPage(t, "own submitted proposal", resp, html, 409, "Erreur : Les commentaires ne sont ouverts que sur les propositions publiées.")
	resp, html = f.post("/idees/nope/commentaires", url.Values{"csrf": {tok}, "body": {"Perdu"}})
	wantPage(t, "unknown proposal", resp, html, 404, "Erreur : Cette proposition n'existe pas")
	if n := len(e.allComments(draft.ID)); n != 0 {
		t.Fatalf("%d comments on a submitted proposal", n)
	}

	// Success: pending, not shown, a confirmation; the hostile text is kept as typed.
	hostile := `<script>alert("c")</script> Très bonne idée & utile`
	resp, _ = f.post(page+"/commentaires", url.Values{"csrf": {tok}, "body": {hostile}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != page {
		t.Fatalf("comment: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cs := e.allComments(p.ID)
	if len(cs) != 1 || cs[0].Status != civic.CommentPending || cs[0].AuthorID != sam.ID || cs[0].Body != hostile {
		t.Fatalf("stored %+v", cs)
	}
	// The author sees it, escaped and marked as waiting; nobody else does.
	resp, html = f.get(page)
	wantPage(t, "after comment", resp, html, 200, "Commentaire envoyé : il sera publié après modération.", "Commentaires (0)",
		"en attente de modération", "&lt;script&gt;alert(&#34;c&#34;)&lt;/script&gt; Très bonne idée &amp; utile")
	if strings.Contains(html, `<script>alert`) {
		t.Fatal("pending comment not escaped")
	}
	if _, html := anon.get(page); strings.Contains(html, "Très bonne idée") {
		t.Fatal("a pending comment is shown to someone else")
	}
	// Any signed-in role may comment, as on the JSON route.
	x := newFormClient(e)
	x.signIn("expert@example.fr", pw)
	if resp, _ := x.post(page+"/commentaires", url.Values{"csrf": {x.csrf(page)}, "body": {"Avis d'expert"}}); resp.StatusCode != 303 {
		t.Fatalf("expert comment: %d", resp.StatusCode)
	}

	// Approved: shown escaped, with the author's name and a French date.
	e.call("PUT", "/api/v1/comments/"+cs[0].ID+"/status", e.admin, map[string]any{"status": "approved"}, 200, nil)
	var gone civic.Comment
	e.call("POST", "/api/v1/ideas/"+p.ID+"/comments", author, map[string]any{"body": "Je retire mon compte."}, 201, &gone)
	e.call("PUT", "/api/v1/comments/"+gone.ID+"/status", e.admin, map[string]any{"status": "approved"}, 200, nil)
	e.call("DELETE", "/api/v1/me", author, nil, 204, nil)
	resp, html = anon.get(page)
	wantPage(t, "approved", resp, html, 200, "Commentaires (2)", "<strong>Dominique</strong>, le <time datetime=",
		"&lt;script&gt;alert(&#34;c&#34;)&lt;/script&gt; Très bonne idée &amp; utile", "<strong>Anonyme</strong>", "Je retire mon compte.")
	if strings.Contains(html, `<script>alert`) || strings.Contains(html, "Avis d'expert") {
		t.Fatal("comment not escaped, or a pending one shown")
	}
	if !frDateRe.MatchString(html) {
		t.Fatalf("no French date in %s", html)
	}
}
