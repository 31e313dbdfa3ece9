// Package api is the SMART Deal platform's HTTP server on Fiber v2: the
// Server (New, Config, Deps), its route table and the JSON handlers, one
// file per resource — accounts, users, campaigns, ideas, votes, comments,
// reviews, missions (flightlog.go: the flight-log upload), sites and devices
// with MQTT credentials, series, links, the live feed (Server-Sent Events),
// open data and the OpenAPI document. Every route, the pages' too
// (dashboards/pages, mounted from Routes()), is declared once in a table
// that registers it, enforces its roles (dashboards/web) and produces the
// OpenAPI 3 document served at /api/v1/openapi.json. The JSON handlers
// decode and answer JSON; what they share with the forms is
// dashboards/actions, what they show is dashboards/app. Errors are
// application/problem+json (RFC 9457, web's mapping).
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/live"
	"github.com/cd06/smartdeal/dashboards/mail"
	"github.com/cd06/smartdeal/dashboards/pages"
	"github.com/cd06/smartdeal/dashboards/pages/legal"
	"github.com/cd06/smartdeal/dashboards/series"
	"github.com/cd06/smartdeal/dashboards/web"
)

// Store is what the API needs from the relational store (sqlstore.Store):
// what its views read (app.Store) and what its handlers write and check.
type Store interface {
	app.Store
	actions.Store // what the workflows shared with the pages read and write
	civic.FieldService
	actions.RegistryStore // sites, devices and their MQTT credentials (registry.go)
	actions.EventStore    // events and registrations (events.go)
	// CommittedEUR sums a campaign's selected, in-progress and realized costs.
	CommittedEUR(ctx context.Context, campaignID string) (int64, error)
	Ping(ctx context.Context) error
	// DeviceStatusHistory is a device's status transitions, newest first (the device page).
	DeviceStatusHistory(ctx context.Context, id string, limit int) ([]civic.DeviceStatusChange, error)
}

// Measurements is what the API needs from InfluxDB (measure.Client): what
// its views read (app.Measurements) and the JSON routes' series.
type Measurements interface {
	app.Measurements
	Series(ctx context.Context, f series.Filter) ([]series.Latest, error)
	Range(ctx context.Context, q series.RangeQuery) (*series.SeriesData, error)
	Ping(ctx context.Context) error
	app.DashboardMeasurements // the dashboard's latest values and ATMO indices
}

// Publisher sends MQTT messages (paho in cmd/api, the embedded broker in the
// all-in-one).
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte, retained bool) error
}

// Mailer sends one e-mail (mail.SMTP, or mail.LogSender without a relay).
type Mailer = actions.Mailer

// Config tunes the API. Zero values take the documented defaults.
type Config struct {
	// BodyLimit is the largest request body in bytes (optional) defaults to 64 KiB.
	BodyLimit int
	// SessionTTL is how long a browser (cookie) sign-in lasts (optional)
	// defaults to 7 days; bearer tokens last Accounts.BearerTTL.
	SessionTTL time.Duration
	// CookieSecure sets the Secure flag on the session cookie (set it behind HTTPS).
	CookieSecure bool
	// Password hashing cost (optional) defaults to argon2id m=19 MiB, t=2, p=1
	// (OWASP minimum).
	Password PasswordParams
	// Rate limits per window (optional): sign-up 5 and sign-in 10 per client
	// address (an IPv6 /64), votes 60 per user, per minute. A negative value
	// disables a limit.
	SignUpLimit, SignInLimit, VoteLimit int
	// Sign-ups are also limited per SignUpWindow (optional) defaults to one
	// hour: SignUpNetworkLimit per network, an IPv4 /24 or an IPv6 /48
	// (optional) defaults to 20, and SignUpTotalLimit for everybody
	// (optional) defaults to 300. Negative disables a limit.
	SignUpNetworkLimit, SignUpTotalLimit int
	SignUpWindow                         time.Duration
	// PublicReadLimit caps the public GET routes (pages, JSON, open data,
	// live streams opened; not /healthz, /readyz and the OpenAPI document)
	// per client address and RateWindow (optional) defaults to 600. Counted
	// in each process's memory. Negative disables it.
	PublicReadLimit int
	// The per-account sign-in throttle (dashboards/web/signin_throttle.go): after
	// SignInAccountFree attempts for one e-mail address (optional) defaults
	// to 5, negative disables it, each further attempt waits a delay that
	// doubles from SignInAccountDelay (optional) defaults to 1s, up to
	// SignInAccountMaxDelay (optional) defaults to 15m.
	SignInAccountFree                         int
	SignInAccountDelay, SignInAccountMaxDelay time.Duration
	// ContributionLimit caps proposals and comments together per account and
	// window (optional) defaults to 10: they fill the moderation queue.
	ContributionLimit int
	// TrustedProxies are the reverse proxies (IP addresses or CIDR prefixes)
	// whose ProxyHeader names the client (optional): empty trusts none and
	// attributes every request to its connection's address.
	TrustedProxies []string
	// ProxyHeader (optional) defaults to X-Forwarded-For.
	ProxyHeader string
	// RateWindow (optional) defaults to one minute.
	RateWindow time.Duration
	// Licence of the open data (optional) defaults to "Licence Ouverte / Open Licence 2.0 (Etalab)".
	Licence string
	// Legal is who publishes, hosts and answers for the legal pages
	// (optional) defaults to DefaultLegal, with placeholders (dashboards/pages/legal).
	Legal legal.Legal
	// Topics is the MQTT topic layout (optional) defaults to smartdeal/v1.
	Topics smartdeal.Topics
	// PageSeriesPoints caps each series of a proposal page (optional) defaults to 500.
	PageSeriesPoints int
	// PageRange is the span of a proposal page's charts (optional) defaults to 7 days.
	PageRange time.Duration
	// MQTTHost is written into device provisioning answers (optional).
	MQTTHost string
	// PublicURL is the base of the links written into e-mails, e.g.
	// https://participer.example.fr (optional) defaults to
	// http://127.0.0.1:8080; apid sets it to the listener's address when
	// http.public_url is empty.
	PublicURL string
	// FlightLogLimit is the largest flight-log upload in bytes (optional)
	// defaults to 32 MiB. Request bodies are streamed: the upload's handler
	// reads its body only once the caller is known to be allowed, and every
	// other route refuses a body over BodyLimit before buffering it
	// (dashboards/web/bodyguard.go).
	FlightLogLimit int
	// Accounts tunes verification, links and the mail outbox (dashboards/actions).
	Accounts AccountConfig
	// LiveMaxStreams caps the open live-feed streams of the process
	// (optional) defaults to 1000; past it GET /api/v1/live answers 503.
	// LiveMaxPerClient caps them per client address (an IPv6 /64)
	// (optional) defaults to 8; past it 429. Negative disables a cap.
	LiveMaxStreams, LiveMaxPerClient int
	// LiveKeepAlive is the interval of the live feed's keep-alive comment
	// (optional) defaults to 15s: a departed client is noticed, and its
	// slot freed, at the next one.
	LiveKeepAlive time.Duration
	// Notify tunes the status e-mails (optional): see NotifyConfig.
	Notify NotifyConfig
	// Tiles is the maps' raster tile server (optional) defaults to none:
	// the maps draw the embedded base map of the Alpes-Maritimes, offline.
	Tiles Tiles
}

// Validate checks the config and fills defaults.
func (c *Config) Validate() error {
	if c.BodyLimit == 0 {
		c.BodyLimit = 64 << 10
	}
	if c.BodyLimit < 1024 || c.BodyLimit > 64<<20 {
		return errors.New("api.body_limit: want between 1 KiB and 64 MiB")
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = 7 * 24 * time.Hour
	}
	if c.SessionTTL < time.Minute {
		return errors.New("api.session_ttl: at least 1m")
	}
	if err := c.Password.Validate(); err != nil {
		return err
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.SignUpLimit, 5)
	def(&c.SignInLimit, 10)
	def(&c.VoteLimit, 60)
	def(&c.ContributionLimit, 10)
	def(&c.SignUpNetworkLimit, 20)
	def(&c.SignUpTotalLimit, 300)
	if c.SignUpWindow == 0 {
		c.SignUpWindow = time.Hour
	}
	if c.SignUpWindow < time.Second {
		return errors.New("api.signup_window: at least 1s")
	}
	def(&c.PublicReadLimit, 600)
	def(&c.SignInAccountFree, 5)
	if c.SignInAccountDelay == 0 {
		c.SignInAccountDelay = time.Second
	}
	if c.SignInAccountMaxDelay == 0 {
		c.SignInAccountMaxDelay = 15 * time.Minute
	}
	if c.SignInAccountDelay < time.Millisecond || c.SignInAccountMaxDelay < c.SignInAccountDelay || c.SignInAccountMaxDelay > 24*time.Hour {
		return errors.New("api.signin_account_delay, api.signin_account_max_delay: want 1ms ≤ delay ≤ max delay ≤ 24h")
	}
	if c.RateWindow == 0 {
		c.RateWindow = time.Minute
	}
	if c.RateWindow < 0 {
		return errors.New("api.rate_window: must be positive")
	}
	if c.ProxyHeader == "" {
		c.ProxyHeader = fiber.HeaderXForwardedFor
	}
	if _, err := web.ParseTrustedProxies(c.TrustedProxies); err != nil {
		return err
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://127.0.0.1:8080"
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("http.public_url: %q: want http(s)://host[/path]", c.PublicURL)
	}
	if c.Licence == "" {
		c.Licence = "Licence Ouverte / Open Licence 2.0 (Etalab)"
	}
	if err := c.Legal.Validate(); err != nil {
		return err
	}
	def(&c.FlightLogLimit, 32<<20)
	if c.FlightLogLimit < c.BodyLimit || c.FlightLogLimit > 1<<30 {
		return errors.New("api.flight_log_limit: want between body_limit and 1 GiB")
	}
	if err := c.Accounts.Validate(); err != nil {
		return err
	}
	def(&c.LiveMaxStreams, 1000)
	def(&c.LiveMaxPerClient, 8)
	if c.LiveKeepAlive == 0 {
		c.LiveKeepAlive = 15 * time.Second
	}
	if c.LiveKeepAlive < 10*time.Millisecond || c.LiveKeepAlive > 5*time.Minute {
		return errors.New("api.live_keep_alive: want between 10ms and 5m")
	}
	def(&c.PageSeriesPoints, 500)
	if c.PageSeriesPoints < 2 || c.PageSeriesPoints > series.MaxPointsLimit {
		return fmt.Errorf("api.page_series_points: want between 2 and %d", series.MaxPointsLimit)
	}
	if c.PageRange == 0 {
		c.PageRange = 7 * 24 * time.Hour
	}
	if err := c.Tiles.Validate(); err != nil {
		return err
	}
	return c.Notify.Validate()
}

// Deps are the API's collaborators.
type Deps struct {
	Store        Store        // required
	Measurements Measurements // required
	Publisher    Publisher    // required for mission start/end
	Logger       *slog.Logger // (optional) defaults to slog.Default()
	// Registry receives the API's metrics (optional) defaults to a new
	// registry. The API does not serve it: /metrics belongs on the caller's
	// operations port (cmd/api's ops.addr, the all-in-one's http.ops), not
	// on the public one.
	Registry *prometheus.Registry
	// Now (optional) defaults to time.Now; tests pin it.
	Now func() time.Time
	// FlightLogs imports uploaded .tlog files (optional; without it the
	// upload route answers 503).
	FlightLogs FlightLogImporter
	// RateLimiter keeps the sign-up, sign-in and vote counts (optional)
	// defaults to a MemoryLimiter; replicas sharing a database pass the
	// store's SQL limiter so their limits are shared. When it implements
	// AccountThrottle (both do) it keeps the per-account sign-in throttle
	// too; otherwise a MemoryLimiter of the process does.
	RateLimiter RateLimiter
	// Mail sends e-mail (optional) defaults to writing it to Logger. The
	// outbox worker (Server.Outbox) is what calls it.
	Mail Mailer
	// Verifiers are the stronger identity checks an operator adds
	// (optional); the account security page offers them.
	Verifiers []Verifier
	// Alerts is the alert service (optional; without it the alert routes answer 503).
	Alerts Alerts
}

// Server is the API: a Fiber app plus the live-feed hub.
type Server struct {
	cfg        Config
	store      Store
	meas       Measurements
	pub        Publisher
	log        *slog.Logger
	now        func() time.Time
	app        *fiber.App
	hub        *live.Hub
	kit        *web.Kit // middleware, limiters, guards (package web)
	routes     []*web.Route
	flightLogs FlightLogImporter
	pages      *pages.Pages     // the French pages and forms (package pages)
	act        *actions.Service // the workflows the forms share (package actions)
	views      *app.Views       // what pages and JSON routes show (package app)
	maps       *app.Maps        // the map page's and map routes' view

	// registry: sites, devices, MQTT credentials (registry.go).
	registry *actions.Registry
	// events: meetings, public events, workshops (events.go).
	events    *actions.Events
	alertsSvc Alerts // the risk managers' rules and alerts (optional)
}

// New builds the API.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Measurements == nil || deps.Publisher == nil {
		return nil, errors.New("api: Store, Measurements and Publisher are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.RateLimiter == nil {
		deps.RateLimiter = NewMemoryLimiter()
	}
	if deps.Mail == nil {
		deps.Mail = &mail.LogSender{Log: deps.Logger}
	}
	s := &Server{cfg: cfg, store: deps.Store, meas: deps.Measurements, pub: deps.Publisher, log: deps.Logger,
		now: deps.Now, flightLogs: deps.FlightLogs}
	s.alertsSvc = deps.Alerts
	s.views = app.New(deps.Store, deps.Measurements, deps.Now)
	s.maps = app.NewMaps(deps.Store, deps.Measurements, deps.Now)
	var err error
	s.kit, err = web.New(web.Config{BodyLimit: cfg.BodyLimit, UploadLimit: cfg.FlightLogLimit, Limits: web.Limits{
		SignUpLimit: cfg.SignUpLimit, SignInLimit: cfg.SignInLimit, VoteLimit: cfg.VoteLimit, ContributionLimit: cfg.ContributionLimit,
		PublicReadLimit: cfg.PublicReadLimit, SignUpNetworkLimit: cfg.SignUpNetworkLimit, SignUpTotalLimit: cfg.SignUpTotalLimit,
		SignUpWindow: cfg.SignUpWindow, RateWindow: cfg.RateWindow, SignInAccountFree: cfg.SignInAccountFree,
		SignInAccountDelay: cfg.SignInAccountDelay, SignInAccountMaxDelay: cfg.SignInAccountMaxDelay,
	}, TrustedProxies: cfg.TrustedProxies, ProxyHeader: cfg.ProxyHeader, CookieSecure: cfg.CookieSecure},
		web.Deps{Sessions: deps.Store, RateLimiter: deps.RateLimiter, Logger: deps.Logger, Registry: deps.Registry, Now: deps.Now})
	if err != nil {
		return nil, err
	}
	s.act, err = actions.New(actions.Config{Accounts: cfg.Accounts, Password: cfg.Password, Notify: cfg.Notify, SessionTTL: cfg.SessionTTL,
		CookieSecure: cfg.CookieSecure, SignInLimit: cfg.SignInLimit, RateWindow: cfg.RateWindow, PublicURL: cfg.PublicURL,
		Topics: cfg.Topics},
		actions.Deps{Store: deps.Store, Kit: s.kit, Mail: deps.Mail, Logger: deps.Logger, Registry: deps.Registry, Now: deps.Now, Verifiers: deps.Verifiers,
			Publisher: deps.Publisher, FlightLogs: deps.FlightLogs})
	if err != nil {
		return nil, err
	}
	s.registry = &actions.Registry{Store: deps.Store, Topics: cfg.Topics, MQTTHost: cfg.MQTTHost}
	s.events = &actions.Events{Store: deps.Store, Now: deps.Now}
	s.pages, err = pages.New(pages.Config{Accounts: cfg.Accounts, Legal: cfg.Legal, Licence: cfg.Licence, SessionTTL: cfg.SessionTTL,
		CookieSecure: cfg.CookieSecure, RateWindow: cfg.RateWindow, PageSeriesPoints: cfg.PageSeriesPoints, PageRange: cfg.PageRange, Tiles: cfg.Tiles},
		pages.Deps{Store: deps.Store, Views: s.views, Actions: s.act, Kit: s.kit, Logger: deps.Logger, Now: deps.Now, Maps: s.maps,
			Registry: s.registry, Events: s.events, Alerts: s.alertPages(deps)})
	if err != nil {
		return nil, err
	}
	s.kit.PageError = s.pages.PageError
	s.hub = live.NewHub(live.Options{Log: deps.Logger, Limits: live.Limits{PerClient: cfg.LiveMaxPerClient, Total: cfg.LiveMaxStreams},
		Dropped: s.kit.Metrics().LiveDropped.Inc, Clients: func(n int) { s.kit.Metrics().LiveClients.Set(float64(n)) }})
	s.app = fiber.New(fiber.Config{
		AppName:   "smartdeal-api",
		Immutable: true, // fasthttp reuses request memory; params are kept
		// Bodies are streamed and bounded per route by bodyGuard; fasthttp
		// reads at most 8 KiB ahead and pre-parses no multipart form.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		BodyLimit:                    cfg.BodyLimit,
		ErrorHandler:                 s.kit.ErrorHandler,
		DisableStartupMessage:        true,
		ReadTimeout:                  30 * time.Second,
		IdleTimeout:                  120 * time.Second,
	})
	s.routes = slices.Concat(s.table(), s.accountRoutes(), s.staticRoutes(), s.pages.Routes(), s.mapRoutes(), s.proposalExportRoutes(),
		s.registryRoutes(), s.eventsRoutes(), s.moderationRoutes(), s.peopleRoutes(), s.campaignAdminRoutes(), s.realizationRoutes(), s.alertRoutes(), s.deviceStatusRoutes())
	s.kit.Mount(s.app, s.routes)
	return s, nil
}

// SetPublicURL changes the base of e-mail links (apid sets the listener's
// address once it is bound, when no http.public_url was configured).
func (s *Server) SetPublicURL(u string) { s.act.SetPublicURL(u) }

// PublicURL is the base of the links written into e-mails, without a
// trailing slash.
func (s *Server) PublicURL() string { return s.act.PublicURL() }

// Outbox returns the mail worker; cmd/api and the all-in-one run it
// (cmd/internal/apid), tests start it when they read the mail.
func (s *Server) Outbox() *Outbox { return s.act.Outbox() }

// GrantAssurance records that v checked the identity of the account userID.
func (s *Server) GrantAssurance(ctx context.Context, userID string, v Verifier) error {
	return s.act.GrantAssurance(ctx, userID, v)
}

// The workflows' configuration and password rule are package actions';
// these names keep the wiring's (cmd/internal/apid, cmd/smartdeal).
type (
	// AccountConfig is actions.AccountConfig.
	AccountConfig = actions.AccountConfig
	// OutboxConfig is actions.OutboxConfig.
	OutboxConfig = actions.OutboxConfig
	// NotifyConfig is actions.NotifyConfig.
	NotifyConfig = actions.NotifyConfig
	// PasswordParams is actions.PasswordParams.
	PasswordParams = actions.PasswordParams
	// Tiles is pages.Tiles.
	Tiles = pages.Tiles
	// Verifier is actions.Verifier.
	Verifier = actions.Verifier
	// Outbox is actions.Outbox.
	Outbox = actions.Outbox
)

// DefaultPasswordParams is actions.DefaultPasswordParams.
func DefaultPasswordParams() PasswordParams { return actions.DefaultPasswordParams() }

// VerifyPassword is actions.VerifyPassword.
func VerifyPassword(hash, password string) bool { return actions.VerifyPassword(hash, password) }

// CheckNewPassword is actions.CheckNewPassword.
func CheckNewPassword(field, pw string) error { return actions.CheckNewPassword(field, pw) }

// App returns the Fiber app (to Listen, or to app.Test in tests).
func (s *Server) App() *fiber.App { return s.app }

// Hub returns the live-feed hub that MQTT telemetry is handed to.
func (s *Server) Hub() *live.Hub { return s.hub }

// Routes returns the route table (used by the OpenAPI test).
func (s *Server) Routes() []*web.Route { return s.routes }

// Shutdown ends live streams first (they would hold the server open), then
// stops the HTTP server within ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.hub.Close()
	return s.app.ShutdownWithContext(ctx)
}

// The rate limiters are package web's; these names keep the wiring's.
type (
	// RateLimiter is web.RateLimiter.
	RateLimiter = web.RateLimiter
	// AccountThrottle is web.AccountThrottle.
	AccountThrottle = web.AccountThrottle
	// MemoryLimiter is web.MemoryLimiter.
	MemoryLimiter = web.MemoryLimiter
)

// NewMemoryLimiter is web.NewMemoryLimiter.
func NewMemoryLimiter() *MemoryLimiter { return web.NewMemoryLimiter() }

// SessionCookie and CSRFHeader are web's (clients of the API name them).
const (
	SessionCookie = web.SessionCookie
	CSRFHeader    = web.CSRFHeader
)

// The legal pages' configuration is package pages'; these names keep the
// wiring's.
type Legal = legal.Legal

// DefaultLegal is legal.DefaultLegal.
func DefaultLegal() Legal { return legal.DefaultLegal() }
