// Command gateway runs a SMART Deal edge gateway on a Raspberry Pi: it reads the
// sensors listed in its YAML config, spools readings durably and forwards them
// to the MQTT broker. See docs/gateway.md.
//
//	gateway -config /etc/smartdeal/gateway.yaml
//
// Environment variables override the file: SMARTDEAL_MQTT_URL,
// SMARTDEAL_MQTT_CLIENT_ID, SMARTDEAL_MQTT_USERNAME, SMARTDEAL_MQTT_PASSWORD,
// SMARTDEAL_SITE, SMARTDEAL_SPOOL_DIR, SMARTDEAL_HTTP_ADDR, SMARTDEAL_LOG_LEVEL,
// SMARTDEAL_LOG_FORMAT; SMARTDEAL_CONFIG names the file when -config is absent.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cd06/smartdeal/cmd/internal/boot"
	"github.com/cd06/smartdeal/devices/gateway"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gateway:", err)
		}
		os.Exit(1)
	}
}

// envOverrides maps environment variables to the config fields they replace.
var envOverrides = []struct {
	name string
	set  func(*gateway.Config, string)
}{
	{"SMARTDEAL_MQTT_URL", func(c *gateway.Config, v string) { c.Broker.URL = v }},
	{"SMARTDEAL_MQTT_CLIENT_ID", func(c *gateway.Config, v string) { c.Broker.ClientID = v }},
	{"SMARTDEAL_MQTT_USERNAME", func(c *gateway.Config, v string) { c.Broker.Username = v }},
	{"SMARTDEAL_MQTT_PASSWORD", func(c *gateway.Config, v string) { c.Broker.Password = v }},
	{"SMARTDEAL_SITE", func(c *gateway.Config, v string) { c.Site = v }},
	{"SMARTDEAL_SPOOL_DIR", func(c *gateway.Config, v string) { c.Spool.Dir = v }},
	{"SMARTDEAL_HTTP_ADDR", func(c *gateway.Config, v string) { c.HTTP.Addr = v }},
	{"SMARTDEAL_LOG_LEVEL", func(c *gateway.Config, v string) { c.Log.Level = v }},
	{"SMARTDEAL_LOG_FORMAT", func(c *gateway.Config, v string) { c.Log.Format = v }},
}

// loadConfig reads the YAML file strictly, applies the environment, validates.
func loadConfig(path string, getenv func(string) string) (gateway.Config, error) {
	if path == "" {
		path = getenv(boot.EnvConfig)
	}
	if path == "" {
		return gateway.Config{}, errors.New("no config file: pass -config or set " + boot.EnvConfig)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return gateway.Config{}, fmt.Errorf("config file: %w", err)
	}
	cfg, err := gateway.DecodeConfig(b)
	if err != nil {
		return gateway.Config{}, fmt.Errorf("config file %s: %w", path, err)
	}
	for _, o := range envOverrides {
		if v := getenv(o.name); v != "" {
			o.set(&cfg, v)
		}
	}
	if err := cfg.Validate(); err != nil {
		return gateway.Config{}, fmt.Errorf("config file %s: %w", path, err)
	}
	return cfg, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file (or $SMARTDEAL_CONFIG)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	check := fs.Bool("check", false, "validate the configuration and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *showVersion {
		fmt.Fprintf(stderr, "smartdeal gateway %s (trusts the clock from %s)\n", gateway.Version(), gateway.MinClock().Format("2006-01-02T15:04:05Z"))
		return nil
	}
	cfg, err := loadConfig(*configPath, getenv)
	if err != nil {
		return err
	}
	if *check {
		fmt.Fprintf(stderr, "config ok: site %s, %d sensors\n", cfg.Site, len(cfg.Sensors))
		return nil
	}
	log, err := boot.NewLogger(boot.Log{Level: cfg.Log.Level, Format: cfg.Log.Format}, stderr)
	if err != nil {
		return err
	}
	ctx, stop := boot.SignalContext(ctx)
	defer stop()

	g, err := gateway.New(cfg, log)
	if err != nil {
		return err
	}
	srv := boot.NewServer(boot.ServerConfig{
		Addr:     cfg.HTTP.Addr,
		Registry: g.Registry(),
		Checks:   []boot.Check{{Name: "spool", Fn: g.Ready}},
	}, log.With("component", "http"))
	srvErr := make(chan error, 1)
	if cfg.HTTP.Addr != "" {
		if err := srv.Listen(); err != nil {
			return err
		}
		log.Info("operations endpoint", "addr", srv.Addr())
		go func() { srvErr <- srv.Run(ctx) }()
	} else {
		srvErr <- nil
	}
	runErr := g.Run(ctx)
	stop()
	return errors.Join(runErr, <-srvErr)
}
