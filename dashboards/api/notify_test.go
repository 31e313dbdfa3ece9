package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	stdhtml "html"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/mail"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// withMail sends the env's mail through sender.
func withMail(sender api.Mailer) func(*api.Deps) {
	return func(d *api.Deps) { d.Mail = sender }
}

func smtpTo(t testing.TB, host string, port int, timeout time.Duration) *mail.SMTP {
	t.Helper()
	s, err := mail.NewSMTP(mail.Config{Host: host, Port: port, TLS: mail.TLSNone, From: "SMART Deal <no-reply@cd06.test>", Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runOutbox runs the server's mail outbox until the test ends.
func runOutbox(t testing.TB, e *env) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Outbox().Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("outbox: %v", err)
		}
	})
}

// person is an account with a name of its own, a unique verified address
// and a bearer token.
func (e *env) person(name string, role civic.Role) (*civic.User, string) {
	e.t.Helper()
	return e.personVerified(name, role, true)
}

// personVerified is person, its address verified or not.
func (e *env) personVerified(name string, role civic.Role, verified bool) (*civic.User, string) {
	e.t.Helper()
	u := &civic.User{Email: strings.ToLower(name) + "." + civic.NewID() + "@example.fr", Name: name, Role: role, PasswordHash: "-"}
	if verified {
		at := time.Now().UTC()
		u.EmailVerified = &at
	}
	ctx := context.Background()
	if err := e.st.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(tok))
	if err := e.st.CreateSession(ctx, &civic.Session{TokenHash: hex.EncodeToString(h[:]), UserID: u.ID, Kind: civic.SessionBearer,
		Created: time.Now(), Expires: time.Now().Add(time.Hour)}); err != nil {
		e.t.Fatal(err)
	}
	return u, tok
}

func (e *env) optIn(token string, own, supported bool) civic.NotificationPrefs {
	e.t.Helper()
	var p civic.NotificationPrefs
	e.call("PUT", "/api/v1/me/notifications", token, map[string]bool{"own_proposals": own, "supported_proposals": supported}, 200, &p)
	return p
}

func (e *env) prefsOf(id string) *civic.NotificationPrefs {
	e.t.Helper()
	p, err := e.st.NotificationPrefs(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// mailCount reads the outbox's smartdeal_api_mail_<what>_total{kind="status"}
// (sent, failures, abandoned, dropped, queue_errors) from /metrics.
func mailCount(t testing.TB, e *env, what string) int {
	t.Helper()
	return int(e.metric(`smartdeal_api_mail_` + what + `_total{kind="status"}`))
}

// outboxEmpty: no mail waits in the outbox (given-up ones are kept as
// failed for the operator, not waiting).
func (e *env) outboxEmpty() bool { return e.pending() == 0 }

var unsubscribeLink = regexp.MustCompile(`https?://\S+/desabonnement/\S+`)

// anonymous does a request without cookies or credentials (a mail client).
func anonymous(t testing.TB, method, u, contentType string, body []byte) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "text/html")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestStatusMails: e-mail about a proposal's status changes, through a real
// SMTP server (mailpit), on SQLite and PostgreSQL. Opted-in author and
// supporters get one mail per change each, in French, with the title, the
// new status, the link to the page and a working unsubscribe link (also in
// List-Unsubscribe); who did not opt in, a deleted account and the actor get
// nothing. Unsubscribing from the page (GET confirms only, POST does it) or
// with an RFC 8058 one-click POST stops the next mails; a token names one
// account and cannot be forged or moved to another. A rejection from the
// committee's decision form carries its reason.
func TestStatusMails(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, fastOutbox(api.Config{}), withMail(smtpTo(t, mp.SMTPHost, mp.SMTPPort, 5*time.Second)))
			base := serve(t, e)
			e.srv.SetPublicURL(base)
			runOutbox(t, e)

			author, authorTok := e.person("Camille", civic.RoleCitizen)
			fan, fanTok := e.person("Sami", civic.RoleCitizen)
			quiet, quietTok := e.person("Théo", civic.RoleCitizen)
			leaver, leaverTok := e.person("Wendy", civic.RoleCitizen)
			late, lateTok := e.person("Victor", civic.RoleCitizen)
			unverified, unverifiedTok := e.personVerified("Ursule", civic.RoleCitizen, false)
			if p := e.optIn(authorTok, true, false); !p.OwnProposals || p.OwnSince == nil || p.SupportedProposals {
				t.Fatalf("author opt-in %+v", p)
			}
			e.optIn(fanTok, false, true)
			e.optIn(leaverTok, true, true)
			e.optIn(lateTok, false, true)
			e.optIn(unverifiedTok, true, true)
			var off civic.NotificationPrefs
			e.call("GET", "/api/v1/me/notifications", quietTok, nil, 200, &off)
			if off.OwnProposals || off.SupportedProposals || off.OwnSince != nil {
				t.Fatalf("default is not off: %+v", off)
			}

			const title = "Capteurs de crue\nsur le Var"
			var p civic.Proposal
			e.call("POST", "/api/v1/ideas", authorTok, map[string]any{"campaign_id": e.campaign, "theme_id": "environnement-risques",
				"title": title, "body": "Mesurer le niveau d'eau.", "estimated_cost_eur": 45000}, 201, &p)
			e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "published"}, 200, nil)

			got := mp.WaitMail(t, author.Email, "est publiée", 15*time.Second)
			if want := "Votre proposition « Capteurs de crue sur le Var » est publiée"; got.Subject != want {
				t.Errorf("subject %q, want %q", got.Subject, want)
			}
			for _, w := range []string{"Bonjour Camille,", "Votre proposition « Capteurs de crue sur le Var » a un nouveau statut : publiée.",
				"visible de tous", "Voir la proposition : " + base + "/idees/" + p.ID, "changements de statut de vos propositions",
				"Pour ne plus recevoir ces e-mails, en un clic et sans vous connecter : " + base + "/desabonnement/" + author.ID + "."} {
				if !strings.Contains(got.Text, w) {
					t.Errorf("mail lacks %q:\n%s", w, got.Text)
				}
			}
			authorUnsub := unsubscribeLink.FindString(got.Text)
			if h := got.Headers["List-Unsubscribe"]; len(h) != 1 || h[0] != "<"+authorUnsub+">" {
				t.Errorf("List-Unsubscribe %q, text link %q", h, authorUnsub)
			}
			if h := got.Headers["List-Unsubscribe-Post"]; len(h) != 1 || h[0] != "List-Unsubscribe=One-Click" {
				t.Errorf("List-Unsubscribe-Post %q", h)
			}
			if resp, _ := anonymous(t, "GET", base+"/idees/"+p.ID, "", nil); resp.StatusCode != 200 {
				t.Errorf("proposal link: %d", resp.StatusCode)
			}

			// Supporters: the author supports too, the leaver erases the account.
			for _, tok := range []string{authorTok, fanTok, quietTok, leaverTok, lateTok} {
				e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", tok, nil, 200, nil)
			}
			// An unverified account cannot support through the API
			// (api.support_assurance), but one that supported before
			// verification was required (migration 00005 kept those votes)
			// opted in too: it still gets no mail.
			if _, _, err := e.st.Vote(context.Background(), p.ID, unverified.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			e.call("DELETE", "/api/v1/me", leaverTok, nil, 204, nil)
			e.call("POST", "/api/v1/campaigns/"+e.campaign+"/shortlist", e.admin, nil, 200, nil)
			mp.WaitMail(t, author.Email, "est présélectionnée", 15*time.Second)
			got = mp.WaitMail(t, fan.Email, "est présélectionnée", 15*time.Second)
			if want := "La proposition « Capteurs de crue sur le Var », que vous soutenez, est présélectionnée"; got.Subject != want {
				t.Errorf("supporter's subject %q, want %q", got.Subject, want)
			}
			if !strings.Contains(got.Text, "Bonjour Sami,") || !strings.Contains(got.Text, "des propositions que vous soutenez") {
				t.Errorf("supporter's text:\n%s", got.Text)
			}
			fanUnsub := unsubscribeLink.FindString(got.Text)
			mp.WaitMail(t, late.Email, "est présélectionnée", 15*time.Second)
			testenv.Eventually(t, 10*time.Second, e.outboxEmpty, "outbox not drained")
			if n := len(mp.Messages(t, author.Email)); n != 2 {
				t.Errorf("author got %d mails, want 2 (one per change, though also a supporter)", n)
			}
			for _, u := range []*civic.User{quiet, leaver, unverified, e.mustUser(t, e.admin)} {
				if n := len(mp.Messages(t, u.Email)); n != 0 {
					t.Errorf("%s (not opted in, deleted, unverified or actor) got %d mails", u.Name, n)
				}
			}

			// Unsubscribing from the page: the GET only asks.
			resp, html := anonymous(t, "GET", fanUnsub, "", nil)
			wantPage(t, "unsubscribe page", resp, html, 200, "Vous recevez un e-mail quand une proposition que vous soutenez change de statut.",
				`id="desabonner"`, `method="post"`)
			if !e.prefsOf(fan.ID).SupportedProposals {
				t.Fatal("a GET unsubscribed")
			}
			resp, html = anonymous(t, "POST", fanUnsub, "application/x-www-form-urlencoded", nil)
			if resp.StatusCode != 303 || resp.Header.Get("Location") != strings.TrimPrefix(fanUnsub, base) {
				t.Fatalf("unsubscribe post: %d %q %.300s", resp.StatusCode, resp.Header.Get("Location"), html)
			}
			if p := e.prefsOf(fan.ID); p.SupportedProposals || p.OwnProposals {
				t.Fatalf("still subscribed: %+v", p)
			}
			resp, html = anonymous(t, "GET", fanUnsub, "", nil)
			wantPage(t, "after unsubscribing", resp, html, 200, "Vous ne recevez aucun e-mail de suivi des propositions.")

			// A mail client's one-click POST (RFC 8058): no cookie, 200.
			resp, html = anonymous(t, "POST", authorUnsub, "application/x-www-form-urlencoded", []byte("List-Unsubscribe=One-Click"))
			wantPage(t, "one-click", resp, html, 200, "Vous ne recevez aucun e-mail de suivi des propositions.")
			if p := e.prefsOf(author.ID); p.OwnProposals || p.SupportedProposals {
				t.Fatalf("one-click left %+v", p)
			}
			var mb bytes.Buffer
			mw := multipart.NewWriter(&mb)
			_ = mw.WriteField("List-Unsubscribe", "One-Click")
			mw.Close()
			if resp, _ := anonymous(t, "POST", fanUnsub, mw.FormDataContentType(), mb.Bytes()); resp.StatusCode != 200 {
				t.Errorf("multipart one-click, again: %d", resp.StatusCode)
			}
			log, _ := e.st.AuditLog(context.Background(), 1000)
			sources := map[string]bool{}
			for _, a := range log {
				if a.Action == "notify.prefs" && (a.Actor == author.ID || a.Actor == fan.ID) {
					sources[a.Detail] = true
				}
			}
			if !sources["own=off supported=off source=one-click"] || !sources["own=off supported=off source=unsubscribe"] {
				t.Errorf("unsubscriptions not audited: %v", sources)
			}

			// Tokens: one account each, unforgeable.
			lateLink := base + "/desabonnement/" + late.ID + authorUnsub[strings.LastIndexByte(authorUnsub, '.'):]
			for _, bad := range []string{lateLink, base + "/desabonnement/" + late.ID + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
				base + "/desabonnement/" + late.ID, base + "/desabonnement/garbage.%25%00", strings.Replace(fanUnsub, fan.ID, late.ID, 1)} {
				for _, m := range []string{"GET", "POST"} {
					resp, html := anonymous(t, m, bad, "application/x-www-form-urlencoded", []byte("List-Unsubscribe=One-Click"))
					if resp.StatusCode != 404 || !strings.Contains(stdhtml.UnescapeString(html), "Ce lien de désabonnement n'est pas valide") {
						t.Errorf("%s %s: %d %.200s", m, bad, resp.StatusCode, html)
					}
				}
			}
			if !e.prefsOf(late.ID).SupportedProposals {
				t.Fatal("another account's token, or a forged one, unsubscribed Victor")
			}

			// The next change mails Victor only; the unsubscribed get nothing.
			e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "under_review"}, 200, nil)
			mp.WaitMail(t, late.Email, "est en cours d'expertise", 15*time.Second)
			testenv.Eventually(t, 10*time.Second, e.outboxEmpty, "outbox not drained")
			if a, f := len(mp.Messages(t, author.Email)), len(mp.Messages(t, fan.Email)); a != 2 || f != 1 {
				t.Errorf("after unsubscribing: author %d mails (want 2), supporter %d (want 1)", a, f)
			}

			// The committee rejects from the decision Form: the reason is in the mail.
			committee := e.account(civic.RoleAdmin, "comite."+civic.NewID()+"@example.fr", "mot de passe du comité")
			w := newWebClient(t, base)
			w.signIn(committee.Email, "mot de passe du comité")
			csrf := w.csrf("/expertise/" + p.ID)
			const reason = "Le budget de l'appel est déjà engagé\nsur d'autres projets."
			if resp, html := w.post("/expertise/"+p.ID+"/decision", url.Values{"csrf": {csrf}, "decision": {"rejeter"}, "reason": {reason}}); resp.StatusCode != 303 {
				t.Fatalf("decision: %d %.300s", resp.StatusCode, html)
			}
			got = mp.WaitMail(t, late.Email, "n'est pas retenue", 15*time.Second)
			if text := strings.ReplaceAll(got.Text, "\r\n", "\n"); !strings.Contains(text, "a un nouveau statut : non retenue.") || !strings.Contains(text, "Motif de la décision : "+reason) {
				t.Errorf("rejection mail:\n%s", got.Text)
			}
			testenv.Eventually(t, 10*time.Second, e.outboxEmpty, "outbox not drained") // a mail is counted, then removed
			if mailCount(t, e, "failures") != 0 || mailCount(t, e, "sent") != 6 || mailCount(t, e, "queue_errors") != 0 {
				t.Errorf("metrics: sent %d failures %d queue errors %d", mailCount(t, e, "sent"), mailCount(t, e, "failures"), mailCount(t, e, "queue_errors"))
			}
		})
	}
}

func (e *env) mustUser(t *testing.T, token string) *civic.User {
	t.Helper()
	var u civic.User
	e.call("GET", "/api/v1/me", token, nil, 200, &u)
	return &u
}

// blackhole is an SMTP relay that accepts connections and never answers:
// a send waits for the whole mail timeout.
func blackhole(t *testing.T) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	a := ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

// TestStatusMailSMTPDown: a relay that hangs or is down neither fails nor
// slows the status change; failed deliveries are counted, retried with
// backoff and given up after the last attempt; a relay that comes back gets
// the mail.
func TestStatusMailSMTPDown(t *testing.T) {
	t.Run("hanging relay", func(t *testing.T) {
		host, port := blackhole(t)
		e := newEnv(t, sqltest.SQLite(t), nil, api.Config{Accounts: api.AccountConfig{Outbox: api.OutboxConfig{
			Poll: 100 * time.Millisecond, RetryBase: 100 * time.Millisecond, RetryMax: time.Second, MaxAttempts: 2, Lease: 10 * time.Second}}},
			withMail(smtpTo(t, host, port, 3*time.Second)))
		runOutbox(t, e)
		_, tok := e.person("Camille", civic.RoleCitizen)
		e.optIn(tok, true, true)
		p := e.idea(tok, 1000, false)
		start := time.Now()
		e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "published"}, 200, nil)
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("status change took %s with the relay hanging (mail timeout 3 s)", d)
		}
		if st, _ := e.status(p.ID); st != civic.StatusPublished {
			t.Errorf("status %s", st)
		}
		testenv.Eventually(t, 30*time.Second, func() bool { return mailCount(t, e, "abandoned") == 1 }, "mail not given up")
		if f := mailCount(t, e, "failures"); f != 2 || mailCount(t, e, "sent") != 0 || !e.outboxEmpty() {
			t.Errorf("failed %d (want 2 attempts), sent %d", f, mailCount(t, e, "sent"))
		}
	})
	t.Run("relay down then back", func(t *testing.T) {
		mp := testenv.StartMailpit(t)
		e := newEnv(t, sqltest.SQLite(t), nil, api.Config{Accounts: api.AccountConfig{Outbox: api.OutboxConfig{
			Poll: 100 * time.Millisecond, RetryBase: 200 * time.Millisecond, RetryMax: time.Second, MaxAttempts: 50, Lease: 10 * time.Second}}},
			withMail(smtpTo(t, mp.SMTPHost, mp.SMTPPort, 2*time.Second)))
		runOutbox(t, e)
		author, tok := e.person("Camille", civic.RoleCitizen)
		e.optIn(tok, true, false)
		p := e.idea(tok, 1000, false)
		mp.Stop(t)
		start := time.Now()
		e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "published"}, 200, nil)
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("status change took %s with the relay down", d)
		}
		testenv.Eventually(t, 10*time.Second, func() bool { return mailCount(t, e, "failures") >= 2 }, "no failed deliveries counted")
		if e.outboxEmpty() {
			t.Fatal("the mail left the outbox while the relay was down")
		}
		mp.Start(t)
		got := mp.WaitMail(t, author.Email, "est publiée", 20*time.Second)
		if !strings.Contains(got.Text, "Bonjour Camille,") {
			t.Errorf("text %q", got.Text)
		}
		testenv.Eventually(t, 10*time.Second, e.outboxEmpty, "outbox not drained")
		if n := len(mp.Messages(t, author.Email)); n != 1 || mailCount(t, e, "sent") != 1 || mailCount(t, e, "abandoned") != 0 {
			t.Errorf("%d mails, sent %d", n, mailCount(t, e, "sent"))
		}
	})
}
