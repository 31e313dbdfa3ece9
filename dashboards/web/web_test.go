package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// sessions is a store of two sessions: a bearer token of a citizen and a
// browser cookie of an administrator, with their CSRF token.
type sessions struct{ touched int }

func (s *sessions) SessionUser(_ context.Context, hash string, _ time.Time) (*civic.Session, *civic.User, error) {
	now := time.Now()
	switch hash {
	case web.HashToken("citizen-token"):
		return &civic.Session{TokenHash: hash, Kind: civic.SessionBearer},
			&civic.User{ID: "u1", Role: civic.RoleCitizen, EmailVerified: &now}, nil
	case web.HashToken("admin-cookie"):
		return &civic.Session{TokenHash: hash, Kind: civic.SessionCookie, CSRF: "the-csrf"},
			&civic.User{ID: "u2", Role: civic.RoleAdmin}, nil
	}
	return nil, nil, civic.Errorf(civic.EUNAUTHORIZED, "unknown session")
}

func (s *sessions) TouchSession(context.Context, string, time.Time) error { s.touched++; return nil }

// formFailer answers a refused form post with a page of its own.
type formFailer struct{}

func (formFailer) FormError(c *fiber.Ctx, err error) error {
	return c.Status(web.ProblemStatus(web.ToCivic(err).Code)).SendString("page: " + web.ToCivic(err).Code)
}

// kitApp mounts a few routes on the kit, as the server does.
func kitApp(t *testing.T, limits web.Limits) (*fiber.App, *sessions) {
	t.Helper()
	st := &sessions{}
	k, err := web.New(web.Config{BodyLimit: 1024, UploadLimit: 4096, Limits: limits}, web.Deps{Sessions: st})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{ErrorHandler: k.ErrorHandler, StreamRequestBody: true, DisableStartupMessage: true})
	ok := func(c *fiber.Ctx) error { return c.SendString("ok " + web.Viewer(c).ID) }
	k.Mount(app, []*web.Route{
		{Method: "GET", Path: "/public", Tag: "t", Handler: func(c *fiber.Ctx) error { return c.SendString("public") }},
		{Method: "POST", Path: "/admins", Tag: "t", Access: web.SignedIn, Roles: web.Admins, Handler: ok},
		{Method: "POST", Path: "/verified", Tag: "t", Access: web.SignedIn, Assurance: civic.AssuranceEmail, Handler: ok},
		{Method: "POST", Path: "/form", Tag: "t", Access: web.SignedIn, Form: formFailer{}, Handler: ok},
		{Method: "POST", Path: "/vote", Tag: "t", Access: web.SignedIn, Limit: "vote", Handler: ok},
	})
	return app, st
}

func call(t *testing.T, app *fiber.App, req *http.Request) (int, string) {
	t.Helper()
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestGuard: the kit's guard, alone, as every route of the server gets
// it: anonymous 401, a role missing 403, an unverified account 403
// email_unverified, a cookie write without its CSRF token 403 (a form may
// put it in the csrf field, and its refusals reach its FormHandler), a
// malformed Authorization header 401 — all as problem+json but the form's.
func TestGuard(t *testing.T) {
	app, st := kitApp(t, web.Limits{VoteLimit: -1, PublicReadLimit: -1, RateWindow: time.Minute})
	bearer := func(method, path, tok string) *http.Request {
		r := httptest.NewRequest(method, path, nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		return r
	}
	cookie := func(path, csrfHeader, body string) *http.Request {
		r := httptest.NewRequest("POST", path, strings.NewReader(body))
		r.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: "admin-cookie"})
		if csrfHeader != "" {
			r.Header.Set(web.CSRFHeader, csrfHeader)
		}
		if body != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return r
	}
	for _, tc := range []struct {
		name string
		req  *http.Request
		want int
		code string // problem code, or the body's start
	}{
		{"public", bearer("GET", "/public", ""), 200, "public"},
		{"anonymous", bearer("POST", "/admins", ""), 401, civic.EUNAUTHORIZED},
		{"bad scheme", func() *http.Request {
			r := bearer("GET", "/public", "")
			r.Header.Set("Authorization", "Basic eDp5")
			return r
		}(), 401, civic.EUNAUTHORIZED},
		{"unknown bearer", bearer("GET", "/public", "nope"), 401, civic.EUNAUTHORIZED},
		{"role missing", bearer("POST", "/admins", "citizen-token"), 403, civic.EFORBIDDEN},
		{"verified citizen", bearer("POST", "/verified", "citizen-token"), 200, "ok u1"},
		{"unverified admin", cookie("/verified", "the-csrf", ""), 403, civic.EUNVERIFIED},
		{"cookie without CSRF", cookie("/admins", "", ""), 403, civic.ECSRF},
		{"cookie, wrong CSRF", cookie("/admins", "other", ""), 403, civic.ECSRF},
		{"cookie with CSRF", cookie("/admins", "the-csrf", ""), 200, "ok u2"},
		{"form, CSRF field", cookie("/form", "", web.CSRFField+"=the-csrf"), 200, "ok u2"},
		{"form, wrong CSRF field", cookie("/form", "", web.CSRFField+"=other"), 403, "page: " + civic.ECSRF},
		{"stale cookie is anonymous", func() *http.Request {
			r := httptest.NewRequest("GET", "/public", nil)
			r.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: "gone"})
			return r
		}(), 200, "public"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, app, tc.req)
			if status != tc.want {
				t.Fatalf("status %d, want %d: %s", status, tc.want, body)
			}
			if status < 400 || strings.HasPrefix(tc.code, "page: ") {
				if !strings.HasPrefix(body, tc.code) {
					t.Fatalf("body %q, want %q", body, tc.code)
				}
				return
			}
			var p map[string]any
			if err := json.Unmarshal([]byte(body), &p); err != nil || p["code"] != tc.code {
				t.Fatalf("problem %s (%v), want code %s", body, err, tc.code)
			}
		})
	}
	if st.touched == 0 {
		t.Error("no session use recorded")
	}
}

// TestLimits: a kind's limit counts per account and refuses past it with
// 429 and Retry-After; a body over the limit is 413 before any handler;
// text that is not UTF-8 is 400.
func TestLimits(t *testing.T) {
	app, _ := kitApp(t, web.Limits{VoteLimit: 2, RateWindow: time.Minute, PublicReadLimit: -1})
	vote := func() *http.Response {
		r := httptest.NewRequest("POST", "/vote", nil)
		r.Header.Set("Authorization", "Bearer citizen-token")
		resp, err := app.Test(r, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 2 {
		if resp := vote(); resp.StatusCode != 200 {
			t.Fatalf("vote %d: %d", i, resp.StatusCode)
		}
	}
	if resp := vote(); resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third vote: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	big := httptest.NewRequest("POST", "/admins", strings.NewReader(strings.Repeat("x", 2048)))
	big.Header.Set("Authorization", "Bearer citizen-token")
	if status, body := call(t, app, big); status != 413 || !strings.Contains(body, civic.ETOOLARGE) {
		t.Fatalf("body over the limit: %d %s", status, body)
	}
	bad := httptest.NewRequest("GET", "/public?q=%ff", nil)
	if status, body := call(t, app, bad); status != 400 || !strings.Contains(body, civic.EINVALID) {
		t.Fatalf("query not UTF-8: %d %s", status, body)
	}
}

// TestParseTrustedProxies: addresses and prefixes are accepted, anything
// else is refused with the config key.
func TestParseTrustedProxies(t *testing.T) {
	if _, err := web.ParseTrustedProxies([]string{"10.0.0.1", "192.168.0.0/16", " ", "2001:db8::/32"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"10.0.0", "example.org", "10.0.0.0/33", "::1/129"} {
		if _, err := web.ParseTrustedProxies([]string{bad}); err == nil || !strings.Contains(err.Error(), "api.trusted_proxies") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestRouteLimitKind: public GET routes count as reads, but the operations
// ones; a route's own limit wins.
func TestRouteLimitKind(t *testing.T) {
	for _, tc := range []struct {
		rt   web.Route
		want string
	}{
		{web.Route{Method: "GET", Tag: "ideas"}, "read"},
		{web.Route{Method: "GET", Tag: "ops"}, ""},
		{web.Route{Method: "GET", Tag: "ideas", Access: web.SignedIn}, ""},
		{web.Route{Method: "POST", Tag: "ideas"}, ""},
		{web.Route{Method: "POST", Tag: "auth", Limit: "signin"}, "signin"},
	} {
		if got := tc.rt.LimitKind(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.rt, got, tc.want)
		}
	}
}
