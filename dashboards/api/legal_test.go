package api_test

import (
	"context"
	"fmt"
	stdhtml "html"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/pages/legal"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

var legalPaths = []string{"/mentions-legales", "/confidentialite", "/conditions-utilisation", "/accessibilite"}

// footerLinks are what every page's footer links to.
var footerLinks = []string{`<a href="/mentions-legales">Mentions légales</a>`, `<a href="/confidentialite">Données personnelles</a>`,
	`<a href="/conditions-utilisation">Conditions d'utilisation</a>`, `<a href="/accessibilite">Accessibilité : `}

// TestLegalPages: the four legal pages with the default configuration (the
// Département des Alpes-Maritimes as publisher, marked placeholders for
// what depends on the deployment) and with a full one; the retention
// periods follow the configuration; the accessibility statement shows the
// committed results of TestBrowserAccessibility and the conformity that
// the RGAA audit setting gives.
func TestLegalPages(t *testing.T) {
	checks, err := legal.Accessibility()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("defaults", func(t *testing.T) {
		e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
		f := newFormClient(e)
		pages := map[string][]string{
			"/mentions-legales": {"<h1>Mentions légales</h1>", "Département des Alpes-Maritimes", "147 boulevard du Mercantour, BP 3007, 06201 Nice Cedex 3",
				"04 97 18 60 00", "Le président du Conseil départemental des Alpes-Maritimes",
				`<span class="a-completer">[à compléter : legal.host_name]</span>`, "[à compléter : legal.host_address]",
				"[à compléter : legal.host_phone]", "[à compléter : legal.contact_email]", "[à compléter : legal.dpo_email]",
				"Licence Ouverte / Open Licence 2.0 (Etalab)", `href="/confidentialite"`, `href="/accessibilite"`},
			"/confidentialite": {"<h1>Politique de confidentialité</h1>", "Comptes et connexion", "Propositions, commentaires et soutiens",
				"Expertise des propositions", "Journal d'audit et limitation des abus", "Mesures des capteurs, télémesures et journaux de vol des drones",
				"<h3 id=\"t-courriels\">Courriels</h3>", "lien de désinscription", "article 6.1.e du RGPD", "article 6.1.a du RGPD", "articles 6.1.c et 32 du RGPD",
				"Une session est valable 7 jours", "une fenêtre de 1\u00a0min", "sans limite de durée", "aucune donnée personnelle",
				"le fichier lui-même n'est pas conservé", "adresse IP", "<code>sd_session</code>", "<code>sd_flash</code>",
				`<a href="/api/v1/me/export">`, "DELETE /api/v1/me", "« Compte supprimé »", "reste compté", "dernier administrateur", "Rectification, opposition, limitation", "d'un mois",
				"[à compléter : legal.dpo_email]", "Délégué à la protection des données, Département des Alpes-Maritimes",
				`href="https://www.cnil.fr/fr/plaintes"`, "3 place de Fontenoy, TSA 80715, 75334 Paris Cedex 07"},
			"/conditions-utilisation": {"<h1>Conditions d'utilisation</h1>", "Un compte par personne", "Un soutien par proposition",
				"Des contributions respectueuses", "<strong>abusive</strong>", "<strong>hors sujet</strong>", "<strong>doublon</strong>", "<strong>autre motif</strong>", "en voit le motif",
				"sous Licence Ouverte / Open Licence 2.0 (Etalab)", `href="/opendata/proposals.csv"`, "n'est pas un dispositif d'alerte",
				"tribunal administratif de Nice", "[à compléter : legal.contact_email]"},
			"/accessibilite": {"<h1>Déclaration d'accessibilité</h1>", "article 47 de la loi n° 2005-102 du 11 février 2005",
				"est <strong>non conforme</strong> avec le référentiel général d'amélioration de l'accessibilité (RGAA), version 4.1, faute d'audit",
				"Aucun audit de conformité au RGAA n'a encore été réalisé.", "axe-core " + checks.AxeVersion,
				fmt.Sprintf("les %d règles", len(checks.Rules)), fmt.Sprintf("sur %d pages", len(checks.Pages)), "aucune non-conformité détectée",
				checks.Browser + ", sans interface", "[à compléter : legal.accessibility_plan_url]", "[à compléter : legal.contact_email]",
				"Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07", `href="https://formulaire.defenseurdesdroits.fr/"`,
				"Dérogations pour charge disproportionnée", "Contenus non soumis à l'obligation d'accessibilité"},
		}
		for path, wants := range pages {
			resp, html := f.get(path)
			wantPage(t, path, resp, html, 200, wants...)
			if strings.Count(html, "<script") != 1 {
				t.Errorf("%s: %d scripts, want only the layout's", path, strings.Count(html, "<script"))
			}
		}
		// Every run's page, its counts and what is left to check by hand.
		_, html := f.get("/accessibilite")
		text := stdhtml.UnescapeString(html)
		for _, p := range checks.Pages {
			row := fmt.Sprintf(`<tr><th scope="row">%s</th><td><code>%s</code></td><td>%s</td><td class="n">%d</td><td class="n">%d</td>`,
				p.Name, p.Path, p.Visitor, p.Violations, p.Passes)
			if !strings.Contains(text, row) {
				t.Errorf("/accessibilite lacks the row %s", row)
			}
		}
		for _, r := range checks.Rules {
			if !strings.Contains(html, "<li><code>"+r+"</code></li>") {
				t.Errorf("/accessibilite does not list rule %s", r)
			}
		}
		if got := (api.Legal{}).Placeholders(); !slices.Equal(got, []string{"legal.contact_email", "legal.host_name", "legal.host_address",
			"legal.host_phone", "legal.dpo_email", "legal.accessibility_plan_url"}) {
			t.Errorf("placeholders %v", got)
		}
	})

	t.Run("configured", func(t *testing.T) {
		legal := api.Legal{HostName: "Hébergeur Exemple SAS", HostAddress: "1 rue de l'Exemple, 06000 Nice", HostPhone: "04 00 00 00 00",
			ContactEmail: "smartdeal@example.fr", DPOEmail: "dpo@example.fr", AccessibilityPlanURL: "https://example.fr/schema-accessibilite",
			Director: "Mme la présidente du Conseil départemental"}
		if got := legal.Placeholders(); len(got) != 0 {
			t.Fatalf("placeholders %v with everything set", got)
		}
		e := newEnv(t, sqltest.SQLite(t), nil, api.Config{Legal: legal, SessionTTL: 48 * time.Hour, RateWindow: 2 * time.Minute, Licence: "ODbL 1.0"})
		f := newFormClient(e)
		wants := map[string][]string{
			"/mentions-legales":       {"Hébergeur Exemple SAS", "1 rue de l'Exemple, 06000 Nice", "04 00 00 00 00", "Mme la présidente du Conseil départemental.", `<a href="mailto:smartdeal@example.fr">`, "sous ODbL 1.0"},
			"/confidentialite":        {"Une session est valable 2 jours", "expire au bout de 2 jours", "une fenêtre de 2\u00a0min", `<a href="mailto:dpo@example.fr">dpo@example.fr</a>`},
			"/conditions-utilisation": {"sous ODbL 1.0", `<a href="mailto:smartdeal@example.fr">`},
			"/accessibilite":          {`<a href="https://example.fr/schema-accessibilite">`, `<a href="mailto:smartdeal@example.fr">`},
		}
		for _, path := range legalPaths {
			resp, html := f.get(path)
			wantPage(t, path, resp, html, 200, wants[path]...)
			if strings.Contains(html, "à compléter") {
				t.Errorf("%s still shows a placeholder", path)
			}
		}
	})

	// The état de conformité follows the RGAA audit (legal.rgaa_*), on the
	// statement and in every page's footer.
	for _, c := range []struct {
		rate      float64
		state     string
		wantRates string
	}{{100, "totalement conforme", "100\u00a0%"}, {75.5, "partiellement conforme", "75,5\u00a0%"}, {40, "non conforme", "40\u00a0%"}} {
		t.Run(c.state, func(t *testing.T) {
			e := newEnv(t, sqltest.SQLite(t), nil, api.Config{Legal: api.Legal{RGAAAuditRate: c.rate, RGAAAuditDate: "2027-03-01", RGAAAuditor: "Cabinet Exemple"}})
			f := newFormClient(e)
			resp, html := f.get("/accessibilite")
			wantPage(t, "statement", resp, html, 200, "est <strong>"+c.state+"</strong> avec le référentiel général d'amélioration de l'accessibilité (RGAA), version 4.1.",
				"L'audit de conformité réalisé le 1er\u00a0mars 2027 par Cabinet Exemple révèle que "+c.wantRates+" des critères du RGAA 4.1 sont respectés.")
			resp, html = f.get("/idees")
			wantPage(t, "list", resp, html, 200, `<a href="/accessibilite">Accessibilité : `+c.state+`</a>`)
		})
	}
}

// TestLegalConfig: bad legal.* values are refused with the key named.
func TestLegalConfig(t *testing.T) {
	for _, c := range []struct {
		legal api.Legal
		want  string
	}{
		{api.Legal{DPOEmail: "dpo"}, "legal.dpo_email"},
		{api.Legal{ContactEmail: "Contact <contact@example.fr>"}, "legal.contact_email"},
		{api.Legal{AccessibilityPlanURL: "javascript:alert(1)"}, "legal.accessibility_plan_url"},
		{api.Legal{RGAAAuditRate: 120, RGAAAuditDate: "2027-01-01", RGAAAuditor: "x"}, "legal.rgaa_audit_rate"},
		{api.Legal{RGAAAuditRate: 80, RGAAAuditor: "x"}, "legal.rgaa_audit_date"},
		{api.Legal{RGAAAuditRate: 80, RGAAAuditDate: "2027-01-01"}, "legal.rgaa_auditor"},
	} {
		cfg := api.Config{Legal: c.legal}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", c.legal, err, c.want)
		}
	}
	cfg := api.Config{Legal: api.Legal{Publisher: "Département du Var"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Legal.Publisher != "Département du Var" || cfg.Legal.Address != api.DefaultLegal().Address {
		t.Errorf("defaults not filled around a set value: %+v", cfg.Legal)
	}
}

// TestFooterOnEveryPage: every HTML page of the route table — as a visitor,
// or signed in as an administrator (who may see them all) for those that
// send visitors to the sign-in page — and the error page carry the footer's
// links to the four legal pages.
func TestFooterOnEveryPage(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	agentID, _ := e.field()
	someone, citizen := e.user(civic.RoleCitizen)
	published := e.idea(citizen, 1000, true)
	unsubscribe, err := api.UnsubscribeToken(e.srv, context.Background(), someone.ID)
	if err != nil {
		t.Fatal(err)
	}
	shortlisted := e.shortlisted(citizen, 2000)
	m := mission(agentID, square(7.2, 43.65))
	m["id"] = "pied-de-page"
	e.call("POST", "/api/v1/missions", e.admin, m, 201, nil)
	const password = "un mot de passe solide"
	e.account(civic.RoleAdmin, "pied@example.fr", password)
	visitor, f := newFormClient(e), newFormClient(e)
	if resp, html := f.post("/connexion", url.Values{"email": {"pied@example.fr"}, "password": {password}}); resp.StatusCode != 303 {
		t.Fatalf("sign-in: %d %.300s", resp.StatusCode, html)
	}
	// The identifiers of each page route with one (add a line for a new one).
	ids := map[string]string{"/idees/:id": published.ID, "/missions/:id": "pied-de-page", "/expertise/:id": shortlisted.ID,
		"/desabonnement/:token": unsubscribe}
	ids["/missions/:id/etape"], ids["/missions/:id/journal"] = "pied-de-page/etape?action=demarrer", "pied-de-page/journal" // mission control
	ids["/admin/registre/sites/:id"], ids["/admin/registre/appareils/:id"] = "var-estuaire", "level-1"
	var agendaEvent civic.Event
	e.call("POST", "/api/v1/events", e.admin, map[string]any{"kind": "public", "title": "Forum du pied de page", "starts": time.Now().Add(time.Hour),
		"ends": time.Now().Add(2 * time.Hour), "place": "Nice", "capacity": 10}, 201, &agendaEvent)
	ids["/agenda/:id"] = agendaEvent.ID
	ids["/idees/:id/signalement"] = published.ID + "/signalement"
	ids["/admin/personnes/:id"] = someone.ID
	ids["/appels/:id/resultats"] = e.campaign + "/resultats"
	ids["/alertes/:id"], ids["/alertes/regles/:id"] = e.firedAlert(t)
	ids["/sites/:id"], ids["/sites/:id/appareils/:device"] = "var-estuaire", "var-estuaire/appareils/level-1"
	// The confirmation of a deletion is shown right after it, with its flash.
	deleted := newFormClient(e)
	deleted.cookies["sd_flash"] = "compte-supprime"
	n := 0
	for _, rt := range e.srv.Routes() {
		if rt.Method != "GET" || rt.Produces != "text/html" {
			continue
		}
		path := rt.Path
		if strings.Contains(path, ":") {
			id, ok := ids[path]
			if !ok {
				t.Errorf("no identifier to open the page %s: add it to ids", path)
				continue
			}
			path = path[:strings.Index(path, ":")] + id
		}
		resp, html := visitor.get(path)
		if path == "/compte/supprime" {
			resp, html = deleted.get(path)
		}
		if resp.StatusCode == 303 {
			resp, html = f.get(path)
		}
		want := 200
		if path == "/verification" || path == "/mot-de-passe/nouveau" {
			want = 400 // opened without a link: the page says the link is not valid
		}
		wantPage(t, path, resp, html, want, footerLinks...)
		if !strings.Contains(html, `<footer>`) || strings.Index(html, footerLinks[0]) < strings.Index(html, "<footer>") {
			t.Errorf("%s: the legal links are not in the footer", path)
		}
		n++
	}
	if n < 13 {
		t.Fatalf("only %d HTML pages in the route table", n)
	}
	resp, html := f.get("/idees/inconnue")
	wantPage(t, "error page", resp, html, 404, footerLinks...)
}
