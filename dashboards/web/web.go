// Package web is the HTTP machinery the JSON API (dashboards/api) and the
// pages (dashboards/pages) share: the Route type and its guard (access,
// roles, assurance, CSRF, rate-limit kind, streamed body, form flag), the
// authentication middleware (sessions, bearer tokens) and the current-user
// accessor, the rate limiters and the per-account sign-in throttle, the body
// guard, client addresses behind trusted proxies, the UTF-8 guard, the
// problem+json mapping, the metrics middleware and the OpenAPI document
// generated from a route list. It sits below both: the pages need the same
// authentication and guards as the JSON routes, and cannot import the API,
// which mounts them.
package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// Access says who may call a route.
type Access int

// Access levels; SignedIn routes may further require Roles.
const (
	Public Access = iota
	SignedIn
)

// Param documents a query or path parameter.
type Param struct {
	Name, In, Type, Description string
	Required                    bool
}

// Q is a query parameter.
func Q(name, typ, desc string) Param {
	return Param{Name: name, In: "query", Type: typ, Description: desc}
}

// FormHandler answers a browser form post's refusal with a French page
// (dashboards/pages implements it); the route's guard also accepts the CSRF
// token in the CSRFField form field.
type FormHandler interface {
	FormError(c *fiber.Ctx, err error) error
}

// Route is one entry of the route table: it is registered on the app, guarded
// by its Access/Roles and described in the OpenAPI document.
type Route struct {
	Method, Path string // Fiber path, e.g. /api/v1/ideas/:id
	Tag, Summary string
	Access       Access
	Roles        []civic.Role // with SignedIn: the roles allowed (nil: any)
	Body         any          // request body example (schema by reflection)
	Response     any          // 2xx JSON body example
	Status       int          // success status, default 200
	Produces     string       // content type when not JSON
	Params       []Param
	OperationID  string      // overrides the id derived from the path: a page named like a JSON route (/missions and /api/v1/missions) would share it
	Limit        string      // "signup", "signin", "vote", "contribution": one counter per kind, shared by its routes
	Stream       bool        // the handler reads the body itself, after the guard (bodyguard.go)
	Form         FormHandler // posted by an HTML form (dashboards/pages)
	Handler      fiber.Handler

	// Assurance is, with SignedIn, the least identity assurance level of the
	// caller's account (civic.AssuranceEmail: a verified address; 0: any).
	Assurance civic.Assurance
}

// LimitKind is the rate limit a route counts in: its own, or "read" for
// the public GET routes but the operations ones (probes, the OpenAPI
// document).
func (rt *Route) LimitKind() string {
	if rt.Limit == "" && rt.Method == fiber.MethodGet && rt.Access == Public && rt.Tag != "ops" {
		return "read"
	}
	return rt.Limit
}

// SessionCookie is the name of the browser session cookie.
const SessionCookie = "sd_session"

// CSRFHeader carries the CSRF token on cookie-authenticated writes.
const CSRFHeader = "X-CSRF-Token"

// CSRFField is the form field of the CSRF token (HTML forms cannot set headers).
const CSRFField = "csrf"

// Sessions is what authentication needs from the store.
type Sessions interface {
	SessionUser(ctx context.Context, tokenHash string, now time.Time) (*civic.Session, *civic.User, error)
	TouchSession(ctx context.Context, tokenHash string, now time.Time) error
}

// Limits are the rate limits per kind and the per-account sign-in throttle
// (api.Config's fields of the same names, validated there).
type Limits struct {
	SignUpLimit, SignInLimit, VoteLimit, ContributionLimit, PublicReadLimit int
	SignUpNetworkLimit, SignUpTotalLimit                                    int
	SignUpWindow, RateWindow                                                time.Duration
	SignInAccountFree                                                       int
	SignInAccountDelay, SignInAccountMaxDelay                               time.Duration
}

// Config tunes the kit; api.Config holds the values.
type Config struct {
	BodyLimit   int // every route but the streamed ones
	UploadLimit int // the streamed routes (flight logs)
	Limits
	TrustedProxies []string
	ProxyHeader    string
	CookieSecure   bool
}

// Deps are the kit's collaborators.
type Deps struct {
	Sessions    Sessions
	RateLimiter RateLimiter // shared limits; AccountThrottle too when it implements it
	Logger      *slog.Logger
	Registry    prometheus.Registerer
	Now         func() time.Time
}

// Kit is the shared machinery of one server: its middleware, its limiters
// and its routes once mounted.
type Kit struct {
	cfg       Config
	sessions  Sessions
	log       *slog.Logger
	now       func() time.Time
	proxies   trustedProxies
	rate      RateLimiter
	readRate  *MemoryLimiter // public reads, per process
	throttle  AccountThrottle
	metrics   *Metrics
	routes    []*Route
	limiters  map[string]fiber.Handler
	streams   []pathPattern // routes whose handler reads the body (bodyguard.go)
	formPosts []pathPattern // routes posted by HTML forms
	// PageError renders the French error page of a failed page view
	// (dashboards/pages sets it); nil or failing, problem+json.
	PageError func(c *fiber.Ctx, status int, code string) error
}

// New builds the kit.
func New(cfg Config, deps Deps) (*Kit, error) {
	k := &Kit{cfg: cfg, sessions: deps.Sessions, log: deps.Logger, now: deps.Now, rate: deps.RateLimiter, readRate: NewMemoryLimiter()}
	if k.log == nil {
		k.log = slog.Default()
	}
	if k.now == nil {
		k.now = time.Now
	}
	if k.rate == nil {
		k.rate = NewMemoryLimiter()
	}
	if k.cfg.ProxyHeader == "" {
		k.cfg.ProxyHeader = fiber.HeaderXForwardedFor
	}
	k.throttle, _ = k.rate.(AccountThrottle)
	if k.throttle == nil {
		k.throttle = NewMemoryLimiter() // a limiter without one: the throttle stays in this process
	}
	var err error
	if k.proxies, err = ParseTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	if k.metrics, err = newMetrics(deps.Registry); err != nil {
		return nil, err
	}
	return k, nil
}

// Metrics are the kit's Prometheus collectors (the handlers count votes and
// live streams in them).
func (k *Kit) Metrics() *Metrics { return k.metrics }

// Routes are the mounted routes.
func (k *Kit) Routes() []*Route { return k.routes }

// Mount registers the middleware and every route on app. One limiter per
// kind: the JSON and form routes of a kind (sign-in and /connexion, vote
// and /idees/:id/soutien) share its counters.
func (k *Kit) Mount(app *fiber.App, routes []*Route) {
	k.routes = routes
	k.streams = k.patterns(func(rt *Route) bool { return rt.Stream })
	k.formPosts = k.patterns(func(rt *Route) bool { return rt.Form != nil && rt.Method != fiber.MethodGet })
	app.Server().FormValueFunc = formValue // form fields from the body only
	app.Use(k.metrics.middleware)
	app.Use(k.bodyGuard)
	app.Use(k.authenticate)
	app.Use(k.bodyRead)
	app.Use(k.utf8Guard)
	k.limiters = map[string]fiber.Handler{}
	for _, rt := range routes {
		hs := []fiber.Handler{guard(rt)}
		l, ok := k.limiters[rt.LimitKind()]
		if !ok {
			l = k.limiter(rt.LimitKind())
			k.limiters[rt.LimitKind()] = l
		}
		if l != nil {
			hs = append(hs, l)
		}
		hs = append(hs, rt.Handler)
		if rt.Form != nil {
			hs = append([]fiber.Handler{formErrors(rt.Form)}, hs...)
		}
		app.Add(rt.Method, rt.Path, hs...)
	}
}

// formErrors wraps a form route's whole chain (body limit, guard, rate limit,
// handler) so that every refusal reaches the visitor as a French page.
func formErrors(f FormHandler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := c.Next()
		if err == nil || !FromForm(c) {
			return err
		}
		return f.FormError(c, err)
	}
}

// FromForm tells a browser form post (or a browser navigation) from an API
// client: API clients keep getting problem+json from these routes.
func FromForm(c *fiber.Ctx) bool {
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	return strings.HasPrefix(ct, fiber.MIMEApplicationForm) || strings.HasPrefix(ct, fiber.MIMEMultipartForm) ||
		strings.Contains(c.Get(fiber.HeaderAccept), fiber.MIMETextHTML)
}

// RandomToken is 32 random bytes, base64url: session tokens, CSRF tokens,
// page nonces.
func RandomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is what the store keeps of a token.
func HashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// Principal is the authenticated caller.
type Principal struct {
	User    *civic.User
	Session *civic.Session
}

const localsKey = "smartdeal.principal"

// authenticate resolves the caller from "Authorization: Bearer …" or the
// session cookie. Anonymous callers pass with no principal; an invalid bearer
// token is refused outright.
func (k *Kit) authenticate(c *fiber.Ctx) error {
	tok, fromCookie := "", false
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, rest, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || rest == "" {
			return civic.Errorf(civic.EUNAUTHORIZED, "Authorization must be \"Bearer <token>\"")
		}
		tok = strings.TrimSpace(rest)
	} else if v := c.Cookies(SessionCookie); v != "" {
		tok, fromCookie = v, true
	}
	if tok == "" {
		return c.Next()
	}
	se, u, err := k.sessions.SessionUser(c.UserContext(), HashToken(tok), k.now())
	if err != nil {
		if civic.ErrorCode(err) == civic.EUNAUTHORIZED && fromCookie {
			return c.Next() // a stale cookie is just anonymous
		}
		return err
	}
	if fromCookie != (se.Kind == civic.SessionCookie) {
		return civic.Errorf(civic.EUNAUTHORIZED, "token used through the wrong channel")
	}
	c.Locals(localsKey, &Principal{User: u, Session: se})
	k.touchSession(c, se)
	return c.Next()
}

// touchSession records the session's use at most once per
// civic.SessionTouchEvery; a failure only loses that record.
func (k *Kit) touchSession(c *fiber.Ctx, se *civic.Session) {
	now := k.now()
	if se.LastUsed != nil && now.Sub(*se.LastUsed) < civic.SessionTouchEvery {
		return
	}
	if err := k.sessions.TouchSession(c.UserContext(), se.TokenHash, now); err != nil {
		k.log.Debug("session last use not recorded", "err", err)
	}
}

// Caller is the authenticated caller, nil for anonymous ones.
func Caller(c *fiber.Ctx) *Principal {
	p, _ := c.Locals(localsKey).(*Principal)
	return p
}

// Viewer is the caller's account, nil for anonymous callers.
func Viewer(c *fiber.Ctx) *civic.User {
	if p := Caller(c); p != nil {
		return p.User
	}
	return nil
}

// guard enforces a route's access rule: anonymous callers of protected routes
// get 401, callers without one of the roles 403, cookie-authenticated
// writes need the session's CSRF token in X-CSRF-Token (or, on the routes
// posted by HTML forms, in the csrf form field), and accounts below the
// route's assurance level 403 email_unverified or assurance_required.
func guard(rt *Route) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if rt.Access == Public {
			return c.Next()
		}
		p := Caller(c)
		if p == nil {
			return civic.Errorf(civic.EUNAUTHORIZED, "sign in first")
		}
		if len(rt.Roles) > 0 && !p.User.Role.In(rt.Roles...) {
			return civic.Errorf(civic.EFORBIDDEN, "this action needs one of the roles %v", rt.Roles)
		}
		if p.Session.Kind == civic.SessionCookie && c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
			got := c.Get(CSRFHeader)
			if got == "" && rt.Form != nil {
				got = c.FormValue(CSRFField) // HTML forms cannot set headers
			}
			if got == "" && rt.Form != nil && rt.Stream {
				// A streamed form's fields are read after the guard: its
				// token rides in the form's action URL (same-origin pages,
				// Referrer-Policy same-origin).
				got = c.Query(CSRFField)
			}
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.Session.CSRF)) != 1 {
				return civic.Errorf(civic.ECSRF, "missing or wrong %s header", CSRFHeader)
			}
		}
		if err := CheckAssurance(p.User, rt.Assurance); err != nil {
			return err
		}
		return c.Next()
	}
}

// ClearCookie expires a cookie set with Path=/ (Fiber's ClearCookie sends no
// path, so the browser would apply it to the request's directory only).
func (k *Kit) ClearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", Expires: time.Unix(0, 0),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: k.cfg.CookieSecure})
}

// CookieSecure is whether cookies get the Secure flag.
func (k *Kit) CookieSecure() bool { return k.cfg.CookieSecure }

// RateWindow is the window of the per-address limits (form messages say it).
func (k *Kit) RateWindow() time.Duration { return k.cfg.RateWindow }

// UploadLimit is the largest streamed upload in bytes (pages say it).
func (k *Kit) UploadLimit() int { return k.cfg.UploadLimit }

// CheckAssurance refuses an account below the level a route needs.
func CheckAssurance(u *civic.User, need civic.Assurance) error {
	lvl := u.Level()
	if lvl >= need {
		return nil
	}
	extra := map[string]any{"assurance": int(lvl), "assurance_required": int(need)}
	if lvl == civic.AssuranceNone {
		return &civic.Error{Code: civic.EUNVERIFIED, Extra: extra,
			Message: "confirm your e-mail address first: follow the link sent to it (POST /api/v1/me/verification sends a new one)"}
	}
	return &civic.Error{Code: civic.EASSURANCE, Extra: extra,
		Message: fmt.Sprintf("this action needs identity assurance level %d; your account has %d", need, lvl)}
}
