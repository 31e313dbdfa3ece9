package api_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/mail"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// smtpAlerts adapts mail.Sender to alerting.Mailer, as the alert process's
// wiring does (cmd/internal/alertsd).
type smtpAlerts struct{ s mail.Sender }

func (m smtpAlerts) SendMail(ctx context.Context, msg alerting.Mail) error {
	return m.s.Send(ctx, mail.Message{To: msg.To, Subject: msg.Subject, Text: msg.Text})
}

// TestAlertSubscriptionPages, on SQLite and PostgreSQL, without
// JavaScript: a risk manager subscribes to a rule from its row on
// /alertes/regles, a second one to the site from /sites/{id} and then
// unsubscribes from the list on /alertes/regles, a third never subscribes;
// hostile and refused posts change nothing. An alert fires: its mail
// reaches mailpit (real SMTP) for the first one only.
func TestAlertSubscriptionPages(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			smtp, err := mail.NewSMTP(mail.Config{Host: mp.SMTPHost, Port: mp.SMTPPort, TLS: mail.TLSNone, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			svc, err := alerting.New(alerting.Config{}, alerting.Deps{Store: b.Store, Mailer: smtpAlerts{smtp}})
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, b, nil, api.Config{}, func(d *api.Deps) { d.Alerts = svc })
			e.field()
			const pw = "un mot de passe solide"
			emails := []string{address("abonne-regle"), address("abonne-site"), address("non-abonne")}
			var users []*civic.User
			var clients []*formClient
			for _, em := range emails {
				users = append(users, e.account(civic.RoleRiskManager, em, pw))
				f := newFormClient(e)
				signInForm(t, f, em, pw, "/tableau-de-bord")
				clients = append(clients, f)
			}
			e.account(civic.RoleCitizen, emails[0]+".cit", pw)
			cit := newFormClient(e)
			signInForm(t, cit, emails[0]+".cit", pw, "/idees")

			r := &alerting.Rule{Name: "Crue du Var <b>", Enabled: true, Site: "var-estuaire", Quantity: "water_level", Kind: alerting.Above,
				Levels: []alerting.Level{{Severity: alerting.Orange, Threshold: 2.5}}}
			if err := svc.CreateRule(ctx, users[0].ID, r); err != nil {
				t.Fatal(err)
			}

			// 0. From the rule's own page: subscribed, then unsubscribed, back there.
			resp, html := clients[0].get("/alertes/regles/" + r.ID)
			wantPage(t, "rule page", resp, html, 200, `id="abonnement-regle"`, "Recevoir par e-mail les alertes de cette règle")
			c0 := csrfInput.FindStringSubmatch(html)[1]
			back := "/alertes/regles/" + r.ID
			for _, p := range []string{"/alertes/abonnements", "/alertes/abonnements/suppression"} {
				resp, _ = clients[0].post(p, url.Values{"csrf": {c0}, "rule_id": {r.ID}, "retour": {back}})
				if resp.StatusCode != 303 || resp.Header.Get("Location") != back {
					t.Fatalf("%s from the rule page: %d %s", p, resp.StatusCode, resp.Header.Get("Location"))
				}
				if p == "/alertes/abonnements" {
					resp, html = clients[0].get(back)
					wantPage(t, "rule page subscribed", resp, html, 200, "Abonnement enregistré", "Vous recevez par e-mail les alertes de cette règle")
				}
			}

			// 1. From the rule's row: « M'abonner », then listed.
			rm := clients[0]
			resp, html = rm.get("/alertes/regles")
			wantPage(t, "rules", resp, html, 200, "M'abonner<span class=\"lecteur\"> aux alertes de la règle Crue du Var &lt;b&gt;", "Aucun abonnement pour le moment.")
			csrf := csrfInput.FindStringSubmatch(html)[1]
			resp, html = rm.post("/alertes/abonnements", url.Values{"csrf": {csrf}, "rule_id": {r.ID}, "retour": {"/alertes/regles"}})
			if resp.StatusCode != 303 || resp.Header.Get("Location") != "/alertes/regles" {
				t.Fatalf("subscribe: %d %.300s", resp.StatusCode, html)
			}
			resp, html = rm.get("/alertes/regles")
			wantPage(t, "rules after subscribing", resp, html, 200, "Abonnement enregistré", "abonné·e", "Se désabonner<span class=\"lecteur\"> de la règle",
				`<ul id="abonnements"><li>règle « Crue du Var &lt;b&gt; »`)

			// Refused and hostile posts.
			for _, c := range []struct {
				name   string
				form   url.Values
				status int
			}{
				{"neither", url.Values{"csrf": {csrf}}, 400},
				{"both", url.Values{"csrf": {csrf}, "rule_id": {r.ID}, "site": {"var-estuaire"}}, 400},
				{"unknown rule", url.Values{"csrf": {csrf}, "rule_id": {"nope"}}, 404},
				{"hostile site", url.Values{"csrf": {csrf}, "site": {"var' OR 1=1 --"}}, 400},
				{"bad csrf", url.Values{"csrf": {"faux"}, "site": {"var-estuaire"}}, 403},
			} {
				resp, html := rm.post("/alertes/abonnements", c.form)
				wantPage(t, c.name, resp, html, c.status)
			}
			resp, html = cit.post("/alertes/abonnements", url.Values{"csrf": {cit.csrf("/compte")}, "site": {"var-estuaire"}})
			wantPage(t, "citizen", resp, html, 403, "Seuls les gestionnaires des risques")
			resp, _ = newFormClient(e).post("/alertes/abonnements", url.Values{"site": {"var-estuaire"}})
			if resp.StatusCode != 303 && resp.StatusCode != 403 {
				t.Errorf("anonymous subscribe: %d", resp.StatusCode)
			}
			// An off-site retour goes to a same-site default.
			resp, _ = rm.post("/alertes/abonnements", url.Values{"csrf": {csrf}, "rule_id": {r.ID}, "retour": {"//evil.example/"}})
			if resp.StatusCode != 303 || strings.Contains(resp.Header.Get("Location"), "evil") {
				t.Errorf("off-site retour: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}

			// 2. The site's page, then unsubscribed from the list.
			other := clients[1]
			resp, html = other.get("/sites/var-estuaire")
			wantPage(t, "site", resp, html, 200, "Recevoir par e-mail toutes les alertes de ce site")
			csrf2 := csrfInput.FindStringSubmatch(html)[1]
			resp, _ = other.post("/alertes/abonnements", url.Values{"csrf": {csrf2}, "site": {"var-estuaire"}, "retour": {"/sites/var-estuaire"}})
			if resp.StatusCode != 303 || resp.Header.Get("Location") != "/sites/var-estuaire" {
				t.Fatalf("subscribe to the site: %d", resp.StatusCode)
			}
			resp, html = other.get("/sites/var-estuaire")
			wantPage(t, "site subscribed", resp, html, 200, "Vous recevez par e-mail les alertes de ce site", "Me désabonner")
			resp, html = other.get("/alertes/regles")
			wantPage(t, "other's rules", resp, html, 200, `<a href="/sites/var-estuaire">site var-estuaire</a>`, "M'abonner<span")
			if strings.Contains(html, "Crue du Var &lt;b&gt; »") {
				t.Error("the other manager sees the first one's subscription")
			}
			resp, _ = other.post("/alertes/abonnements/suppression", url.Values{"csrf": {csrf2}, "site": {"var-estuaire"}, "retour": {"/alertes/regles#mes-abonnements"}})
			if resp.StatusCode != 303 || resp.Header.Get("Location") != "/alertes/regles#mes-abonnements" {
				t.Fatalf("unsubscribe: %d", resp.StatusCode)
			}
			resp, html = other.get("/alertes/regles")
			wantPage(t, "after unsubscribing", resp, html, 200, "Abonnement supprimé", "Aucun abonnement pour le moment.")

			// 3. An alert fires: one mail, to the rule's subscriber only.
			if err := svc.HandleReadings(ctx, []smartdeal.Reading{river(0, 2.8, time.Now().UTC().Add(-time.Minute))}); err != nil {
				t.Fatal(err)
			}
			svc.DeliverDue(ctx)
			m := mp.WaitMail(t, emails[0], "", 10*time.Second)
			if !strings.Contains(m.Text, "Crue du Var") || !strings.Contains(m.Text, "var-estuaire") {
				t.Errorf("alert mail: %s\n%s", m.Subject, m.Text)
			}
			svc.DeliverDue(ctx) // nothing more is due
			for _, to := range emails[1:] {
				if got := mp.Messages(t, to); len(got) != 0 {
					t.Errorf("%s got %d mails, not subscribed", to, len(got))
				}
			}
			if got := mp.Messages(t, emails[0]); len(got) != 1 {
				t.Errorf("subscriber got %d mails, want 1", len(got))
			}
		})
	}
}
