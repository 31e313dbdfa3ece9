// Package apid wires the civic API (dashboards/api) to its adapters — the SQL
// store (dashboards/sqlstore, SQLite or PostgreSQL), the measurements client
// to InfluxDB (dashboards/measure), the MQTT feed and publisher (paho) and the
// .tlog importer — bootstraps the first administrator and campaign, and serves
// HTTP, so that cmd/api and the all-in-one cmd/smartdeal start the same
// service the same way: New, then Run.
//
// A broker or an InfluxDB that is not reachable at start does not stop the
// API: it serves at once, retries the broker in the background, and Ready
// says what is missing. The database must be reachable (New fails otherwise).
package apid

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/cmd/internal/alertsd"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/live"
	"github.com/cd06/smartdeal/dashboards/mail"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/dashboards/sqlstore"
)

// HTTPConfig is the API's listener.
type HTTPConfig struct {
	// Addr defaults to 127.0.0.1:8080; ":0" picks a free port (see App.Addr).
	Addr string `koanf:"addr"`
	// BodyLimit in bytes defaults to 65536.
	BodyLimit int `koanf:"body_limit"`
	// CookieSecure marks the session cookie Secure (behind HTTPS).
	CookieSecure bool `koanf:"cookie_secure"`
	// TrustedProxies (IPs or CIDRs) may name the client in ProxyHeader; empty
	// trusts none (rate limits and the audit log use the connection address).
	TrustedProxies []string `koanf:"trusted_proxies"`
	// ProxyHeader defaults to X-Forwarded-For.
	ProxyHeader string `koanf:"proxy_header"`
	// PublicURL is the address people reach the pages at, written into the
	// links of e-mails (verification, password reset, unsubscribe), e.g.
	// https://participer.example.fr; defaults to http:// + Addr.
	PublicURL string `koanf:"public_url"`
}

// InfluxConfig says where the measurements are (InfluxDB 1.8 or 2.x).
type InfluxConfig struct {
	URL    string `koanf:"url"`
	Token  string `koanf:"token"`
	Org    string `koanf:"org"`
	Bucket string `koanf:"bucket"`
	// CacheTTL keeps aggregated series this long (0 disables); defaults to 30s.
	CacheTTL time.Duration `koanf:"cache_ttl"`
	// Engine aggregates series: auto (InfluxQL on 1.x, Flux otherwise),
	// influxql or flux.
	Engine string `koanf:"engine"`
}

// MQTTConfig is the broker of the live feed and of mission commands.
type MQTTConfig struct {
	// URL of the broker; empty disables the live feed and mission commands fail.
	URL         string `koanf:"url"`
	ClientID    string `koanf:"client_id"`
	Username    string `koanf:"username"`
	Password    string `koanf:"password"`
	TopicPrefix string `koanf:"topic_prefix"`
}

// AdminConfig is the first administrator, created at start when no account
// has Email. An empty Password (with Email) makes New generate one and log it
// once, when it creates the account. An existing account is left unchanged.
type AdminConfig struct {
	Email    string `koanf:"email"`
	Password string `koanf:"password"`
}

// APIConfig tunes the API itself.
type APIConfig struct {
	// RateStore keeps the sign-up, sign-in and vote rate-limit counters:
	// "memory" (per process), "sql" (in the database, shared by every
	// replica on it) or "auto" (the default: sql on PostgreSQL, where
	// replicas run; memory on SQLite, which is one process).
	RateStore string `koanf:"rate_store"`

	// Account security (docs/api.md, "Verified accounts", "Account security").
	// SessionTTL is how long a browser sign-in lasts; defaults to 168h.
	SessionTTL time.Duration `koanf:"session_ttl"`
	// BearerTTL is how long a bearer token (API clients) lasts; defaults to 24h.
	BearerTTL time.Duration `koanf:"bearer_ttl"`
	// VerifyTTL is how long a verification or address-change link works;
	// defaults to 48h. ResetTTL, a password-reset link; defaults to 1h.
	VerifyTTL time.Duration `koanf:"verify_ttl"`
	ResetTTL  time.Duration `koanf:"reset_ttl"`
	// SupportAssurance is the identity assurance level supports need:
	// 1 (default) a verified address, 2–3 a stronger check.
	SupportAssurance int `koanf:"support_assurance"`
	// MailLimit mails per MailWindow per account or address (links asked
	// again, resets, address changes); defaults to 3 per 1h, -1 disables.
	MailLimit  int           `koanf:"mail_limit"`
	MailWindow time.Duration `koanf:"mail_window"`
	// The mail outbox: look for due mail every MailPoll (5s); retry after
	// MailRetry (30s) doubled per attempt up to MailRetryMax (1h); keep a
	// mail as failed after MailAttempts (20).
	MailPoll     time.Duration `koanf:"mail_poll"`
	MailRetry    time.Duration `koanf:"mail_retry"`
	MailRetryMax time.Duration `koanf:"mail_retry_max"`
	MailAttempts int           `koanf:"mail_attempts"`

	// SignInAccountFree is how many sign-in attempts one e-mail address gets
	// before each further one waits a delay doubling from
	// SignInAccountDelay up to SignInAccountMaxDelay (5, 1s, 15m; a client
	// address the account signed in from within 30 days has a budget of its
	// own). -1 disables this per-account throttle.
	SignInAccountFree     int           `koanf:"signin_account_free"`
	SignInAccountDelay    time.Duration `koanf:"signin_account_delay"`
	SignInAccountMaxDelay time.Duration `koanf:"signin_account_max_delay"`
	// SignUpNetworkLimit caps sign-ups per IPv4 /24 or IPv6 /48 and
	// SignUpTotalLimit for everybody, per SignUpWindow (20, 300, 1h); -1
	// disables one.
	SignUpNetworkLimit int           `koanf:"signup_network_limit"`
	SignUpTotalLimit   int           `koanf:"signup_total_limit"`
	SignUpWindow       time.Duration `koanf:"signup_window"`
	// PublicReadLimit caps the public GET routes per client address (an
	// IPv6 /64) and minute, in each process (600); -1 disables it.
	PublicReadLimit int `koanf:"public_read_limit"`
	// LiveMaxStreams caps the open live-feed streams of a process (1000,
	// then 503) and LiveMaxPerClient per client address (8, then 429); -1
	// disables one.
	LiveMaxStreams   int `koanf:"live_max_streams"`
	LiveMaxPerClient int `koanf:"live_max_per_client"`
}

// accounts is the api package's view of the account settings.
func (c APIConfig) accounts() api.AccountConfig {
	return api.AccountConfig{BearerTTL: c.BearerTTL, VerifyTTL: c.VerifyTTL, ResetTTL: c.ResetTTL,
		SupportAssurance: civic.Assurance(c.SupportAssurance), MailLimit: c.MailLimit, MailWindow: c.MailWindow,
		Outbox: api.OutboxConfig{Poll: c.MailPoll, RetryBase: c.MailRetry, RetryMax: c.MailRetryMax, MaxAttempts: c.MailAttempts}}
}

// Rate stores (APIConfig.RateStore).
const (
	RateStoreAuto   = "auto"
	RateStoreMemory = "memory"
	RateStoreSQL    = "sql"
)

// Config is the civic API service's configuration. The koanf keys are those
// of cmd/api (db, http.addr, influx.url, mqtt.url, admin.email…).
type Config struct {
	// DB is a SQLite path or a postgres:// URL; defaults to smartdeal.db.
	DB      string       `koanf:"db"`
	HTTP    HTTPConfig   `koanf:"http"`
	Influx  InfluxConfig `koanf:"influx"`
	MQTT    MQTTConfig   `koanf:"mqtt"`
	Admin   AdminConfig  `koanf:"admin"`
	API     APIConfig    `koanf:"api"`
	Licence string       `koanf:"licence"`
	// Mail is the SMTP relay; without mail.host, mail is written to the log.
	Mail mail.Config `koanf:"mail"`
	// Legal is who publishes, hosts and answers, for the legal pages
	// (legal.publisher, legal.dpo_email…); see api.Legal.
	Legal api.Legal `koanf:"legal"`
	// Notify is the key of the status e-mails' unsubscribe links.
	Notify api.NotifyConfig `koanf:"notify"`
	// Map is the maps' raster tile server; without map.tile_url (the
	// default) the maps draw the base map embedded in the binary, offline.
	Map MapConfig `koanf:"map"`
}

// MapConfig is a raster tile server for the maps (docs/map.md): TileURL
// (https://host/…{z}/{x}/{y}.png, one origin: the map pages' img-src
// allows it), TileAttribution (required with a URL: shown on the map) and
// TileMaxZoom (default 19).
type MapConfig struct {
	TileURL         string `koanf:"tile_url"`
	TileAttribution string `koanf:"tile_attribution"`
	TileMaxZoom     int    `koanf:"tile_max_zoom"`
}

// DefaultConfig is a local run: SQLite smartdeal.db, HTTP on 127.0.0.1:8080,
// InfluxDB 1.8 on 127.0.0.1:8086 (smartdeal/autogen), Mosquitto on
// 127.0.0.1:1883, no bootstrap administrator.
func DefaultConfig() Config {
	return Config{
		DB:     "smartdeal.db",
		HTTP:   HTTPConfig{Addr: "127.0.0.1:8080", BodyLimit: 64 << 10},
		Influx: InfluxConfig{URL: "http://127.0.0.1:8086", Bucket: "smartdeal/autogen", CacheTTL: 30 * time.Second, Engine: measure.EngineAuto},
		MQTT:   MQTTConfig{URL: "tcp://127.0.0.1:1883", ClientID: "smartdeal-api", TopicPrefix: smartdeal.DefaultTopicPrefix},
		API: APIConfig{RateStore: RateStoreAuto, SessionTTL: 7 * 24 * time.Hour, BearerTTL: 24 * time.Hour,
			VerifyTTL: 48 * time.Hour, ResetTTL: time.Hour, SupportAssurance: int(civic.AssuranceEmail), MailLimit: 3, MailWindow: time.Hour,
			MailPoll: 5 * time.Second, MailRetry: 30 * time.Second, MailRetryMax: time.Hour, MailAttempts: 20,
			SignInAccountFree: 5, SignInAccountDelay: time.Second, SignInAccountMaxDelay: 15 * time.Minute,
			SignUpNetworkLimit: 20, SignUpTotalLimit: 300, SignUpWindow: time.Hour, PublicReadLimit: 600, LiveMaxStreams: 1000, LiveMaxPerClient: 8},
		Legal: api.DefaultLegal(),
	}
}

// Validate checks the configuration; errors name the YAML key.
func (c Config) Validate() error {
	if strings.TrimSpace(c.DB) == "" {
		return errors.New("db: required (SQLite path or postgres:// URL)")
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		return fmt.Errorf("http.addr: %w", err)
	}
	if c.HTTP.BodyLimit != 0 && (c.HTTP.BodyLimit < 1024 || c.HTTP.BodyLimit > 64<<20) {
		return fmt.Errorf("http.body_limit: %d: want between 1024 and %d bytes", c.HTTP.BodyLimit, 64<<20)
	}
	if c.Influx.URL == "" {
		return errors.New("influx.url: required")
	}
	if u, err := url.Parse(c.Influx.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("influx.url: %q: want http(s)://host:port", c.Influx.URL)
	}
	if c.Influx.Bucket == "" {
		return errors.New("influx.bucket: required")
	}
	if c.Influx.CacheTTL < 0 || c.Influx.CacheTTL > time.Hour {
		return errors.New("influx.cache_ttl: want between 0 and 1h")
	}
	switch c.Influx.Engine {
	case measure.EngineAuto, measure.EngineInfluxQL, measure.EngineFlux:
	default:
		return fmt.Errorf("influx.engine: %q: want auto, influxql or flux", c.Influx.Engine)
	}
	if c.MQTT.URL != "" {
		if u, err := url.Parse(c.MQTT.URL); err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("mqtt.url: %q: want tcp://host:port (or empty to disable)", c.MQTT.URL)
		}
		if c.MQTT.ClientID == "" {
			return errors.New("mqtt.client_id: required with mqtt.url")
		}
	}
	switch c.API.RateStore {
	case "", RateStoreAuto, RateStoreMemory, RateStoreSQL:
	default:
		return fmt.Errorf("api.rate_store: %q: want auto, memory or sql", c.API.RateStore)
	}
	if c.HTTP.PublicURL != "" {
		if u, err := url.Parse(c.HTTP.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("http.public_url: %q: want http(s)://host[/path]", c.HTTP.PublicURL)
		}
	}
	m := c.Mail
	if err := m.Validate("mail"); err != nil {
		return err
	}
	legal := c.Legal
	if err := legal.Validate(); err != nil {
		return err
	}
	n := c.Notify
	if err := n.Validate(); err != nil {
		return err
	}
	ac := c.apiConfig() // the limits (api.signin_account_delay…): their keys are api.Config's
	if err := ac.Validate(); err != nil {
		return err
	}
	if c.Admin.Password != "" && c.Admin.Email == "" {
		return errors.New("admin.email: required with admin.password")
	}
	if c.Admin.Email != "" && !strings.Contains(c.Admin.Email, "@") {
		return fmt.Errorf("admin.email: %q: not an e-mail address", c.Admin.Email)
	}
	if c.Admin.Password != "" {
		if err := api.CheckNewPassword("admin.password", c.Admin.Password); err != nil {
			return fmt.Errorf("%s (or empty to generate one)", civic.ErrorMessage(err))
		}
	}
	return nil
}

// apiConfig is the API's own configuration out of c.
func (c Config) apiConfig() api.Config {
	return api.Config{BodyLimit: c.HTTP.BodyLimit, CookieSecure: c.HTTP.CookieSecure, Licence: c.Licence,
		TrustedProxies: c.HTTP.TrustedProxies, ProxyHeader: c.HTTP.ProxyHeader,
		Topics: smartdeal.Topics{Prefix: c.MQTT.TopicPrefix}, MQTTHost: c.MQTT.URL,
		SignInAccountFree: c.API.SignInAccountFree, SignInAccountDelay: c.API.SignInAccountDelay, SignInAccountMaxDelay: c.API.SignInAccountMaxDelay,
		SignUpNetworkLimit: c.API.SignUpNetworkLimit, SignUpTotalLimit: c.API.SignUpTotalLimit, SignUpWindow: c.API.SignUpWindow,
		PublicReadLimit: c.API.PublicReadLimit, LiveMaxStreams: c.API.LiveMaxStreams, LiveMaxPerClient: c.API.LiveMaxPerClient,
		PublicURL: c.HTTP.PublicURL, SessionTTL: c.API.SessionTTL, Accounts: c.API.accounts(), Legal: c.Legal, Notify: c.Notify,
		Tiles: api.Tiles{URL: c.Map.TileURL, Attribution: c.Map.TileAttribution, MaxZoom: c.Map.TileMaxZoom}}
}

// mqttGrace is how long Run waits for the first broker connection before it
// serves anyway (mission commands answer 503 until the broker is there).
const mqttGrace = 2 * time.Second

// App is the civic API service: New builds it and binds the listener, Run
// serves until its context ends.
type App struct {
	cfg   Config
	log   *slog.Logger
	store *sqlstore.Store
	meas  *measure.Client
	srv   *api.Server
	feed  *mqttFeed // nil without mqtt.url
	ln    net.Listener
}

// New opens the database (applying migrations), bootstraps the administrator
// and the year's campaign, builds the API and binds cfg.HTTP.Addr. It does
// not wait for the broker or InfluxDB. reg receives the API's metrics, for
// the caller's operations server (the API port serves no /metrics); nil means
// a new registry. Call Run to serve and release.
func New(ctx context.Context, cfg Config, log *slog.Logger, reg *prometheus.Registry) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	a := &App{cfg: cfg, log: log}
	ok := false
	defer func() {
		if !ok {
			a.release()
		}
	}()
	var err error
	a.store, err = sqlstore.Open(ctx, sqlstore.Config{DSN: cfg.DB, Logger: log.With("part", "sqlstore")})
	if err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	a.meas, err = measure.New(measure.Config{URL: cfg.Influx.URL, Token: cfg.Influx.Token, Org: cfg.Influx.Org,
		Bucket: cfg.Influx.Bucket, CacheTTL: cfg.Influx.CacheTTL, Engine: cfg.Influx.Engine}, log.With("part", "measure"))
	if err != nil {
		return nil, err
	}
	topics := smartdeal.Topics{Prefix: cfg.MQTT.TopicPrefix}
	var pub api.Publisher = noBroker{}
	if cfg.MQTT.URL != "" {
		a.feed = newMQTTFeed(cfg.MQTT, topics, log.With("part", "mqtt"))
		pub = a.feed
	}
	mailer, err := mail.New(cfg.Mail, log.With("part", "mail"))
	if err != nil {
		return nil, err
	}
	if cfg.Mail.Host == "" {
		log.Warn("no SMTP relay configured (mail.host): e-mails are written to the log")
	}
	// The API's alert service reads and records people's changes; the
	// evaluator (cmd/alerts, or the all-in-one's) evaluates and delivers.
	alerts, err := alerting.New(alerting.Config{TopicPrefix: cfg.MQTT.TopicPrefix, PublicURL: cfg.HTTP.PublicURL},
		alerting.Deps{Store: a.store, Measurements: alertsd.Reader(a.meas), Log: log.With("part", "alerts")})
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	rate, rateStore := rateLimiter(cfg.API.RateStore, a.store)
	log.Info("rate limits", "store", rateStore)
	a.srv, err = api.New(cfg.apiConfig(),
		api.Deps{Store: a.store, Measurements: a.meas, Publisher: pub, Logger: log, Registry: reg, FlightLogs: tlogImporter{},
			RateLimiter: rate, Mail: mailer, Alerts: alerts})
	if err != nil {
		return nil, err
	}
	if a.feed != nil {
		a.feed.hub = a.srv.Hub()
		a.feed.status = &live.StatusRecorder{Topics: topics, Store: a.store, Log: log.With("part", "status")}
	}
	if missing := cfg.Legal.Placeholders(); len(missing) > 0 {
		log.Warn("legal pages show placeholders; set these keys before opening to the public", "keys", strings.Join(missing, ", "))
	}
	if err := bootstrap(ctx, a.store, cfg.Admin, log); err != nil {
		return nil, err
	}
	a.ln, err = net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return nil, fmt.Errorf("http.addr: %w", err)
	}
	if cfg.HTTP.PublicURL == "" {
		a.srv.SetPublicURL("http://" + a.Addr())
	}
	ok = true
	return a, nil
}

// release closes what New opened (the feed is not connected before Run).
func (a *App) release() {
	if a.ln != nil {
		a.ln.Close()
	}
	if a.meas != nil {
		a.meas.Close()
	}
	if a.store != nil {
		a.store.Close()
	}
}

// Addr is the address the API listens on (the real port when http.addr ends
// in ":0").
func (a *App) Addr() string { return a.ln.Addr().String() }

// Server is the API itself (its Fiber app, live-feed hub, route table).
func (a *App) Server() *api.Server { return a.srv }

// Store is the relational store New opened (the all-in-one seeds its demo
// data through it); it is closed by Run.
func (a *App) Store() *sqlstore.Store { return a.store }

// Run connects to the broker (retrying in the background), serves HTTP until
// ctx ends, then shuts down gracefully: live (SSE) streams end, requests in
// flight finish (10s at most), the broker connection and the store close. It
// returns after every goroutine it started has exited; nil after a clean
// shutdown. Call it once; cancel ctx before calling it to just release what
// New opened.
func (a *App) Run(ctx context.Context) error {
	defer a.release()
	if ctx.Err() != nil {
		return nil
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if a.feed != nil {
		if !a.feed.start(runCtx, mqttGrace) && ctx.Err() == nil {
			a.log.Warn("MQTT broker not reachable yet; retrying in the background (live feed and mission commands wait for it)",
				"url", a.cfg.MQTT.URL, "err", a.feed.ready())
		}
		defer a.feed.stop() // after the HTTP shutdown: requests in flight may publish
	}
	if err := a.InfluxReady(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("InfluxDB not reachable yet; measurement routes answer 503 until it is", "url", a.cfg.Influx.URL, "err", err)
	}

	a.log.Info("listening", "addr", a.Addr(), "db", dbKind(a.cfg.DB))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := a.srv.Outbox().Run(runCtx); err != nil {
			a.log.Error("mail outbox stopped", "err", err)
		}
	}()
	serveErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		serveErr <- a.srv.App().Listener(a.ln)
	}()
	var err error
	select {
	case err = <-serveErr:
		err = fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	cancel() // stops the MQTT decoding goroutine
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer scancel()
	if serr := a.srv.Shutdown(sctx); serr != nil && err == nil {
		err = fmt.Errorf("shutdown: %w", serr)
	}
	wg.Wait()
	a.log.Info("stopped")
	return err
}

// DatabaseReady returns nil when the SQL store answers.
func (a *App) DatabaseReady(ctx context.Context) error { return a.store.Ping(ctx) }

// InfluxReady returns nil when InfluxDB answers.
func (a *App) InfluxReady(ctx context.Context) error { return a.meas.Ping(ctx) }

// BrokerReady returns nil when the MQTT client is connected and subscribed to
// telemetry and device status, or when no broker is configured (mqtt.url empty).
func (a *App) BrokerReady(context.Context) error {
	if a.feed == nil {
		return nil
	}
	return a.feed.ready()
}

// Ready runs every check; its error names each part that is not ready
// ("database: …", "influxdb: …", "mqtt: …").
func (a *App) Ready(ctx context.Context) error {
	var errs []error
	for _, c := range []struct {
		name string
		fn   func(context.Context) error
	}{{"database", a.DatabaseReady}, {"influxdb", a.InfluxReady}, {"mqtt", a.BrokerReady}} {
		if err := c.fn(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

// rateLimiter resolves api.rate_store: the SQL limiter makes the limits hold
// across replicas sharing the database, at one upsert per limited request;
// in memory they are free but per process.
func rateLimiter(store string, st *sqlstore.Store) (api.RateLimiter, string) {
	if store == RateStoreSQL || ((store == RateStoreAuto || store == "") && st.Postgres()) {
		return st.RateLimiter(), RateStoreSQL
	}
	return api.NewMemoryLimiter(), RateStoreMemory
}

func dbKind(dsn string) string {
	if sqlstore.IsPostgres(dsn) {
		return "postgres"
	}
	return "sqlite"
}

// bootstrap creates the configured administrator and, when there is no
// campaign, the SMART Deal campaign of the current year (1,000,000 €).
func bootstrap(ctx context.Context, store *sqlstore.Store, a AdminConfig, log *slog.Logger) error {
	if a.Email != "" {
		if _, err := store.UserByEmail(ctx, a.Email); civic.ErrorCode(err) == civic.ENOTFOUND {
			password, generated := a.Password, false
			if password == "" {
				password, generated = rand.Text(), true // 26 base32 characters, 130 bits
			}
			hash, err := api.DefaultPasswordParams().Hash(password)
			if err != nil {
				return err
			}
			// The operator configured this address: it counts as verified.
			verified := time.Now().UTC()
			if err := store.CreateUser(ctx, &civic.User{Email: a.Email, Name: "Administrator", Role: civic.RoleAdmin, PasswordHash: hash,
				EmailVerified: &verified}); err != nil {
				return fmt.Errorf("bootstrap admin: %w", err)
			}
			if generated {
				log.Warn("administrator created with a generated password (shown only now; set admin.password to choose it)",
					"email", a.Email, "password", password)
			} else {
				log.Info("administrator created", "email", a.Email)
			}
		} else if err != nil {
			return fmt.Errorf("bootstrap admin: %w", err)
		} else {
			log.Info("administrator exists; admin.password not applied", "email", a.Email)
		}
	}
	cs, err := store.Campaigns(ctx)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		y := time.Now().Year()
		c := &civic.Campaign{ID: fmt.Sprintf("smart-deal-%d", y), Name: fmt.Sprintf("SMART Deal %d", y),
			Starts: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), Ends: time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC), ShortlistTopN: 10}
		if err := store.CreateCampaign(ctx, c); err != nil {
			return fmt.Errorf("bootstrap campaign: %w", err)
		}
		log.Info("campaign created", "id", c.ID, "budget_eur", c.BudgetEUR)
	}
	return nil
}
