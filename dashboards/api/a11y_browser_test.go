package api_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/assets/maptest"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/pages/legal"
	"github.com/cd06/smartdeal/internal/testenv/axe"
)

var update = flag.Bool("update", false, "TestBrowserAccessibility: rewrite accessibilite.json (what /accessibilite shows) from this run")

// a11yPage is one page the accessibility run opens: as whom, and how to get
// it into the state checked (a form shown again with its errors…).
type a11yPage struct {
	name, path, visitor string
	url                 string // path with the identifiers of this run
	as                  string // e-mail of the account signed in, "" for a visitor
	then                func(t *testing.T, ctx context.Context)
}

// TestBrowserAccessibility opens every kind of page the platform serves in
// headless Chromium with JavaScript on — the proposal list and page (with a
// chart, comments, a mission), sign-in and sign-up (blank and refused), the
// proposal form (blank and refused), the review desk and a review page as an
// expert and as the committee, the missions and a flown mission, the error
// page, the four legal pages, and the account pages: Mon compte (with
// proposals, supports, comments and the e-mail preferences saved), the
// deletion page (blank and refused) and its confirmation, the unsubscribe
// page of status e-mails (before and after), account security, the
// forgotten password, new password and verification pages — and has
// axe-core check the WCAG 2.0/2.1 A
// and AA rules on each. Any violation fails the test with the rule, its
// impact and the elements' selectors. The run's results must then be those
// of accessibilite.json, which /accessibilite shows: the statement cannot
// claim what the tests do not find. -update rewrites the file.
func TestBrowserAccessibility(t *testing.T) {
	e := newBrowserEnv(t)
	const password = "un mot de passe solide"
	camille := e.account(civic.RoleCitizen, "camille@example.fr", password)
	e.account(civic.RoleExpert, "experte@example.fr", password)
	e.account(civic.RoleAdmin, "comite@example.fr", password)
	e.account(civic.RoleCitizen, "partant@example.fr", password) // deletes the account

	// The proposal page shows an approved comment; the review page another
	// proposal, shortlisted, with an expert's review.
	_, author := e.user(civic.RoleCitizen)
	var cm civic.Comment
	e.call("POST", "/api/v1/ideas/"+e.p.ID+"/comments", author, map[string]any{"body": "Très utile pour les riverains du Var."}, 201, &cm)
	e.call("PUT", "/api/v1/comments/"+cm.ID+"/status", e.admin, map[string]any{"status": "approved"}, 200, nil)
	review := e.shortlisted(author, 30_000)
	_, expert := e.user(civic.RoleExpert)
	e.call("POST", "/api/v1/ideas/"+review.ID+"/reviews", expert, map[string]any{"impact": 4, "feasibility": 3, "cost": 2, "comment": "Faisable avec les services."}, 200, nil)

	// The device page shows its status history (online, offline).
	for i, st := range []string{"online", "offline"} {
		if err := e.st.SetDeviceStatus(context.Background(), "level-1", st, time.Now().Add(time.Duration(i-2)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	submitEmpty := func(form string) func(t *testing.T, ctx context.Context) {
		return func(t *testing.T, ctx context.Context) {
			// A refused post shows the form again with its errors. Fields
			// are required in HTML: the browser would not send it empty.
			if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("[required]").forEach(f => f.removeAttribute("required"))`)); err != nil {
				t.Fatal(err)
			}
			submit(t, ctx, form+` button[type=submit]`)
			if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("erreur"))); err != nil {
				t.Fatalf("%s: no error shown: %v", form, err)
			}
		}
	}
	// Camille's account page lists a proposal waiting for moderation, a
	// support and a pending comment, and her consent to status e-mails.
	camilleTok := e.signIn(camille.Email, password)
	e.call("POST", "/api/v1/ideas", camilleTok, map[string]any{"campaign_id": e.campaign, "theme_id": "securite",
		"title": "Éclairer le passage sous la voie ferrée", "body": "Des lampes à détection de présence."}, 201, nil)
	e.call("POST", "/api/v1/ideas/"+e.p.ID+"/vote", camilleTok, nil, 200, nil)
	e.call("POST", "/api/v1/ideas/"+e.p.ID+"/comments", camilleTok, map[string]any{"body": "Le niveau monte vite en automne."}, 201, nil)
	e.call("PUT", "/api/v1/me/notifications", camilleTok, map[string]bool{"own_proposals": false, "supported_proposals": true}, 200, nil)
	// A selected proposal with an update of its realization, the results of its campaign.
	selected := e.shortlisted(author, 20_000)
	for _, st := range []string{"under_review", "selected"} {
		e.call("POST", "/api/v1/ideas/"+selected.ID+"/status", e.admin, map[string]any{"status": st}, 200, nil)
	}
	e.call("POST", "/api/v1/ideas/"+selected.ID+"/realization", e.admin, map[string]any{"body": "Commande passée.", "milestone": "Commande", "progress": 10, "actual_cost_eur": 2000}, 201, nil)
	// The moderation queue holds a flagged comment (its history the publications).
	e.call("POST", "/api/v1/comments/"+cm.ID+"/flag", camilleTok, map[string]any{"reason_code": "off_topic", "note": "Sans rapport."}, 201, nil)
	unsubscribe, err := api.UnsubscribeToken(e.srv, context.Background(), camille.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Links as a mail carries them: a new account's verification, and a
	// password reset for Camille (opening them uses nothing).
	link := func(u *civic.User, purpose civic.TokenPurpose) string {
		tok := civic.NewID() + civic.NewID()
		now := time.Now().UTC()
		if err := e.st.CreateToken(context.Background(), &civic.AccountToken{TokenHash: sha(tok), UserID: u.ID, Purpose: purpose,
			Email: u.Email, Created: now, Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	newcomer := &civic.User{Email: "nouvelle@example.fr", Name: "Nora", Role: civic.RoleCitizen, PasswordHash: "-"}
	if err := e.st.CreateUser(context.Background(), newcomer); err != nil {
		t.Fatal(err)
	}
	verifyTok, resetTok := link(newcomer, civic.TokenVerify), link(camille, civic.TokenReset)
	wait := func(id string) func(t *testing.T, ctx context.Context) {
		return func(t *testing.T, ctx context.Context) {
			if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID(id))); err != nil {
				t.Fatalf("#%s not shown: %v", id, err)
			}
		}
	}
	savePrefs := func(t *testing.T, ctx context.Context) {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("suivi-mes-propositions"))); err != nil {
			t.Fatal(err)
		}
		submit(t, ctx, "#enregistrer-preferences")
		wait("confirmation")(t, ctx)
	}
	deleteWith := func(pw, then string) func(t *testing.T, ctx context.Context) {
		return func(t *testing.T, ctx context.Context) {
			typeInto(t, ctx, "mot-de-passe-suppression", pw)
			submit(t, ctx, "#supprimer-definitivement")
			wait(then)(t, ctx)
		}
	}
	unsubscribeNow := func(t *testing.T, ctx context.Context) {
		submit(t, ctx, "#desabonner")
		wait("confirmation")(t, ctx)
	}
	mapReady := func(t *testing.T, ctx context.Context) {
		if err := maptest.WaitReady(ctx, "#carte"); err != nil {
			t.Fatalf("the map is not drawn: %v", err)
		}
	}
	// Mission control (issue 13): a risk manager plans, an agent flies
	// vol-a11y, in flight.
	e.account(civic.RoleRiskManager, "risques@example.fr", password)
	pilot := e.account(civic.RoleAgent, "pilote@example.fr", password)
	flight := mission(pilot.ID, square(7.2, 43.65))
	flight["id"] = "vol-a11y"
	e.call("POST", "/api/v1/missions", e.admin, flight, 201, nil)
	e.call("POST", "/api/v1/missions/vol-a11y/status", e.admin, map[string]any{"status": "active"}, 200, nil)
	var agendaEvent civic.Event
	e.call("POST", "/api/v1/events", e.admin, map[string]any{"kind": "meeting", "title": "Réunion des acteurs de la Roya", "description": "Capteurs de crue.",
		"starts": time.Now().Add(24 * time.Hour), "ends": time.Now().Add(26 * time.Hour), "place": "Breil-sur-Roya", "location": map[string]float64{"lat": 43.93, "lon": 7.51},
		"capacity": 30}, 201, &agendaEvent)
	// The risk managers' pages show an open alert and its rule.
	alertID, ruleID := e.firedAlert(t)
	refuseRule := func(t *testing.T, ctx context.Context) {
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("seuil-orange"), "beaucoup")); err != nil {
			t.Fatal(err)
		}
		submit(t, ctx, "#enregistrer-regle")
		wait("seuil-orange-erreur")(t, ctx)
	}
	tryRule := func(t *testing.T, ctx context.Context) {
		submit(t, ctx, "#essayer-regle")
		wait("essai-resume")(t, ctx)
	}
	visits := []a11yPage{
		{name: "Liste des propositions", path: "/idees", visitor: "visiteur"},
		{name: "Proposition, avec mesures, mission et commentaires", path: "/idees/{id}", url: "/idees/" + e.p.ID, visitor: "visiteur"},
		{name: "Proposition, formulaires de soutien et de commentaire", path: "/idees/{id}", url: "/idees/" + e.p.ID, visitor: "citoyen·ne", as: "camille@example.fr"},
		{name: "Connexion", path: "/connexion", visitor: "visiteur"},
		{name: "Inscription", path: "/inscription", visitor: "visiteur"},
		{name: "Inscription refusée (erreurs du formulaire)", path: "/inscription", visitor: "visiteur", then: submitEmpty("#inscription")},
		{name: "Dépôt d'une proposition", path: "/idees/nouvelle", visitor: "citoyen·ne", as: "camille@example.fr"},
		{name: "Dépôt d'une proposition refusé (erreurs du formulaire)", path: "/idees/nouvelle", visitor: "citoyen·ne", as: "camille@example.fr", then: submitEmpty("#proposition")},
		{name: "Bureau d'expertise", path: "/expertise", visitor: "expert·e", as: "experte@example.fr"},
		{name: "Expertise d'une proposition, formulaire de notation", path: "/expertise/{id}", url: "/expertise/" + review.ID, visitor: "expert·e", as: "experte@example.fr"},
		{name: "Expertise d'une proposition, formulaire de décision", path: "/expertise/{id}", url: "/expertise/" + review.ID, visitor: "administrateur·rice", as: "comite@example.fr"},
		{name: "Missions", path: "/missions", visitor: "visiteur"},
		{name: "Mission réalisée, avec son trajet", path: "/missions/{id}", url: "/missions/crue-var-page", visitor: "visiteur"},
		{name: "Carte des propositions, capteurs et missions, avec sa liste", path: "/carte", url: "/carte#v=43.93000,7.15000,9", visitor: "visiteur", then: mapReady},
		{name: "Planification d'une mission (carte de dessin de la zone)", path: "/missions/nouvelle", visitor: "gestionnaire des risques", as: "risques@example.fr"},
		{name: "Planification d'une mission refusée (erreurs du formulaire)", path: "/missions/nouvelle", visitor: "gestionnaire des risques", as: "risques@example.fr", then: submitEmpty("#plan")},
		{name: "Mission en vol : suivi en direct, carte, conduite", path: "/missions/{id}", url: "/missions/vol-a11y", visitor: "agent de terrain", as: "pilote@example.fr"},
		{name: "Confirmation d'une étape de mission", path: "/missions/{id}/etape?action={étape}", url: "/missions/vol-a11y/etape?action=terminer", visitor: "agent de terrain", as: "pilote@example.fr"},
		{name: "Dépôt du journal de vol", path: "/missions/{id}/journal", url: "/missions/vol-a11y/journal", visitor: "agent de terrain", as: "pilote@example.fr"},
		{name: "Page d'erreur (page introuvable)", path: "/idees/{id inconnu}", url: "/idees/inconnue", visitor: "visiteur"},
		{name: "Mentions légales", path: "/mentions-legales", visitor: "visiteur"},
		{name: "Politique de confidentialité", path: "/confidentialite", visitor: "visiteur"},
		{name: "Conditions d'utilisation", path: "/conditions-utilisation", visitor: "visiteur"},
		{name: "Déclaration d'accessibilité", path: "/accessibilite", visitor: "visiteur"},
		{name: "Mon compte : propositions, soutiens, commentaires et e-mails de suivi", path: "/compte", visitor: "citoyen·ne", as: "camille@example.fr"},
		{name: "Mon compte, préférences d'e-mail enregistrées (message de confirmation)", path: "/compte", visitor: "citoyen·ne", as: "camille@example.fr", then: savePrefs},
		{name: "Sécurité du compte : adresse, mot de passe, sessions", path: "/compte/securite", visitor: "citoyen·ne", as: "camille@example.fr"},
		{name: "Suppression du compte", path: "/compte/suppression", visitor: "citoyen·ne", as: "camille@example.fr"},
		{name: "Suppression du compte refusée (mot de passe incorrect)", path: "/compte/suppression", visitor: "citoyen·ne", as: "camille@example.fr",
			then: deleteWith("pas le bon mot de passe", "erreur")},
		{name: "Compte supprimé (confirmation)", path: "/compte/supprime", url: "/compte/suppression", visitor: "citoyen·ne", as: "partant@example.fr",
			then: deleteWith(password, "confirmation")},
		{name: "Désabonnement des e-mails de suivi", path: "/desabonnement/{jeton}", url: "/desabonnement/" + unsubscribe, visitor: "visiteur"},
		{name: "Désabonnement fait (message de confirmation)", path: "/desabonnement/{jeton}", url: "/desabonnement/" + unsubscribe, visitor: "visiteur", then: unsubscribeNow},
		{name: "Mot de passe oublié", path: "/mot-de-passe-oublie", visitor: "visiteur"},
		{name: "Nouveau mot de passe (lien reçu par e-mail)", path: "/mot-de-passe/nouveau?jeton={jeton}", url: "/mot-de-passe/nouveau?jeton=" + resetTok, visitor: "visiteur"},
		{name: "Confirmation de l'adresse e-mail (lien reçu par e-mail)", path: "/verification?jeton={jeton}", url: "/verification?jeton=" + verifyTok, visitor: "visiteur"},
		{name: "Agenda des réunions et événements", path: "/agenda", visitor: "visiteur"},
		{name: "Événement, formulaire d'inscription", path: "/agenda/{id}", url: "/agenda/" + agendaEvent.ID, visitor: "citoyen·ne", as: "camille@example.fr"},
		{name: "Agenda, formulaire de création d'événement", path: "/agenda", visitor: "administrateur·rice", as: "comite@example.fr"},
		{name: "Événement, formulaire de compte rendu", path: "/agenda/{id}", url: "/agenda/" + agendaEvent.ID, visitor: "administrateur·rice", as: "comite@example.fr"},
		{name: "Registre des capteurs : sites, appareils et formulaires", path: "/admin/registre", visitor: "administrateur·rice", as: "comite@example.fr"},
		{name: "Registre : un site", path: "/admin/registre/sites/{id}", url: "/admin/registre/sites/var-estuaire", visitor: "administrateur·rice", as: "comite@example.fr"},
		{name: "Registre : un appareil", path: "/admin/registre/appareils/{id}", url: "/admin/registre/appareils/level-1", visitor: "administrateur·rice", as: "comite@example.fr"},
		{name: "Registre : identifiants MQTT générés (affichés une fois)", path: "/admin/registre/appareils/{id}", url: "/admin/registre/appareils/drone-1", visitor: "administrateur·rice", as: "comite@example.fr",
			then: func(t *testing.T, ctx context.Context) {
				submit(t, ctx, "#form-identifiants button")
				wait("identifiants")(t, ctx)
			}},
		{name: "Signalement d'un commentaire", path: "/idees/{id}/signalement?commentaire={id}", url: "/idees/" + e.p.ID + "/signalement?commentaire=" + cm.ID, visitor: "citoyen·ne", as: "camille@example.fr"},
		{name: "Signalement refusé (erreurs du formulaire)", path: "/idees/{id}/signalement", url: "/idees/" + e.p.ID + "/signalement", visitor: "citoyen·ne", as: "camille@example.fr", then: submitEmpty("#signalement")},
		{name: "Modération : file et historique des décisions", path: "/admin/moderation", visitor: "administrateur·rice", as: "comite@example.fr"},
		{name: "Administration", path: "/admin", visitor: "administrateur·rice", as: "comite@example.fr"},
		{name: "Personnes : recherche", path: "/admin/personnes?q={texte}", url: "/admin/personnes?q=example", visitor: "administrateur·rice", as: "comite@example.fr"},
		{name: "Personnes : un compte, son rôle et son blocage", path: "/admin/personnes/{id}", url: "/admin/personnes/" + camille.ID, visitor: "administrateur·rice", as: "comite@example.fr"},
		{name: "Journal d'audit", path: "/admin/journal", visitor: "administrateur·rice", as: "comite@example.fr"},
		{name: "Appels et thèmes", path: "/admin/appels", visitor: "administrateur·rice", as: "comite@example.fr"},
		{name: "Proposition retenue : réalisation et formulaire d'étape", path: "/idees/{id}", url: "/idees/" + selected.ID, visitor: "administrateur·rice", as: "comite@example.fr"},
		{name: "Résultats d'un appel", path: "/appels/{id}/resultats", url: "/appels/" + e.campaign + "/resultats", visitor: "visiteur"},
		{name: "Propositions filtrées (aucun résultat)", path: "/idees?q={texte}", url: "/idees?q=introuvable", visitor: "visiteur"},
		{name: "Tableau de bord des risques, avec une alerte en cours", path: "/tableau-de-bord", visitor: "gestionnaire des risques", as: "risques@example.fr"},
		{name: "Alertes en cours et récentes", path: "/alertes", visitor: "gestionnaire des risques", as: "risques@example.fr"},
		{name: "Une alerte, son historique et le formulaire de prise en compte", path: "/alertes/{id}", url: "/alertes/" + alertID, visitor: "gestionnaire des risques", as: "risques@example.fr"},
		{name: "Règles d'alerte", path: "/alertes/regles", visitor: "gestionnaire des risques", as: "risques@example.fr"},
		{name: "Nouvelle règle d'alerte", path: "/alertes/regles/nouvelle", visitor: "gestionnaire des risques", as: "risques@example.fr"},
		{name: "Règle d'alerte refusée (erreur à côté du champ)", path: "/alertes/regles/{id}", url: "/alertes/regles/" + ruleID, visitor: "gestionnaire des risques", as: "risques@example.fr", then: refuseRule},
		{name: "Règle d'alerte essayée sur les 7 derniers jours", path: "/alertes/regles/{id}", url: "/alertes/regles/" + ruleID, visitor: "gestionnaire des risques", as: "risques@example.fr", then: tryRule},
		{name: "Site : mesures, appareils, alertes et indice ATMO", path: "/sites/{id}", url: "/sites/var-estuaire", visitor: "gestionnaire des risques", as: "risques@example.fr"},
		{name: "Appareil d'un site, ses mesures sur 7 jours", path: "/sites/{id}/appareils/{appareil}", url: "/sites/var-estuaire/appareils/level-1?periode=semaine", visitor: "gestionnaire des risques", as: "risques@example.fr"},
		{name: "Carte avec les alertes actives", path: "/carte", url: "/carte#v=43.66000,7.20000,12", visitor: "gestionnaire des risques", as: "risques@example.fr", then: mapReady},
	}

	ctx := browser(t)
	got := legal.AccessibilityChecks{AxeVersion: axe.Version(), Tags: axe.WCAG21AA}
	signedIn := ""
	for _, p := range visits {
		if p.as != signedIn {
			a11ySignIn(t, ctx, e.base, p.as, password)
			signedIn = p.as
		}
		u := p.url
		if u == "" {
			u = p.path
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(e.base+u), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if loc := location(t, ctx); loc != e.base+u {
			t.Fatalf("%s: at %s, want %s (signed in as %q)", p.name, loc, e.base+u, p.as)
		}
		if p.then != nil {
			p.then(t, ctx)
		}
		// Nothing makes the whole page scroll sideways at 1024 px: a wide
		// table scrolls in its own region.
		if w := eval[string](t, ctx, `document.documentElement.scrollWidth + " > " + document.documentElement.clientWidth`); a11yWider(w) {
			t.Errorf("%s: the page is wider than the window (%s px)", p.name, w)
		}
		keepScreenshot(t, ctx, fmt.Sprintf("accessibilite-%02d", len(got.Pages)+1))
		r, err := axe.Run(ctx, axe.WCAG21AA)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if len(r.Violations) > 0 {
			t.Errorf("%s (%s, %s): %d accessibility violations:\n%s", p.name, u, p.visitor, len(r.Violations), axe.Report(r))
		}
		if r.TestEngine.Version != got.AxeVersion {
			t.Fatalf("axe-core %s ran, %s is pinned", r.TestEngine.Version, got.AxeVersion)
		}
		if len(r.Incomplete) > 0 {
			t.Logf("%s: to check by hand:\n%s", p.name, axe.Describe(r.Incomplete))
		}
		incomplete := axe.IDs(r.Incomplete)
		if incomplete == nil {
			incomplete = []string{}
		}
		got.Pages = append(got.Pages, legal.CheckedPage{Name: p.name, Path: p.path, Visitor: p.visitor,
			Violations: len(r.Violations), Passes: len(r.Passes), Incomplete: incomplete})
	}
	if got.Rules, err = axe.Rules(ctx, axe.WCAG21AA); err != nil {
		t.Fatal(err)
	}
	v, err := chromedp.Call(ctx, cdpbrowser.GetVersion, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	_, ver, _ := strings.Cut(v.Product, "/") // HeadlessChrome/143.0.7499.169
	got.Browser = "Chromium " + ver
	got.Date = time.Now().In(paris(t)).Format(time.DateOnly)

	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../pages/legal/accessibilite.json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("pages/legal/accessibilite.json rewritten: %d pages, %d rules, %d violations", len(got.Pages), len(got.Rules), got.Violations())
		return
	}
	committed, err := legal.Accessibility()
	if err != nil {
		t.Fatal(err)
	}
	if diff := a11yDiff(committed, &got); diff != "" {
		t.Errorf("pages/legal/accessibilite.json, which /accessibilite shows, is stale:\n%s\nrewrite it: go test ./dashboards/api -run TestBrowserAccessibility -update", diff)
	}
}

// a11ySignIn signs the browser in as email with a cookie session, as the
// sign-in form's script does (email "" signs out).
func a11ySignIn(t *testing.T, ctx context.Context, base, email, password string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if email == "" {
		return
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/connexion")); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"email": email, "password": password, "cookie": true})
	st := eval[int](t, ctx, fmt.Sprintf(`fetch("/api/v1/auth/signin", {method: "POST", headers: {"Content-Type": "application/json"}, body: %q}).then(r => r.status)`, body), chromedp.EvalAwaitPromise)
	if st != 200 {
		t.Fatalf("sign-in of %s: %d", email, st)
	}
}

// a11yDiff says how two results differ, but for the date and the browser,
// which a run on another day or machine may change without the pages having.
func a11yDiff(want, got *legal.AccessibilityChecks) string {
	var b strings.Builder
	if want.AxeVersion != got.AxeVersion {
		fmt.Fprintf(&b, "  axe_version: file %s, run %s\n", want.AxeVersion, got.AxeVersion)
	}
	if !slices.Equal(want.Tags, got.Tags) {
		fmt.Fprintf(&b, "  tags: file %v, run %v\n", want.Tags, got.Tags)
	}
	if !slices.Equal(want.Rules, got.Rules) {
		fmt.Fprintf(&b, "  rules: file has %d, run %d (added %v, removed %v)\n", len(want.Rules), len(got.Rules),
			missingFrom(want.Rules, got.Rules), missingFrom(got.Rules, want.Rules))
	}
	for i := range max(len(want.Pages), len(got.Pages)) {
		var w, g legal.CheckedPage
		if i < len(want.Pages) {
			w = want.Pages[i]
		}
		if i < len(got.Pages) {
			g = got.Pages[i]
		}
		wj, _ := json.Marshal(w)
		gj, _ := json.Marshal(g)
		if string(wj) != string(gj) {
			fmt.Fprintf(&b, "  page %d:\n    file %s\n    run  %s\n", i+1, wj, gj)
		}
	}
	return b.String()
}

// a11yWider reads "scrollWidth > clientWidth" and says whether it holds.
func a11yWider(s string) bool {
	var sw, cw int
	if _, err := fmt.Sscanf(s, "%d > %d", &sw, &cw); err != nil {
		return true
	}
	return sw > cw
}

// missingFrom lists the elements of b that are not in a.
func missingFrom(a, b []string) []string {
	var out []string
	for _, s := range b {
		if !slices.Contains(a, s) {
			out = append(out, s)
		}
	}
	return out
}

func paris(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
