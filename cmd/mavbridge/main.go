// Command mavbridge runs the SMART Deal MAVLink bridge on its own: it listens
// to drones (ArduPilot, PX4) on the configured MAVLink endpoints, spools their
// readings and events durably, and forwards them to the MQTT broker, exactly
// as the bridge does inside the gateway. See docs/drones.md.
//
//	mavbridge -config /etc/smartdeal/mavbridge.yaml
//
// Environment variables override the file (SMARTDEAL_<KEY>, '.' → '_'):
// SMARTDEAL_SITE, SMARTDEAL_MQTT_URL, SMARTDEAL_MQTT_CLIENT_ID,
// SMARTDEAL_SPOOL_DIR, SMARTDEAL_HTTP_ADDR, SMARTDEAL_MAVLINK_ENDPOINTS
// (comma-separated, e.g. udp-server:0.0.0.0:14550,serial:/dev/ttyACM0:57600),
// SMARTDEAL_MAVLINK_GCS_ENDPOINTS, and the maps SMARTDEAL_MAVLINK_DEVICES
// ("1=drone-alpha,2=drone-beta"), SMARTDEAL_MAVLINK_SIGNING_KEYS ("1=<hex or
// passphrase>") and SMARTDEAL_MAVLINK_RATES ("position=1s,attitude=-1s").
//
// The service itself (spool, forwarder, bridge, status, gauges) is
// cmd/internal/bridged, which the all-in-one embeds; this program loads
// the configuration and serves /healthz, /readyz and /metrics.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cd06/smartdeal/cmd/internal/boot"
	"github.com/cd06/smartdeal/cmd/internal/bridged"
	bridge "github.com/cd06/smartdeal/firmware-bridge"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "mavbridge:", err)
		}
		os.Exit(1)
	}
}

// Config is the program's configuration: the service's (bridged.Config,
// same keys) plus the HTTP address and the log.
type Config struct {
	Site string `koanf:"site"`
	// Device is the bridge's own device id (status topic); defaults to "mavbridge".
	Device string              `koanf:"device"`
	MQTT   bridged.MQTTConfig  `koanf:"mqtt"`
	Spool  bridged.SpoolConfig `koanf:"spool"`
	// HTTPAddr serves /healthz, /readyz and /metrics; empty disables it.
	HTTPAddr string        `koanf:"http_addr"`
	Log      boot.Log      `koanf:"log"`
	MAVLink  bridge.Config `koanf:"mavlink"`
}

func defaults() Config {
	d := bridged.DefaultConfig()
	return Config{Site: d.Site, Device: d.Device, MQTT: d.MQTT, Spool: d.Spool, Log: boot.DefaultLog(), MAVLink: d.MAVLink}
}

// service is the part of the configuration that bridged takes.
func (c Config) service() bridged.Config {
	return bridged.Config{Site: c.Site, Device: c.Device, MQTT: c.MQTT, Spool: c.Spool, MAVLink: c.MAVLink}
}

// Validate checks the configuration; errors name the YAML path.
func (c Config) Validate() error {
	return errors.Join(c.service().Validate(), c.Log.Validate("log"))
}

// mapEnv are the map settings, which the environment gives as "k=v,k=v".
var mapEnv = map[string]func(*Config) *map[string]string{
	"SMARTDEAL_MAVLINK_DEVICES":      func(c *Config) *map[string]string { return &c.MAVLink.Devices },
	"SMARTDEAL_MAVLINK_SIGNING_KEYS": func(c *Config) *map[string]string { return &c.MAVLink.SigningKeys },
	"SMARTDEAL_MAVLINK_RATES":        func(c *Config) *map[string]string { return &c.MAVLink.Rates },
}

func loadConfig(path string, getenv func(string) string) (Config, error) {
	cfg := defaults()
	hidden := func(k string) string {
		if _, ok := mapEnv[k]; ok {
			return ""
		}
		return getenv(k)
	}
	if err := boot.Load(&cfg, path, hidden); err != nil {
		return Config{}, err
	}
	// maps from the environment come last, then everything is checked again
	for name, field := range mapEnv {
		v := getenv(name)
		if v == "" {
			continue
		}
		m := map[string]string{}
		for _, kv := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok || k == "" {
				return Config{}, fmt.Errorf("config: %s: %q is not key=value", name, kv)
			}
			m[k] = val
		}
		*field(&cfg) = m
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("mavbridge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file (or $SMARTDEAL_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*configPath, getenv)
	if err != nil {
		return err
	}
	log, err := boot.NewLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	log = log.With("site", cfg.Site)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	svc, err := bridged.New(cfg.service(), log, reg)
	if err != nil {
		return err
	}
	srv := boot.NewServer(boot.ServerConfig{Addr: cfg.HTTPAddr, Registry: reg,
		Checks: []boot.Check{{Name: "mavbridge", Fn: svc.Ready}}}, log.With("component", "http"))

	ctx, stop := boot.SignalContext(ctx)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	// each returns when ctx ends or on a fatal error, which stops the other
	start := func(f func(context.Context) error) {
		wg.Go(func() {
			defer cancel()
			if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errs <- err
			}
		})
	}
	start(svc.Run) // its errors say "bridge: …", "spool: …"
	if cfg.HTTPAddr != "" {
		start(srv.Run) // "http listen …"
	}
	wg.Wait()
	close(errs)
	return <-errs
}
