// Command ingest subscribes to the platform's telemetry on the MQTT broker
// and writes it to InfluxDB, acknowledging each message only once its points
// are written. See docs/ingest.md.
//
// Usage:
//
//	ingest [-config smartdeal.yaml]
//
// Configuration: defaults, then the YAML file (-config or SMARTDEAL_CONFIG),
// then SMARTDEAL_* environment variables (SMARTDEAL_MQTT_URL,
// SMARTDEAL_INFLUX_URL, SMARTDEAL_INGEST_MAX_INFLIGHT…); -keys lists them all.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cd06/smartdeal/cmd/internal/boot"
	"github.com/cd06/smartdeal/cmd/internal/ingestd"
	"github.com/cd06/smartdeal/ingest"
	"github.com/cd06/smartdeal/ingest/influxstore"
	"github.com/cd06/smartdeal/ingest/mqttsub"
)

func main() {
	ctx, stop := boot.SignalContext(context.Background())
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

// httpConfig is the operations endpoint (/healthz, /readyz, /metrics).
type httpConfig struct {
	// Addr defaults to 127.0.0.1:9181.
	Addr string `koanf:"addr"`
}

type config struct {
	MQTT   mqttsub.Config     `koanf:"mqtt"`
	Influx influxstore.Config `koanf:"influx"`
	Ingest ingest.Config      `koanf:"ingest"`
	HTTP   httpConfig         `koanf:"http"`
	Log    boot.Log           `koanf:"log"`
}

func defaultConfig() config {
	d := ingestd.DefaultConfig()
	return config{MQTT: d.MQTT, Influx: d.Influx, Ingest: d.Ingest,
		HTTP: httpConfig{Addr: "127.0.0.1:9181"}, Log: boot.DefaultLog()}
}

func (c *config) app() ingestd.Config {
	return ingestd.Config{MQTT: c.MQTT, Influx: c.Influx, Ingest: c.Ingest}
}

func (c *config) Validate() error {
	if err := c.app().Validate(); err != nil {
		return err
	}
	if c.HTTP.Addr == "" {
		return errors.New("http.addr: required (host:port, e.g. 127.0.0.1:9181)")
	}
	return c.Log.Validate("log")
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg := defaultConfig()
	configPath, done, err := boot.Flags("ingest", args, &cfg, stderr)
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
	app, err := ingestd.New(cfg.app(), log, reg)
	if err != nil {
		return err
	}
	srv := boot.NewServer(boot.ServerConfig{
		Addr:     cfg.HTTP.Addr,
		Registry: reg,
		Checks: []boot.Check{
			{Name: "mqtt", Fn: app.BrokerReady},
			{Name: "influxdb", Fn: app.StoreReady},
		},
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
