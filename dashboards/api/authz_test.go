package api_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/dashboards/web"
)

// publicForms are the page forms anyone may post.
var publicForms = map[string]bool{"/connexion": true, "/inscription": true, "/verification": true, "/mot-de-passe-oublie": true, "/mot-de-passe/nouveau": true,
	"/desabonnement/:token": true}

func fillPath(p string) string {
	r := strings.NewReplacer(":id", "x1", ":site", "s1", ":device", "d1", ":quantity", "q")
	return r.Replace(p)
}

// TestAuthorization walks the route table: every write endpoint refuses
// anonymous callers (401) and callers without an allowed role (403), with a
// problem+json body; cookie sessions need the CSRF token.
func TestAuthorization(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	tokens := map[civic.Role]string{civic.RoleAdmin: e.admin}
	for _, r := range civic.Roles {
		if r != civic.RoleAdmin {
			_, tokens[r] = e.user(r)
		}
	}
	writes := 0
	for _, rt := range e.srv.Routes() {
		path := fillPath(rt.Path)
		if rt.Method != "GET" {
			writes++
			// Signing in and up, and following the links of account mails
			// (verification, password reset, the unsubscribe link of status
			// e-mails: its signed token names the account), are the only
			// public writes (JSON and page forms).
			if rt.Access == web.Public && !strings.HasPrefix(rt.Path, "/api/v1/auth/") && !publicForms[rt.Path] {
				t.Errorf("%s %s is a public write", rt.Method, rt.Path)
			}
		}
		if rt.Access == web.Public {
			continue
		}
		t.Run(rt.Method+" "+rt.Path, func(t *testing.T) {
			p := e.problem(rt.Method, path, "", map[string]any{}, 401)
			if p["code"] != civic.EUNAUTHORIZED {
				t.Fatalf("anonymous: %v", p)
			}
			e.problem(rt.Method, path, "not-a-token", map[string]any{}, 401)
			if len(rt.Roles) == 0 {
				return
			}
			for _, role := range civic.Roles {
				if role.In(rt.Roles...) {
					continue
				}
				p := e.problem(rt.Method, path, tokens[role], map[string]any{}, 403)
				if p["code"] != civic.EFORBIDDEN {
					t.Fatalf("%s: %v", role, p)
				}
			}
		})
	}
	if writes < 20 {
		t.Fatalf("only %d write routes found", writes)
	}
	// Nothing was created by the refused calls.
	var ideas []civic.Proposal
	e.call("GET", "/api/v1/ideas", "", nil, 200, &ideas)
	var sites []civic.Site
	e.call("GET", "/api/v1/sites", "", nil, 200, &sites)
	if len(ideas)+len(sites) != 0 {
		t.Fatalf("refused calls changed data: %d ideas, %d sites", len(ideas), len(sites))
	}
}

func TestCookieSessionCSRF(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	e.call("POST", "/api/v1/auth/signup", "", map[string]any{"email": "paul@example.fr", "name": "Paul", "password": "a long enough password"}, 201, nil)
	e.verify("paul@example.fr")
	resp, body := e.do("POST", "/api/v1/auth/signin", "", map[string]any{"email": "paul@example.fr", "password": "a long enough password", "cookie": true})
	if resp.StatusCode != 200 {
		t.Fatalf("signin: %d %s", resp.StatusCode, body)
	}
	sc := resp.Header.Get("Set-Cookie")
	if !strings.Contains(sc, api.SessionCookie+"=") || !strings.Contains(strings.ToLower(sc), "httponly") || !strings.Contains(strings.ToLower(sc), "samesite=lax") {
		t.Fatalf("cookie = %q", sc)
	}
	if strings.Contains(string(body), `"token"`) {
		t.Fatalf("cookie sign-in also returned a bearer token: %s", body)
	}
	var csrf struct {
		CSRF string `json:"csrf_token"`
	}
	if err := jsonUnmarshal(body, &csrf); err != nil || csrf.CSRF == "" {
		t.Fatalf("csrf token: %s", body)
	}
	cookie := strings.Split(sc, ";")[0]
	idea := map[string]any{"campaign_id": e.campaign, "theme_id": "securite", "title": "Éclairage public", "body": "Plus de lampadaires."}
	// Reads work with the cookie alone.
	req := e.request("GET", "/api/v1/me", "", nil, "Cookie", cookie)
	if resp, b := e.send(req); resp.StatusCode != 200 {
		t.Fatalf("me by cookie: %d %s", resp.StatusCode, b)
	}
	// Writes need the CSRF header.
	for _, hdr := range [][]string{{"Cookie", cookie}, {"Cookie", cookie, api.CSRFHeader, "forged"}} {
		resp, b := e.send(e.request("POST", "/api/v1/ideas", "", idea, hdr...))
		if p := checkProblem(t, "csrf", resp, b, 403); p["code"] != civic.ECSRF {
			t.Fatalf("csrf problem %v", p)
		}
	}
	resp, b := e.send(e.request("POST", "/api/v1/ideas", "", idea, "Cookie", cookie, api.CSRFHeader, csrf.CSRF))
	if resp.StatusCode != 201 {
		t.Fatalf("with csrf: %d %s", resp.StatusCode, b)
	}
	// A cookie token is not accepted as a bearer token.
	tok := strings.TrimPrefix(cookie, api.SessionCookie+"=")
	e.problem("GET", "/api/v1/me", tok, nil, 401)
}

// serve runs the app on a real loopback listener (for concurrency and SSE).
func serve(t testing.TB, e *env) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.app.Listener(ln) }()
	t.Cleanup(func() {
		// Server.Shutdown ends live streams first: a page's EventSource
		// would otherwise hold the server open until its next keep-alive.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.srv.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()
}

// TestConcurrentVotes: 100 concurrent vote requests from one account count
// once; 100 from 100 accounts count 100 — on SQLite and PostgreSQL.
func TestConcurrentVotes(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{VoteLimit: 1000})
			base := serve(t, e)
			_, author := e.user(civic.RoleCitizen)
			p := e.idea(author, 100, true)
			tokens := make([]string, 100)
			for i := range tokens {
				_, tokens[i] = e.user(civic.RoleCitizen)
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
			run := func(tok func(i int) string) {
				var wg sync.WaitGroup
				errs := make(chan error, 100)
				start := make(chan struct{})
				for i := range 100 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						req, _ := http.NewRequest("POST", base+"/api/v1/ideas/"+p.ID+"/vote", nil)
						req.Header.Set("Authorization", "Bearer "+tok(i))
						resp, err := client.Do(req)
						if err != nil {
							errs <- err
							return
						}
						resp.Body.Close()
						if resp.StatusCode != 200 {
							errs <- fmt.Errorf("status %d", resp.StatusCode)
						}
					}()
				}
				close(start)
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatalf("vote: %v", err)
				}
			}
			run(func(int) string { return tokens[0] })
			var got civic.Proposal
			e.call("GET", "/api/v1/ideas/"+p.ID, "", nil, 200, &got)
			if got.Votes != 1 {
				t.Fatalf("100 concurrent votes of one account counted %d", got.Votes)
			}
			run(func(i int) string { return tokens[i] })
			e.call("GET", "/api/v1/ideas/"+p.ID, "", nil, 200, &got)
			if got.Votes != 100 {
				t.Fatalf("100 accounts voting concurrently counted %d", got.Votes)
			}
		})
	}
}

// TestVoteRateLimit: past the per-user limit, votes get 429 problem+json.
func TestVoteRateLimit(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{VoteLimit: 3})
	_, tok := e.user(civic.RoleCitizen)
	p := e.idea(tok, 1, true)
	for range 3 {
		e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", tok, nil, 200, nil)
	}
	if pr := e.problem("POST", "/api/v1/ideas/"+p.ID+"/vote", tok, nil, 429); pr["code"] != civic.ETOOMANY {
		t.Fatalf("%v", pr)
	}
	_, other := e.user(civic.RoleCitizen)
	e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", other, nil, 200, nil)
}
