// Command api serves the SMART Deal civic API (Fiber): proposals, votes,
// expert selection, missions, devices, measurements from InfluxDB, a live feed
// fed from MQTT and open data. See docs/api.md.
//
// Usage:
//
//	api [-config smartdeal.yaml] [-keys]
//
// Configuration: defaults, then the YAML file (-config or SMARTDEAL_CONFIG),
// then SMARTDEAL_* environment variables: SMARTDEAL_DB (SQLite path or
// postgres:// URL), SMARTDEAL_HTTP_ADDR, SMARTDEAL_INFLUX_URL,
// SMARTDEAL_INFLUX_TOKEN, SMARTDEAL_INFLUX_ORG, SMARTDEAL_INFLUX_BUCKET,
// SMARTDEAL_MQTT_URL…; -keys lists them all.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/cmd/internal/boot"
	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/dashboards/sqlstore"
)

func main() {
	ctx, stop := boot.SignalContext(context.Background())
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

type httpConfig struct {
	// Addr defaults to 127.0.0.1:8080.
	Addr string `koanf:"addr"`
	// BodyLimit in bytes defaults to 65536.
	BodyLimit int `koanf:"body_limit"`
	// CookieSecure marks the session cookie Secure (behind HTTPS).
	CookieSecure bool `koanf:"cookie_secure"`
}

type influxConfig struct {
	URL    string `koanf:"url"`
	Token  string `koanf:"token"`
	Org    string `koanf:"org"`
	Bucket string `koanf:"bucket"`
	// CacheTTL keeps aggregated series this long (0 disables); defaults to 30s.
	CacheTTL time.Duration `koanf:"cache_ttl"`
}

type mqttConfig struct {
	// URL of the broker; empty disables the live feed and mission commands fail.
	URL         string `koanf:"url"`
	ClientID    string `koanf:"client_id"`
	Username    string `koanf:"username"`
	Password    string `koanf:"password"`
	TopicPrefix string `koanf:"topic_prefix"`
}

type adminConfig struct {
	// Email and Password create the first administrator if no account has this e-mail.
	Email    string `koanf:"email"`
	Password string `koanf:"password"`
}

type config struct {
	// DB is a SQLite path or a postgres:// URL; defaults to smartdeal.db.
	DB      string       `koanf:"db"`
	HTTP    httpConfig   `koanf:"http"`
	Influx  influxConfig `koanf:"influx"`
	MQTT    mqttConfig   `koanf:"mqtt"`
	Admin   adminConfig  `koanf:"admin"`
	Licence string       `koanf:"licence"`
	Log     boot.Log     `koanf:"log"`
}

func defaultConfig() config {
	return config{
		DB:     "smartdeal.db",
		HTTP:   httpConfig{Addr: "127.0.0.1:8080", BodyLimit: 64 << 10},
		Influx: influxConfig{URL: "http://127.0.0.1:8086", Bucket: "smartdeal/autogen", CacheTTL: 30 * time.Second},
		MQTT:   mqttConfig{URL: "tcp://127.0.0.1:1883", ClientID: "smartdeal-api", TopicPrefix: smartdeal.DefaultTopicPrefix},
		Log:    boot.DefaultLog(),
	}
}

// Validate checks the configuration; errors name the YAML key.
func (c *config) Validate() error {
	if strings.TrimSpace(c.DB) == "" {
		return errors.New("db: required (SQLite path or postgres:// URL)")
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		return fmt.Errorf("http.addr: %w", err)
	}
	if c.Influx.URL == "" || c.Influx.Bucket == "" {
		return errors.New("influx.url and influx.bucket: required")
	}
	if c.Influx.CacheTTL < 0 || c.Influx.CacheTTL > time.Hour {
		return errors.New("influx.cache_ttl: want between 0 and 1h")
	}
	if c.MQTT.URL != "" && c.MQTT.ClientID == "" {
		return errors.New("mqtt.client_id: required with mqtt.url")
	}
	if (c.Admin.Email == "") != (c.Admin.Password == "") {
		return errors.New("admin.email and admin.password: give both or neither")
	}
	if c.Admin.Password != "" && len(c.Admin.Password) < 10 {
		return errors.New("admin.password: at least 10 characters")
	}
	return c.Log.Validate("log")
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML config file (default $SMARTDEAL_CONFIG)")
	keys := fs.Bool("keys", false, "list configuration keys, their environment variables and defaults")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := defaultConfig()
	if *keys {
		ks, err := boot.Keys(&cfg)
		if err != nil {
			return err
		}
		for _, k := range ks {
			fmt.Fprintf(stderr, "%-22s %-30s %s\n", k.Key, k.Env, k.Default)
		}
		return nil
	}
	if err := boot.Load(&cfg, *cfgPath, getenv); err != nil {
		return err
	}
	log, err := boot.NewLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}

	store, err := sqlstore.Open(ctx, sqlstore.Config{DSN: cfg.DB, Logger: log.With("part", "sqlstore")})
	if err != nil {
		return err
	}
	defer store.Close()
	meas, err := measure.New(measure.Config{URL: cfg.Influx.URL, Token: cfg.Influx.Token, Org: cfg.Influx.Org, Bucket: cfg.Influx.Bucket, CacheTTL: cfg.Influx.CacheTTL}, log.With("part", "measure"))
	if err != nil {
		return err
	}
	defer meas.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	topics := smartdeal.Topics{Prefix: cfg.MQTT.TopicPrefix}
	var pub api.Publisher = noBroker{}
	var feed *mqttFeed
	if cfg.MQTT.URL != "" {
		feed = newMQTTFeed(cfg.MQTT, topics, log.With("part", "mqtt"))
		pub = feed
	}
	srv, err := api.New(api.Config{BodyLimit: cfg.HTTP.BodyLimit, CookieSecure: cfg.HTTP.CookieSecure, Licence: cfg.Licence, Topics: topics, MQTTHost: cfg.MQTT.URL},
		api.Deps{Store: store, Measurements: meas, Publisher: pub, Logger: log, Registry: reg, FlightLogs: tlogImporter{}})
	if err != nil {
		return err
	}
	if err := bootstrap(ctx, store, cfg.Admin, log); err != nil {
		return err
	}
	if feed != nil {
		feed.hub, feed.srv = srv.Hub(), srv
		if err := feed.start(ctx); err != nil {
			log.Warn("MQTT broker not reachable yet; retrying in the background", "err", err)
		}
		defer feed.stop()
	}

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http.addr: %w", err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "db", dbKind(cfg.DB))
	errc := make(chan error, 1)
	go func() { errc <- srv.App().Listener(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func dbKind(dsn string) string {
	if sqlstore.IsPostgres(dsn) {
		return "postgres"
	}
	return "sqlite"
}

// bootstrap creates the configured administrator and, when there is no
// campaign, the SMART Deal campaign of the current year (1,000,000 €).
func bootstrap(ctx context.Context, store *sqlstore.Store, a adminConfig, log *slog.Logger) error {
	if a.Email != "" {
		if _, err := store.UserByEmail(ctx, a.Email); civic.ErrorCode(err) == civic.ENOTFOUND {
			hash, err := (api.PasswordParams{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}).Hash(a.Password)
			if err != nil {
				return err
			}
			if err := store.CreateUser(ctx, &civic.User{Email: a.Email, Name: "Administrator", Role: civic.RoleAdmin, PasswordHash: hash}); err != nil {
				return fmt.Errorf("bootstrap admin: %w", err)
			}
			log.Info("administrator created", "email", a.Email)
		} else if err != nil {
			return fmt.Errorf("bootstrap admin: %w", err)
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
