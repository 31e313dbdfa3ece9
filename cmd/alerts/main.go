// Command alerts is the alert evaluator: it reads the platform's telemetry
// and device statuses on its own MQTT shared subscription (group "alerts",
// never the ingest's), evaluates the risk managers' rules, keeps the alerts
// in the relational store and sends their notifications (retained MQTT
// messages under smartdeal/v1/alerts/…, signed webhooks, French e-mail).
// Several replicas may run side by side. See docs/alerts.md.
//
// Usage:
//
//	alerts [-config smartdeal.yaml]
//
// Configuration: defaults, then the YAML file (-config or SMARTDEAL_CONFIG),
// then SMARTDEAL_* environment variables (SMARTDEAL_DB, SMARTDEAL_MQTT_URL,
// SMARTDEAL_MQTT_CLIENT_ID, SMARTDEAL_INFLUX_URL, SMARTDEAL_ALERTS_WEBHOOKS…);
// -keys lists them all.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cd06/smartdeal/cmd/internal/alertsd"
	"github.com/cd06/smartdeal/cmd/internal/boot"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/mail"
)

func main() {
	ctx, stop := boot.SignalContext(context.Background())
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "alerts:", err)
		os.Exit(1)
	}
}

// httpConfig is the operations endpoint (/healthz, /readyz, /metrics).
type httpConfig struct {
	// Addr defaults to 127.0.0.1:9182.
	Addr string `koanf:"addr"`
}

type config struct {
	DB     string               `koanf:"db"`
	MQTT   alertsd.MQTTConfig   `koanf:"mqtt"`
	Influx alertsd.InfluxConfig `koanf:"influx"`
	Alerts alerting.Config      `koanf:"alerts"`
	Mail   mail.Config          `koanf:"mail"`
	HTTP   httpConfig           `koanf:"http"`
	Log    boot.Log             `koanf:"log"`
}

func defaultConfig() config {
	d := alertsd.DefaultConfig()
	return config{DB: d.DB, MQTT: d.MQTT, Influx: d.Influx, Alerts: d.Alerts, Mail: d.Mail,
		HTTP: httpConfig{Addr: "127.0.0.1:9182"}, Log: boot.DefaultLog()}
}

func (c *config) app() alertsd.Config {
	return alertsd.Config{DB: c.DB, MQTT: c.MQTT, Influx: c.Influx, Alerts: c.Alerts, Mail: c.Mail}
}

func (c *config) Validate() error {
	app := c.app()
	if err := app.Validate(); err != nil {
		return err
	}
	if c.HTTP.Addr == "" {
		return errors.New("http.addr: required (host:port, e.g. 127.0.0.1:9182)")
	}
	return c.Log.Validate("log")
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg := defaultConfig()
	configPath, done, err := boot.Flags("alerts", args, &cfg, stderr)
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
	app, err := alertsd.New(ctx, cfg.app(), log, reg)
	if err != nil {
		return err
	}
	srv := boot.NewServer(boot.ServerConfig{
		Addr:     cfg.HTTP.Addr,
		Registry: reg,
		Checks:   []boot.Check{{Name: "mqtt", Fn: app.BrokerReady}, {Name: "database", Fn: app.DatabaseReady}},
	}, log.With("component", "http"))
	if err := srv.Listen(); err != nil {
		return err
	}
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Run(srvCtx) }()
	appErr := app.Run(ctx)
	stopSrv()
	return errors.Join(appErr, <-srvErr)
}
