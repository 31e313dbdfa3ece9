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
// The MAVLink bridge (the mavlink section) takes the variables of
// cmd/mavbridge, each of which adds the section when the file has none:
// SMARTDEAL_MAVLINK_ENDPOINTS and SMARTDEAL_MAVLINK_GCS_ENDPOINTS
// (comma-separated, e.g. udp-server:0.0.0.0:14550,serial:/dev/ttyACM0:57600)
// and the maps SMARTDEAL_MAVLINK_DEVICES ("1=drone-alpha,2=drone-beta"),
// SMARTDEAL_MAVLINK_SIGNING_KEYS and SMARTDEAL_MAVLINK_RATES ("position=1s").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cd06/smartdeal/cmd/internal/boot"
	"github.com/cd06/smartdeal/devices/gateway"
	bridge "github.com/cd06/smartdeal/firmware-bridge"
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
	set  func(*gateway.Config, string) error
}{
	{"SMARTDEAL_MQTT_URL", str(func(c *gateway.Config) *string { return &c.Broker.URL })},
	{"SMARTDEAL_MQTT_CLIENT_ID", str(func(c *gateway.Config) *string { return &c.Broker.ClientID })},
	{"SMARTDEAL_MQTT_USERNAME", str(func(c *gateway.Config) *string { return &c.Broker.Username })},
	{"SMARTDEAL_MQTT_PASSWORD", str(func(c *gateway.Config) *string { return &c.Broker.Password })},
	{"SMARTDEAL_SITE", str(func(c *gateway.Config) *string { return &c.Site })},
	{"SMARTDEAL_SPOOL_DIR", str(func(c *gateway.Config) *string { return &c.Spool.Dir })},
	{"SMARTDEAL_HTTP_ADDR", str(func(c *gateway.Config) *string { return &c.HTTP.Addr })},
	{"SMARTDEAL_LOG_LEVEL", str(func(c *gateway.Config) *string { return &c.Log.Level })},
	{"SMARTDEAL_LOG_FORMAT", str(func(c *gateway.Config) *string { return &c.Log.Format })},
	{"SMARTDEAL_MAVLINK_ENDPOINTS", list(func(m *bridge.Config) *[]string { return &m.Endpoints })},
	{"SMARTDEAL_MAVLINK_GCS_ENDPOINTS", list(func(m *bridge.Config) *[]string { return &m.GCSEndpoints })},
	{"SMARTDEAL_MAVLINK_DEVICES", pairs(func(m *bridge.Config) *map[string]string { return &m.Devices })},
	{"SMARTDEAL_MAVLINK_SIGNING_KEYS", pairs(func(m *bridge.Config) *map[string]string { return &m.SigningKeys })},
	{"SMARTDEAL_MAVLINK_RATES", pairs(func(m *bridge.Config) *map[string]string { return &m.Rates })},
}

func str(field func(*gateway.Config) *string) func(*gateway.Config, string) error {
	return func(c *gateway.Config, v string) error { *field(c) = v; return nil }
}

// mavlink returns the mavlink section, adding it when the file has none.
func mavlink(c *gateway.Config) *bridge.Config {
	if c.MAVLink == nil {
		c.MAVLink = &bridge.Config{}
	}
	return c.MAVLink
}

// list sets a comma-separated list of the mavlink section.
func list(field func(*bridge.Config) *[]string) func(*gateway.Config, string) error {
	return func(c *gateway.Config, v string) error {
		var l []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				l = append(l, s)
			}
		}
		*field(mavlink(c)) = l
		return nil
	}
}

// pairs sets a map of the mavlink section from "k=v,k=v".
func pairs(field func(*bridge.Config) *map[string]string) func(*gateway.Config, string) error {
	return func(c *gateway.Config, v string) error {
		m := map[string]string{}
		for _, kv := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok || k == "" {
				return fmt.Errorf("%q is not key=value", kv)
			}
			m[k] = val
		}
		*field(mavlink(c)) = m
		return nil
	}
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
			if err := o.set(&cfg, v); err != nil {
				return gateway.Config{}, fmt.Errorf("%s: %w", o.name, err)
			}
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
		if cfg.MAVLink != nil {
			fmt.Fprintf(stderr, "config ok: site %s, %d sensors, mavlink on %s\n", cfg.Site, len(cfg.Sensors), endpoints(cfg.MAVLink))
			return nil
		}
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
		Checks:   []boot.Check{{Name: "gateway", Fn: g.Ready}},
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

// endpoints describes the MAVLink endpoints, with their default.
func endpoints(m *bridge.Config) string {
	if len(m.Endpoints) == 0 {
		return bridge.DefaultEndpoint
	}
	return strings.Join(m.Endpoints, ",")
}
