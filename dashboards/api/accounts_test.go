package api_test

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestUnverifiedCannotStuffVotes: an account whose address is not verified
// can neither support, nor propose, nor comment — through the JSON routes
// and through the page forms — and nothing is stored; once verified, the
// same support counts. (Before verification existed, any number of
// sign-ups with made-up addresses could each vote.)
func TestUnverifiedCannotStuffVotes(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{})
			_, author := e.user(civic.RoleCitizen)
			p := e.idea(author, 1000, true)

			// JSON: sign up, sign in, try every contribution.
			email := address("robot")
			u, tok := e.signUp(email, "un mot de passe jetable")
			if u.EmailVerified != nil || u.Level() != civic.AssuranceNone {
				t.Fatalf("new account already verified: %+v", u)
			}
			for _, c := range []struct {
				method, path string
				body         any
			}{
				{"POST", "/api/v1/ideas/" + p.ID + "/vote", nil},
				{"DELETE", "/api/v1/ideas/" + p.ID + "/vote", nil},
				{"POST", "/api/v1/ideas/" + p.ID + "/comments", map[string]any{"body": "Votez pour !"}},
				{"POST", "/api/v1/ideas", map[string]any{"campaign_id": e.campaign, "theme_id": "securite", "title": "Spam", "body": "Spam."}},
			} {
				pr := e.problem(c.method, c.path, tok, c.body, 403)
				if pr["code"] != civic.EUNVERIFIED || pr["assurance_required"] != float64(1) {
					t.Errorf("%s %s: %v", c.method, c.path, pr)
				}
			}

			// Page forms, as a browser without JavaScript.
			f := newFormClient(e)
			form := address("robot-form")
			resp, _ := f.post("/inscription", url.Values{"name": {"Robot"}, "email": {form}, "password": {"un mot de passe jetable"}, "retour": {"/idees/" + p.ID}})
			if resp.StatusCode != 303 {
				t.Fatalf("form sign-up: %d", resp.StatusCode)
			}
			resp, html := f.get("/idees/" + p.ID)
			wantPage(t, "proposal page, unverified", resp, html, 200, "Confirmez votre adresse e-mail", "Renvoyer le lien de confirmation",
				`action="/compte/securite/verification"`, "Un lien de confirmation vient d'être envoyé")
			if strings.Contains(html, `id="soutenir"`) || strings.Contains(html, `id="commentaire"`) {
				t.Error("the support or comment form is offered to an unverified account")
			}
			csrf := csrfInput.FindStringSubmatch(html)[1]
			resp, html = f.post("/idees/"+p.ID+"/soutien", url.Values{"csrf": {csrf}, "action": {"soutenir"}})
			wantPage(t, "support form", resp, html, 403, "Erreur : Confirmez d'abord votre adresse e-mail", "Renvoyer le lien de confirmation")
			resp, html = f.post("/idees/"+p.ID+"/commentaires", url.Values{"csrf": {csrf}, "body": {"Votez pour !"}})
			wantPage(t, "comment form", resp, html, 403, "Erreur : Confirmez d'abord votre adresse e-mail")
			resp, html = f.post("/idees/nouvelle", url.Values{"csrf": {csrf}, "title": {"Spam spam"}, "body": {"Spam."}, "theme_id": {"securite"},
				"campaign_id": {e.campaign}, "estimated_cost_eur": {"0"}})
			wantPage(t, "proposal form", resp, html, 403, "Erreur : Confirmez d'abord votre adresse e-mail", "Renvoyer le lien de confirmation")
			resp, html = f.get("/idees/nouvelle")
			wantPage(t, "proposal form page", resp, html, 200, "Confirmez votre adresse e-mail")
			// The page's button sends a new link and comes back.
			resp, _ = f.post("/compte/securite/verification", url.Values{"csrf": {csrf}, "retour": {"/idees/" + p.ID}})
			if resp.StatusCode != 303 || resp.Header.Get("Location") != "/idees/"+p.ID {
				t.Fatalf("resend Form: %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			resp, html = f.get("/idees/" + p.ID)
			wantPage(t, "after resend", resp, html, 200, "Un nouveau lien de confirmation vient d'être envoyé")
			if n := e.pending(); n != 3 { // two sign-ups and the resend; no worker runs here
				t.Fatalf("%d mails queued, want 3", n)
			}
			if strings.Contains(html, `id="proposition"`) {
				t.Error("the proposal form is offered to an unverified account")
			}

			// Nothing was stored.
			if n := e.votes(p.ID); n != 0 {
				t.Fatalf("%d votes from unverified accounts", n)
			}
			cs, err := e.st.Comments(context.Background(), p.ID, true)
			if err != nil || len(cs) != 0 {
				t.Fatalf("comments %v %v", cs, err)
			}
			mine, err := e.st.Proposals(context.Background(), civic.ProposalFilter{AuthorID: u.ID})
			if err != nil || len(mine) != 0 {
				t.Fatalf("proposals %v %v", mine, err)
			}

			// Verified, the same calls pass.
			e.verify(email)
			e.verify(form)
			e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", tok, nil, 200, nil)
			if resp, _ := f.post("/idees/"+p.ID+"/soutien", url.Values{"csrf": {csrf}, "action": {"soutenir"}}); resp.StatusCode != 303 {
				t.Fatalf("verified support Form: %d", resp.StatusCode)
			}
			if n := e.votes(p.ID); n != 2 {
				t.Fatalf("%d votes after verification, want 2", n)
			}
		})
	}
}

// TestVerificationLink follows the verification mail: it arrives in French
// with a single-use link; opening the link uses nothing (mail scanners
// fetch links), the button does; a used or expired link is refused with the
// reason; asking for new links is limited; only the token's hash is stored.
func TestVerificationLink(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			clock := newClock()
			e := newMailEnv(t, b, api.Config{}, mp, withClock(clock))
			_, author := e.user(civic.RoleCitizen)
			p := e.idea(author, 1000, true)
			email := address("lea")
			u, tok := e.signUp(email, "mot de passe de Léa")

			m := mp.WaitMail(t, email, "Confirmez votre adresse e-mail", 30*time.Second)
			for _, want := range []string{"Bonjour Camille", "valable 48 heures", "ne sert qu'une fois", "Confirmer mon adresse"} {
				if !strings.Contains(m.Text, want) {
					t.Errorf("mail lacks %q:\n%s", want, m.Text)
				}
			}
			if got := m.Headers["Content-Language"]; len(got) != 1 || got[0] != "fr" {
				t.Errorf("Content-Language %v", got)
			}
			link := tokenIn(t, m, "/verification")
			// Only the hash is in the database; the outbox row is gone.
			var n int
			if err := e.st.DB().QueryRow(rebind(b, `SELECT COUNT(*) FROM account_tokens WHERE token_hash = ? AND user_id = ?`), sha(link), u.ID).Scan(&n); err != nil || n != 1 {
				t.Fatalf("token row by hash: %d %v", n, err)
			}
			if err := e.st.DB().QueryRow(rebind(b, `SELECT COUNT(*) FROM account_tokens WHERE token_hash = ?`), link).Scan(&n); err != nil || n != 0 {
				t.Fatalf("token in clear: %d %v", n, err)
			}
			testenv.Eventually(t, 10*time.Second, func() bool { return e.pending() == 0 }, "the sent mail stays in the outbox")

			f := newFormClient(e)
			for range 2 {
				resp, html := f.get("/verification?jeton=" + link)
				wantPage(t, "link page", resp, html, 200, "Confirmer votre adresse e-mail", email, `<button type="submit" id="confirmer">Confirmer mon adresse</button>`)
			}
			if e.userByEmail(email).EmailVerified != nil {
				t.Fatal("opening the link verified the address")
			}
			e.problem("POST", "/api/v1/ideas/"+p.ID+"/vote", tok, nil, 403)

			resp, _ := f.post("/verification", url.Values{"jeton": {link}})
			if resp.StatusCode != 303 || resp.Header.Get("Location") != "/idees" {
				t.Fatalf("confirm: %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			resp, html := f.get("/idees")
			wantPage(t, "after confirmation", resp, html, 200, "Votre adresse e-mail est confirmée")
			if v := e.userByEmail(email).EmailVerified; v == nil || !v.Equal(clock.Now().Truncate(time.Millisecond)) {
				t.Fatalf("verified at %v, want %v", v, clock.Now())
			}
			e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", tok, nil, 200, nil)

			// Used: refused everywhere, with the reason.
			resp, html = f.post("/verification", url.Values{"jeton": {link}})
			wantPage(t, "reused link", resp, html, 400, "Ce lien a déjà servi")
			resp, html = f.get("/verification?jeton=" + link)
			wantPage(t, "reused link page", resp, html, 400, "Ce lien a déjà servi")
			if strings.Contains(html, `id="confirmer"`) {
				t.Error("a used link still offers the button")
			}
			if pr := e.problem("POST", "/api/v1/auth/verify", "", map[string]any{"token": link}, 400); pr["code"] != civic.ETOKEN || pr["reason"] != civic.TokenUsed {
				t.Fatalf("reuse by JSON: %v", pr)
			}
			for _, bad := range []string{"", "pas-un-jeton", strings.Repeat("A", 500)} {
				if pr := e.problem("POST", "/api/v1/auth/verify", "", map[string]any{"token": bad}, 400); pr["reason"] != civic.TokenUnknown {
					t.Fatalf("token %.20q: %v", bad, pr)
				}
			}
			e.problem("POST", "/api/v1/me/verification", tok, nil, 409) // already verified

			// New links on request: limited to 3 per hour per account.
			other := address("sam")
			_, otherTok := e.signUp(other, "mot de passe de Sam")
			for range 3 {
				e.call("POST", "/api/v1/me/verification", otherTok, nil, 202, nil)
			}
			resp, body := e.do("POST", "/api/v1/me/verification", otherTok, nil)
			if pr := checkProblem(t, "4th resend", resp, body, 429); pr["code"] != civic.ETOOMANY || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("4th resend: %v", pr)
			}
			testenv.Eventually(t, 30*time.Second, func() bool { return len(mp.Messages(t, other)) == 4 }, "4 verification mails to %s", other)

			// Expired: 48 h later the links are refused, the address stays unverified.
			m = mp.WaitMail(t, other, "Confirmez votre adresse e-mail", time.Second)
			old := tokenIn(t, m, "/verification")
			clock.Advance(48*time.Hour + time.Minute)
			resp, html = f.get("/verification?jeton=" + old)
			wantPage(t, "expired link page", resp, html, 400, "Ce lien a expiré")
			resp, html = f.post("/verification", url.Values{"jeton": {old}})
			wantPage(t, "expired link", resp, html, 400, "Ce lien a expiré")
			if pr := e.problem("POST", "/api/v1/auth/verify", "", map[string]any{"token": old}, 400); pr["reason"] != civic.TokenExpired {
				t.Fatalf("expired by JSON: %v", pr)
			}
			if e.userByEmail(other).EmailVerified != nil {
				t.Fatal("an expired link verified the address")
			}
		})
	}
}

func rebind(b sqltest.Backend, q string) string {
	if b.Name != "postgres" {
		return q
	}
	n := 0
	return regexp.MustCompile(`\?`).ReplaceAllStringFunc(q, func(string) string { n++; return "$" + strconv.Itoa(n) })
}

// TestForgottenPassword resets a password through the mail: the answer is
// the same for an address without an account (and no mail goes there), the
// link is single-use, the new password replaces the old and every session
// of the account (bearer and cookie) ends.
func TestForgottenPassword(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newMailEnv(t, b, api.Config{SignInLimit: -1}, mp)
			email, unknown := address("oubli"), address("inconnu")
			const oldPW = "l'ancien mot de passe"
			newPW := strings.Repeat("🔑", 200) // 200 characters, 800 bytes
			e.account(civic.RoleCitizen, email, oldPW)
			bearer := e.signIn(email, oldPW)
			browser := newFormClient(e)
			browser.signIn(email, oldPW)

			// The same answer either way, JSON and form.
			var known, none map[string]any
			e.call("POST", "/api/v1/auth/password/forgot", "", map[string]any{"email": email}, 202, &known)
			e.call("POST", "/api/v1/auth/password/forgot", "", map[string]any{"email": unknown}, 202, &none)
			if known["status"] != none["status"] || len(known) != 1 {
				t.Fatalf("answers differ: %v / %v", known, none)
			}
			f := newFormClient(e)
			resp, html := f.get("/mot-de-passe-oublie")
			wantPage(t, "forgot page", resp, html, 200, `<label for="courriel">Adresse e-mail</label>`, "valable 1 heure")
			var pages []string
			for _, addr := range []string{unknown, email} {
				resp, _ := f.post("/mot-de-passe-oublie", url.Values{"email": {addr}})
				if resp.StatusCode != 303 || resp.Header.Get("Location") != "/mot-de-passe-oublie" {
					t.Fatalf("forgot %s: %d %q", addr, resp.StatusCode, resp.Header.Get("Location"))
				}
				_, html := f.get("/mot-de-passe-oublie")
				pages = append(pages, regexp.MustCompile(`<p id="confirmation"[^>]*>[^<]*</p>`).FindString(html))
			}
			if pages[0] == "" || pages[0] != pages[1] {
				t.Fatalf("form answers differ or are missing: %q / %q", pages[0], pages[1])
			}
			resp, html = f.post("/mot-de-passe-oublie", url.Values{"email": {"pas une adresse"}})
			wantPage(t, "bad address", resp, html, 400, "Adresse e-mail invalide")

			testenv.Eventually(t, 30*time.Second, func() bool { return len(mp.Messages(t, email)) == 2 && e.pending() == 0 }, "two reset mails to %s", email)
			if got := mp.Messages(t, unknown); len(got) != 0 {
				t.Fatalf("mail sent to an address without account: %v", got[0].Subject)
			}
			if n := e.metric(`smartdeal_api_mail_dropped_total{kind="reset"}`); n != 2 {
				t.Errorf("dropped resets %v, want 2", n)
			}
			m := mp.WaitMail(t, email, "Choisissez un nouveau mot de passe", time.Second)
			if !strings.Contains(m.Text, "valable 1 heure") {
				t.Errorf("mail text:\n%s", m.Text)
			}
			tok := tokenIn(t, m, "/mot-de-passe/nouveau")

			resp, html = f.get("/mot-de-passe/nouveau?jeton=" + tok)
			wantPage(t, "new password page", resp, html, 200, `<label for="mdp-nouveau">Nouveau mot de passe</label>`, `autocomplete="new-password"`)
			resp, html = f.post("/mot-de-passe/nouveau", url.Values{"jeton": {tok}, "password": {newPW}, "confirmation": {newPW + "x"}})
			wantPage(t, "confirmation differs", resp, html, 400, "Les deux mots de passe saisis sont différents.", `id="mdp-confirmation"`)
			resp, html = f.post("/mot-de-passe/nouveau", url.Values{"jeton": {tok}, "password": {"court"}, "confirmation": {"court"}})
			wantPage(t, "too short", resp, html, 400, "entre 10 et 200 caractères")
			resp, html = f.post("/mot-de-passe/nouveau", url.Values{"jeton": {tok}, "password": {newPW}, "confirmation": {newPW}}, "Sec-Fetch-Site", "cross-site")
			wantPage(t, "cross-site", resp, html, 403, "ne vient pas de ce site")
			e.signIn(email, oldPW) // nothing changed yet

			resp, _ = f.post("/mot-de-passe/nouveau", url.Values{"jeton": {tok}, "password": {newPW}, "confirmation": {newPW}})
			if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/connexion") {
				t.Fatalf("reset: %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			resp, html = f.get("/connexion")
			wantPage(t, "after reset", resp, html, 200, "toutes vos sessions sont fermées")

			// Every session ended; the old password no longer works.
			e.problem("GET", "/api/v1/me", bearer, nil, 401)
			if browser.signedIn() {
				t.Fatal("the cookie session survived the reset")
			}
			e.problem("POST", "/api/v1/auth/signin", "", map[string]any{"email": email, "password": oldPW}, 401)
			e.signIn(email, newPW)

			// Single use, and the other links of the account died with it.
			resp, html = f.post("/mot-de-passe/nouveau", url.Values{"jeton": {tok}, "password": {oldPW}, "confirmation": {oldPW}})
			wantPage(t, "reused link", resp, html, 400, "Ce lien a déjà servi")
			for _, other := range mp.Messages(t, email) {
				if strings.Contains(other.Subject, "nouveau mot de passe") {
					if ot := tokenIn(t, other, "/mot-de-passe/nouveau"); ot != tok {
						if pr := e.problem("POST", "/api/v1/auth/password/reset", "", map[string]any{"token": ot, "password": oldPW}, 400); pr["reason"] != civic.TokenUsed {
							t.Fatalf("older link: %v", pr)
						}
					}
				}
			}
			mp.WaitMail(t, email, "Votre mot de passe a été changé", 30*time.Second)
		})
	}
}

// TestExpiredResetLink: a reset link works for an hour (api.reset_ttl).
func TestExpiredResetLink(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	clock := newClock()
	e := newMailEnv(t, sqltest.SQLite(t), api.Config{}, mp, withClock(clock))
	email := address("expire")
	e.account(civic.RoleCitizen, email, "mot de passe initial")
	e.call("POST", "/api/v1/auth/password/forgot", "", map[string]any{"email": email}, 202, nil)
	tok := tokenIn(t, mp.WaitMail(t, email, "nouveau mot de passe", 30*time.Second), "/mot-de-passe/nouveau")
	clock.Advance(time.Hour + time.Second)
	f := newFormClient(e)
	resp, html := f.get("/mot-de-passe/nouveau?jeton=" + tok)
	wantPage(t, "expired page", resp, html, 400, "Ce lien a expiré", `href="/mot-de-passe-oublie"`)
	resp, html = f.post("/mot-de-passe/nouveau", url.Values{"jeton": {tok}, "password": {"un autre mot de passe"}, "confirmation": {"un autre mot de passe"}})
	wantPage(t, "expired post", resp, html, 400, "Ce lien a expiré")
	if pr := e.problem("POST", "/api/v1/auth/password/reset", "", map[string]any{"token": tok, "password": "un autre mot de passe"}, 400); pr["reason"] != civic.TokenExpired {
		t.Fatalf("expired by JSON: %v", pr)
	}
	e.signIn(email, "mot de passe initial")
}

// TestPasswordRuleInCharacters: one rule, in characters, for sign-up,
// sign-in, change and reset. 150 × "é" (300 bytes) used to create an
// account nobody could sign into (sign-in counted bytes, at most 200).
func TestPasswordRuleInCharacters(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{SignUpLimit: -1, SignInLimit: -1})
	accents, emoji := strings.Repeat("é", 150), strings.Repeat("😀", 200)
	for _, pw := range []string{accents, emoji} {
		// JSON
		email := address("json")
		e.call("POST", "/api/v1/auth/signup", "", map[string]any{"email": email, "name": "A", "password": pw}, 201, nil)
		e.signIn(email, pw)
		// Forms
		form := address("form")
		f := newFormClient(e)
		if resp, html := f.post("/inscription", url.Values{"name": {"B"}, "email": {form}, "password": {pw}}); resp.StatusCode != 303 {
			t.Fatalf("form sign-up with %d bytes: %d %.300s", len(pw), resp.StatusCode, html)
		}
		newFormClient(e).signIn(form, pw)
	}
	for _, pw := range []string{strings.Repeat("😀", 201), strings.Repeat("é", 9)} {
		pr := e.problem("POST", "/api/v1/auth/signup", "", map[string]any{"email": address("refus"), "name": "C", "password": pw}, 400)
		if pr["field"] != "password" {
			t.Fatalf("%q: %v", pw, pr)
		}
	}
	f := newFormClient(e)
	resp, html := f.post("/inscription", url.Values{"name": {"D"}, "email": {address("refus")}, "password": {strings.Repeat("😀", 201)}})
	wantPage(t, "201 emoji", resp, html, 400, "entre 10 et 200 caractères")
	resp, html = f.post("/inscription", url.Values{"name": {"E"}, "email": {address("refus")}, "password": {"\xff\xfe pas de l'UTF-8 valide"}})
	// Refused before any handler by the one UTF-8 guard (utf8.go); a browser never sends such bytes.
	wantPage(t, "invalid UTF-8", resp, html, 400, "Le formulaire contient une erreur.")
	e.problem("POST", "/api/v1/auth/signin", "", map[string]any{"email": "x@example.fr", "password": strings.Repeat("😀", 201)}, 401)

	// Change: from 150 é to 200 emoji and back.
	email := address("change")
	_, tok := e.signUp(email, accents)
	var out struct {
		Ended int `json:"sessions_ended"`
	}
	e.call("PUT", "/api/v1/me/password", tok, map[string]any{"current_password": accents, "new_password": emoji}, 200, &out)
	e.signIn(email, emoji)
	e.problem("PUT", "/api/v1/me/password", tok, map[string]any{"current_password": emoji, "new_password": strings.Repeat("😀", 201)}, 400)
	e.call("PUT", "/api/v1/me/password", tok, map[string]any{"current_password": emoji, "new_password": accents}, 200, nil)
	e.signIn(email, accents)
	if h := e.userByEmail(email).PasswordHash; !api.VerifyPassword(h, accents) {
		t.Fatal("stored hash does not verify the 150 × é password")
	}
	// The bootstrap administrator follows the same rule (apid).
	if err := api.CheckNewPassword("admin.password", accents); err != nil {
		t.Fatal(err)
	}
}

// TestSessionsAndSignOutEverywhere lists one's sessions (no token in the
// answer), ends one, then all: the bearer token and the cookie session stop
// working at once. Bearer tokens last 24 hours by default.
func TestSessionsAndSignOutEverywhere(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{})
			email, pw := address("sessions"), "mot de passe des sessions"
			e.account(civic.RoleCitizen, email, pw)
			var in struct {
				Token   string    `json:"token"`
				Expires time.Time `json:"expires"`
			}
			e.call("POST", "/api/v1/auth/signin", "", map[string]any{"email": email, "password": pw}, 200, &in)
			if d := time.Until(in.Expires); d < 23*time.Hour || d > 24*time.Hour+time.Minute {
				t.Fatalf("bearer token lasts %s, want 24h", d)
			}
			bearer, spare := in.Token, e.signIn(email, pw)
			browser := newFormClient(e)
			browser.signIn(email, pw)
			_, otherTok := e.user(civic.RoleCitizen)

			resp, body := e.do("GET", "/api/v1/me/sessions", bearer, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("sessions: %d %s", resp.StatusCode, body)
			}
			for _, secret := range []string{bearer, spare, sha(bearer), sha(spare), browser.cookies[api.SessionCookie]} {
				if strings.Contains(string(body), secret) {
					t.Fatal("the session list shows a token or its hash")
				}
			}
			var list []civic.SessionView
			if err := jsonUnmarshal(body, &list); err != nil || len(list) != 3 {
				t.Fatalf("sessions %s %v", body, err)
			}
			kinds, current := map[string]int{}, 0
			var spareID string
			for _, s := range list {
				kinds[s.Kind]++
				if s.Current {
					current++
					if s.LastUsed == nil {
						t.Error("the current session has no last use")
					}
				}
				if s.Kind == civic.SessionCookie && s.Expires.Sub(s.Created) != 7*24*time.Hour {
					t.Errorf("cookie session lasts %s", s.Expires.Sub(s.Created))
				}
			}
			if kinds["bearer"] != 2 || kinds["cookie"] != 1 || current != 1 {
				t.Fatalf("sessions %+v", list)
			}
			// The spare token's id: the bearer session that is not current.
			var spareList []civic.SessionView
			e.call("GET", "/api/v1/me/sessions", spare, nil, 200, &spareList)
			for _, s := range spareList {
				if s.Current {
					spareID = s.ID
				}
			}
			e.problem("DELETE", "/api/v1/me/sessions/"+spareID, otherTok, nil, 404) // not theirs
			e.problem("DELETE", "/api/v1/me/sessions/nope", bearer, nil, 404)
			e.call("DELETE", "/api/v1/me/sessions/"+spareID, bearer, nil, 204, nil)
			e.problem("GET", "/api/v1/me", spare, nil, 401)
			e.call("GET", "/api/v1/me", bearer, nil, 200, nil)

			// The security page lists them; its button signs out everywhere.
			resp, html := browser.get("/compte/securite")
			wantPage(t, "security page", resp, html, 200, "Sessions ouvertes", "navigateur (cette session)", "jeton d'API", "Se déconnecter partout", email, "confirmée")
			if n := strings.Count(html, `/fermer"`); n != 2 {
				t.Errorf("%d close buttons, want 2", n)
			}
			csrf := csrfInput.FindStringSubmatch(html)[1]
			resp, _ = browser.post("/compte/securite/deconnexion-partout", url.Values{})
			if resp.StatusCode != 403 {
				t.Fatalf("without csrf: %d", resp.StatusCode)
			}
			e.call("GET", "/api/v1/me", bearer, nil, 200, nil)
			resp, _ = browser.post("/compte/securite/deconnexion-partout", url.Values{"csrf": {csrf}})
			if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/connexion") {
				t.Fatalf("sign out everywhere: %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			e.problem("GET", "/api/v1/me", bearer, nil, 401)
			if browser.signedIn() {
				t.Fatal("the cookie session survived")
			}
			e.call("GET", "/api/v1/me", otherTok, nil, 200, nil) // another account is untouched

			// The JSON route does the same.
			a, c := e.signIn(email, pw), newFormClient(e)
			c.signIn(email, pw)
			var ended struct {
				N int `json:"sessions_ended"`
			}
			e.call("DELETE", "/api/v1/me/sessions", a, nil, 200, &ended)
			if ended.N != 2 || c.signedIn() {
				t.Fatalf("ended %d, cookie alive %v", ended.N, c.signedIn())
			}
			e.problem("GET", "/api/v1/me", a, nil, 401)
		})
	}
}

// TestChangePasswordAndAddress: both need the current password; a new
// password ends the other sessions (this one stays); a new address is
// verified by a link before it replaces the old one, which gets a notice.
func TestChangePasswordAndAddress(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newMailEnv(t, b, api.Config{SignInLimit: -1}, mp)
			email, pw, pw2 := address("ancienne"), "premier mot de passe", "deuxième mot de passe"
			e.account(civic.RoleCitizen, email, pw)
			other := e.signIn(email, pw)
			f := newFormClient(e)
			f.signIn(email, pw)
			resp, html := f.get("/compte/securite")
			wantPage(t, "security page", resp, html, 200, `<label for="mdp-actuel">Mot de passe actuel</label>`, `<label for="nouvelle-adresse">`)
			csrf := csrfInput.FindStringSubmatch(html)[1]

			resp, html = f.post("/compte/securite/mot-de-passe", url.Values{"csrf": {csrf}, "current_password": {"pas le bon"}, "new_password": {pw2}, "confirmation": {pw2}})
			wantPage(t, "wrong current", resp, html, 400, "Erreur : Mot de passe actuel incorrect.")
			if !regexp.MustCompile(`id="mdp-actuel"[^>]*aria-invalid="true"[^>]*autofocus`).MatchString(html) {
				t.Error("the current password field is not marked")
			}
			resp, html = f.post("/compte/securite/mot-de-passe", url.Values{"csrf": {csrf}, "current_password": {pw}, "new_password": {pw2}, "confirmation": {pw}})
			wantPage(t, "confirmation differs", resp, html, 400, "Les deux mots de passe saisis sont différents.")
			resp, _ = f.post("/compte/securite/mot-de-passe", url.Values{"current_password": {pw}, "new_password": {pw2}, "confirmation": {pw2}})
			if resp.StatusCode != 403 {
				t.Fatalf("without csrf: %d", resp.StatusCode)
			}
			if pr := e.problem("PUT", "/api/v1/me/password", other, map[string]any{"current_password": "pas le bon", "new_password": pw2}, 400); pr["field"] != "current_password" {
				t.Fatalf("JSON wrong current: %v", pr)
			}
			e.call("GET", "/api/v1/me", other, nil, 200, nil) // nothing changed

			resp, _ = f.post("/compte/securite/mot-de-passe", url.Values{"csrf": {csrf}, "current_password": {pw}, "new_password": {pw2}, "confirmation": {pw2}})
			if resp.StatusCode != 303 {
				t.Fatalf("change: %d", resp.StatusCode)
			}
			resp, html = f.get("/compte/securite")
			wantPage(t, "after change", resp, html, 200, "Votre mot de passe est changé")
			e.problem("GET", "/api/v1/me", other, nil, 401) // the other session ended
			if !f.signedIn() {
				t.Fatal("the session that changed the password ended")
			}
			e.problem("POST", "/api/v1/auth/signin", "", map[string]any{"email": email, "password": pw}, 401)
			mp.WaitMail(t, email, "Votre mot de passe a été changé", 30*time.Second)

			// The address.
			taken, next := address("prise"), address("nouvelle")
			e.account(civic.RoleCitizen, taken, pw)
			resp, html = f.post("/compte/securite/adresse", url.Values{"csrf": {csrf}, "email": {next}, "password": {pw}})
			wantPage(t, "wrong password", resp, html, 400, "Mot de passe actuel incorrect.", `value="`+next+`"`)
			resp, html = f.post("/compte/securite/adresse", url.Values{"csrf": {csrf}, "email": {taken}, "password": {pw2}})
			wantPage(t, "taken", resp, html, 409, "Un compte existe déjà avec cette adresse")
			resp, html = f.post("/compte/securite/adresse", url.Values{"csrf": {csrf}, "email": {"pas une adresse"}, "password": {pw2}})
			wantPage(t, "invalid", resp, html, 400, "Adresse e-mail invalide")
			resp, _ = f.post("/compte/securite/adresse", url.Values{"csrf": {csrf}, "email": {next}, "password": {pw2}})
			if resp.StatusCode != 303 {
				t.Fatalf("address change: %d", resp.StatusCode)
			}
			notice := mp.WaitMail(t, email, "Changement d'adresse e-mail demandé", 30*time.Second)
			if !strings.Contains(notice.Text, "n…@example.fr") || strings.Contains(notice.Text, next) || !strings.Contains(notice.Text, "/compte/securite") {
				t.Errorf("notice:\n%s", notice.Text)
			}
			m := mp.WaitMail(t, next, "Confirmez votre nouvelle adresse", 30*time.Second)
			// Until the link is followed, the old address is the account's.
			if u := e.userByEmail(email); u.Email != email {
				t.Fatalf("address changed before confirmation: %s", u.Email)
			}
			later := e.signIn(email, pw2)
			g := newFormClient(e)
			tok := tokenIn(t, m, "/verification")
			resp, html = g.get("/verification?jeton=" + tok)
			wantPage(t, "change link page", resp, html, 200, "Confirmer votre nouvelle adresse e-mail", next, "Confirmer ma nouvelle adresse")
			resp, _ = g.post("/verification", url.Values{"jeton": {tok}})
			if resp.StatusCode != 303 {
				t.Fatalf("confirm change: %d", resp.StatusCode)
			}
			u := e.userByEmail(next)
			if u.EmailVerified == nil {
				t.Fatal("new address not verified")
			}
			if _, err := e.st.UserByEmail(context.Background(), email); civic.ErrorCode(err) != civic.ENOTFOUND {
				t.Fatalf("old address still an account: %v", err)
			}
			e.problem("GET", "/api/v1/me", later, nil, 401) // sessions ended
			if f.signedIn() {
				t.Fatal("a session survived the address change")
			}
			e.signIn(next, pw2)
			e.problem("POST", "/api/v1/auth/signin", "", map[string]any{"email": email, "password": pw2}, 401)
			if pr := e.problem("POST", "/api/v1/auth/verify", "", map[string]any{"token": tok}, 400); pr["reason"] != civic.TokenUsed {
				t.Fatalf("reused change link: %v", pr)
			}
		})
	}
}

// TestSMTPDownAtSignUp: with the SMTP relay down, sign-up answers at once
// (the mail waits in the outbox), failures are counted, and the mail
// arrives once the relay is back.
func TestSMTPDownAtSignUp(t *testing.T) {
	mp := testenv.StartMailpit(t)
	e := newMailEnv(t, sqltest.SQLite(t), api.Config{}, mp)
	mp.Stop(t)
	email, form := address("panne"), address("panne-form")
	start := time.Now()
	e.call("POST", "/api/v1/auth/signup", "", map[string]any{"email": email, "name": "Panne", "password": "mot de passe en panne"}, 201, nil)
	if resp, _ := newFormClient(e).post("/inscription", url.Values{"name": {"Panne"}, "email": {form}, "password": {"mot de passe en panne"}}); resp.StatusCode != 303 {
		t.Fatalf("form sign-up: %d", resp.StatusCode)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("sign-ups took %s with SMTP down", d)
	}
	testenv.Eventually(t, 30*time.Second, func() bool { return e.metric(`smartdeal_api_mail_failures_total{kind="verify"}`) >= 2 },
		"no delivery failure counted")
	if n := e.pending(); n != 2 {
		t.Fatalf("%d mails pending, want 2", n)
	}
	mp.Start(t)
	for _, to := range []string{email, form} {
		m := mp.WaitMail(t, to, "Confirmez votre adresse e-mail", 30*time.Second)
		tok := tokenIn(t, m, "/verification")
		e.call("POST", "/api/v1/auth/verify", "", map[string]any{"token": tok}, 200, nil)
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return e.pending() == 0 }, "mail left in the outbox")
	if n := e.metric(`smartdeal_api_mail_sent_total{kind="verify"}`); n != 2 {
		t.Fatalf("sent %v, want 2", n)
	}
}

// testVerifier is an operator's stronger check, as a Verifier plugs in.
type testVerifier struct{}

func (testVerifier) Method() string                { return "franceconnect-essai" }
func (testVerifier) Label() string                 { return "FranceConnect (essai)" }
func (testVerifier) Level() civic.Assurance        { return civic.AssuranceStrong }
func (testVerifier) StartURL(u *civic.User) string { return "/franceconnect/debut?compte=" + u.ID }

// TestIdentityAssurance: supports may require a level above the verified
// address (api.support_assurance: 2); an administrator records a check
// made by other means, a Verifier its own; comments keep needing only a
// verified address.
func TestIdentityAssurance(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			cfg := api.Config{Accounts: api.AccountConfig{SupportAssurance: civic.AssuranceStrong}}
			e := newEnv(t, b, nil, cfg, func(d *api.Deps) { d.Verifiers = []api.Verifier{testVerifier{}} })
			_, author := e.user(civic.RoleCitizen)
			p := e.idea(author, 1000, true)
			u, tok := e.user(civic.RoleCitizen)
			pr := e.problem("POST", "/api/v1/ideas/"+p.ID+"/vote", tok, nil, 403)
			if pr["code"] != civic.EASSURANCE || pr["assurance"] != float64(1) || pr["assurance_required"] != float64(2) {
				t.Fatalf("vote at level 1: %v", pr)
			}
			e.call("POST", "/api/v1/ideas/"+p.ID+"/comments", tok, map[string]any{"body": "Bonne idée."}, 201, nil)

			e.problem("PUT", "/api/v1/users/"+u.ID+"/assurance", e.admin, map[string]any{"level": 2}, 400) // how?
			e.problem("PUT", "/api/v1/users/"+u.ID+"/assurance", e.admin, map[string]any{"level": 9, "method": "mairie"}, 400)
			e.problem("PUT", "/api/v1/users/"+u.ID+"/assurance", tok, map[string]any{"level": 2, "method": "moi"}, 403)
			e.call("PUT", "/api/v1/users/"+u.ID+"/assurance", e.admin, map[string]any{"level": 2, "method": "justificatif de domicile vu en mairie"}, 204, nil)
			e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", tok, nil, 200, nil)
			var me civic.User
			e.call("GET", "/api/v1/me", tok, nil, 200, &me)
			if me.Assurance != 2 || me.AssuranceBy != "justificatif de domicile vu en mairie" {
				t.Fatalf("me %+v", me)
			}
			audit, err := e.st.AuditLog(context.Background(), 100)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, a := range audit {
				found = found || (a.Action == "account.assurance" && a.Target == u.ID)
			}
			if !found {
				t.Fatal("assurance change not audited")
			}

			// A Verifier: offered on the security page, then granting.
			email, pw := address("fc"), "mot de passe FranceConnect"
			v := e.account(civic.RoleCitizen, email, pw)
			f := newFormClient(e)
			f.signIn(email, pw)
			resp, html := f.get("/idees/" + p.ID)
			wantPage(t, "level 1 page", resp, html, 200, "Le soutien demande une vérification d'identité renforcée")
			resp, html = f.get("/compte/securite")
			wantPage(t, "security page", resp, html, 200, "Vérifier mon identité avec FranceConnect (essai)", `href="/franceconnect/debut?compte=`+v.ID+`"`,
				"le soutien des propositions demande le niveau 2")
			if err := e.srv.GrantAssurance(context.Background(), v.ID, testVerifier{}); err != nil {
				t.Fatal(err)
			}
			resp, html = f.get("/compte/securite")
			wantPage(t, "after the check", resp, html, 200, "renforcée, niveau 2 (franceconnect-essai)")
			if strings.Contains(html, "Vérifier mon identité avec") {
				t.Error("the check is still offered once done")
			}
			csrf := csrfInput.FindStringSubmatch(html)[1]
			if resp, _ := f.post("/idees/"+p.ID+"/soutien", url.Values{"csrf": {csrf}, "action": {"soutenir"}}); resp.StatusCode != 303 {
				t.Fatalf("support at level 2: %d", resp.StatusCode)
			}
			if n := e.votes(p.ID); n != 2 {
				t.Fatalf("votes %d", n)
			}
		})
	}
}

// TestSecurityPageAccess: anonymous visitors are sent to sign in and come
// back; bearer tokens do not get the page; forms need the CSRF field.
func TestSecurityPageAccess(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	f := newFormClient(e)
	resp, _ := f.get("/compte/securite")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/connexion?retour=%2Fcompte%2Fsecurite" {
		t.Fatalf("anonymous: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, html := f.post("/compte/securite/mot-de-passe", url.Values{"current_password": {"x"}})
	wantPage(t, "anonymous post", resp, html, 401, `id="connexion"`)
	_, tok := e.user(civic.RoleCitizen)
	resp, _ = e.send(e.request("GET", "/compte/securite", tok, nil, "Accept", "text/html"))
	if resp.StatusCode != 303 {
		t.Fatalf("bearer on the page: %d", resp.StatusCode)
	}
	email, pw := address("acces"), "mot de passe d'accès"
	e.account(civic.RoleCitizen, email, pw)
	resp, _ = f.post("/connexion", url.Values{"email": {email}, "password": {pw}, "retour": {"/compte/securite"}})
	if resp.Header.Get("Location") != "/compte/securite" {
		t.Fatalf("sign-in returns to %q", resp.Header.Get("Location"))
	}
	for _, path := range []string{"/compte/securite/verification", "/compte/securite/adresse", "/compte/securite/deconnexion-partout"} {
		resp, html := f.post(path, url.Values{"csrf": {"forged"}})
		wantPage(t, path, resp, html, 403, "Erreur :")
	}
	if !f.signedIn() {
		t.Fatal("a forged form ended the session")
	}
	// The sign-in form offers the reset.
	_, html = newFormClient(e).get("/connexion")
	if !strings.Contains(html, `href="/mot-de-passe-oublie"`) {
		t.Error("no forgotten-password link on the sign-in form")
	}
}
