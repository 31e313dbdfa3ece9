// Command api serves the SMART Deal civic API (Fiber): proposals, votes,
// expert selection, missions, devices, measurements from InfluxDB, a live feed
// fed from MQTT and open data. The service itself is cmd/internal/apid (the
// all-in-one cmd/smartdeal runs the same); this command loads its
// configuration. See docs/api.md.
//
// Usage:
//
//	api [-config smartdeal.yaml] [-keys]
//
// Configuration: defaults, then the YAML file (-config or SMARTDEAL_CONFIG),
// then SMARTDEAL_* environment variables: SMARTDEAL_DB (SQLite path or
// postgres:// URL), SMARTDEAL_HTTP_ADDR, SMARTDEAL_INFLUX_URL,
// SMARTDEAL_INFLUX_TOKEN, SMARTDEAL_INFLUX_ORG, SMARTDEAL_INFLUX_BUCKET,
// SMARTDEAL_MQTT_URL, SMARTDEAL_API_RATE_STORE (auto, memory or sql),
// SMARTDEAL_OPS_ADDR (the operations port: /metrics, /healthz, /readyz)…;
// -keys lists them all.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cd06/smartdeal/cmd/internal/apid"
	"github.com/cd06/smartdeal/cmd/internal/boot"
	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/mail"
)

func main() {
	ctx, stop := boot.SignalContext(context.Background())
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

// config is apid.Config's keys at the top level, plus the log.
type config struct {
	DB      string            `koanf:"db"`
	HTTP    apid.HTTPConfig   `koanf:"http"`
	Influx  apid.InfluxConfig `koanf:"influx"`
	MQTT    apid.MQTTConfig   `koanf:"mqtt"`
	Admin   apid.AdminConfig  `koanf:"admin"`
	API     apid.APIConfig    `koanf:"api"`
	Licence string            `koanf:"licence"`
	Legal   api.Legal         `koanf:"legal"`
	Mail    mail.Config       `koanf:"mail"`
	Log     boot.Log          `koanf:"log"`
	Notify  api.NotifyConfig  `koanf:"notify"`
	Ops     opsConfig         `koanf:"ops"`
	Map     apid.MapConfig    `koanf:"map"`
}

// opsConfig is the operations port: Prometheus /metrics (the API's and the
// Go runtime's), /healthz and /readyz (database, InfluxDB, broker). It is
// not the API's port, which citizens reach: keep it on a private address.
type opsConfig struct {
	// Addr defaults to 127.0.0.1:9182; empty disables the operations server.
	Addr string `koanf:"addr"`
}

func defaultConfig() config {
	d := apid.DefaultConfig()
	return config{DB: d.DB, HTTP: d.HTTP, Influx: d.Influx, MQTT: d.MQTT, Admin: d.Admin, API: d.API, Licence: d.Licence, Legal: d.Legal, Mail: d.Mail, Log: boot.DefaultLog(),
		Ops: opsConfig{Addr: "127.0.0.1:9182"}, Notify: d.Notify}
}

func (c *config) app() apid.Config {
	return apid.Config{DB: c.DB, HTTP: c.HTTP, Influx: c.Influx, MQTT: c.MQTT, Admin: c.Admin, API: c.API, Licence: c.Licence, Legal: c.Legal, Mail: c.Mail,
		Notify: c.Notify, Map: c.Map}
}

// Validate checks the configuration; errors name the YAML key. Unlike the
// all-in-one, the production binary does not generate an administrator
// password (it would be written to the log): admin.email needs admin.password.
func (c *config) Validate() error {
	if err := c.app().Validate(); err != nil {
		return err
	}
	if c.Admin.Email != "" && c.Admin.Password == "" {
		return errors.New("admin.password: required with admin.email")
	}
	if c.Ops.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Ops.Addr); err != nil {
			return fmt.Errorf("ops.addr: %w", err)
		}
	}
	return c.Log.Validate("log")
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg := defaultConfig()
	configPath, done, err := boot.Flags("api", args, &cfg, stderr)
	if err != nil || done {
		return err
	}
	if err := boot.Load(&cfg, configPath, getenv); err != nil {
		return err
	}
	log, err := boot.NewLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	app, err := apid.New(ctx, cfg.app(), log, reg)
	if err != nil {
		return err
	}
	if cfg.Ops.Addr == "" {
		return app.Run(ctx)
	}
	ops := boot.NewServer(boot.ServerConfig{Addr: cfg.Ops.Addr, Registry: reg, Checks: []boot.Check{
		{Name: "database", Fn: app.DatabaseReady}, {Name: "influxdb", Fn: app.InfluxReady}, {Name: "mqtt", Fn: app.BrokerReady}}}, log)
	if err := ops.Listen(); err != nil {
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_ = app.Run(cancelled) // releases what New opened
		return fmt.Errorf("ops.addr: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opsErr := make(chan error, 1)
	go func() {
		err := ops.Run(ctx)
		if err != nil {
			cancel() // the API stops too: it would run unobserved
		}
		opsErr <- err
	}()
	err = app.Run(ctx)
	cancel()
	if oerr := <-opsErr; err == nil && oerr != nil {
		err = fmt.Errorf("ops: %w", oerr)
	}
	return err
}
