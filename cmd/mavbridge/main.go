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
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/cmd/internal/boot"
	"github.com/cd06/smartdeal/devices/forward"
	"github.com/cd06/smartdeal/devices/spool"
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

// Config is the program's configuration.
type Config struct {
	Site string `koanf:"site"`
	// Device is the bridge's own device id (status topic); defaults to "mavbridge".
	Device string   `koanf:"device"`
	MQTT   MQTT     `koanf:"mqtt"`
	Spool  SpoolCfg `koanf:"spool"`
	// HTTPAddr serves /healthz, /readyz and /metrics; empty disables it.
	HTTPAddr string        `koanf:"http_addr"`
	Log      boot.Log      `koanf:"log"`
	MAVLink  bridge.Config `koanf:"mavlink"`
}

// MQTT is the broker connection.
type MQTT struct {
	URL      string `koanf:"url"`
	ClientID string `koanf:"client_id"`
	Username string `koanf:"username"`
	Password string `koanf:"password"`
}

// SpoolCfg is where the durable spool lives.
type SpoolCfg struct {
	Dir      string `koanf:"dir"`
	MaxBytes int64  `koanf:"max_bytes"`
}

func defaults() Config {
	return Config{
		Site:   "local",
		Device: "mavbridge",
		MQTT:   MQTT{URL: "tcp://127.0.0.1:1883"},
		Spool:  SpoolCfg{Dir: "/var/lib/smartdeal/mavbridge"},
		Log:    boot.DefaultLog(),
		MAVLink: bridge.Config{
			Endpoints: []string{bridge.DefaultEndpoint},
		},
	}
}

// Validate checks the configuration; errors name the YAML path.
func (c Config) Validate() error {
	var errs []error
	if err := smartdeal.CheckID("site", c.Site); err != nil {
		errs = append(errs, fmt.Errorf("site: %w", err))
	}
	if err := smartdeal.CheckID("device", c.Device); err != nil {
		errs = append(errs, fmt.Errorf("device: %w", err))
	}
	if c.MQTT.URL == "" {
		errs = append(errs, errors.New("mqtt.url: required"))
	}
	if c.Spool.Dir == "" {
		errs = append(errs, errors.New("spool.dir: required"))
	}
	if err := c.Log.Validate("log"); err != nil {
		errs = append(errs, err)
	}
	m := c.MAVLink
	m.Site = c.Site
	if err := m.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
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
	cfg.MAVLink.Site = cfg.Site
	if cfg.MQTT.ClientID == "" {
		cfg.MQTT.ClientID = "mavbridge-" + cfg.Site
	}
	return cfg, nil
}

// spoolPublisher is the bridge's Publisher on the durable spool.
type spoolPublisher struct{ sp *spool.Spool }

func (p spoolPublisher) Publish(_ context.Context, topic string, payload []byte) error {
	return p.sp.Append(topic, payload)
}

var _ bridge.Publisher = spoolPublisher{}

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
	ctx, stop := boot.SignalContext(ctx)
	defer stop()

	if err := os.MkdirAll(cfg.Spool.Dir, 0o750); err != nil {
		return fmt.Errorf("spool dir: %w", err)
	}
	sp, err := spool.Open(filepath.Join(cfg.Spool.Dir, "spool.db"), spool.Options{MaxBytes: cfg.Spool.MaxBytes, Logger: log})
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer sp.Close()

	b, err := bridge.New(cfg.MAVLink, spoolPublisher{sp}, log)
	if err != nil {
		return err
	}
	topics := smartdeal.Topics{Prefix: cfg.MAVLink.TopicPrefix}
	statusTopic := topics.Device(cfg.Site, cfg.Device, smartdeal.ChannelStatus)
	started := time.Now()
	status := func(state string) []byte {
		ss := sp.Stats()
		p, _ := json.Marshal(map[string]any{"state": state, "version": "mavbridge", "uptime_s": int(time.Since(started).Seconds()),
			"spool_depth": ss.Depth, "spool_dropped": ss.Dropped, "sensor_errors": map[string]int{},
			"time": time.Now().UTC().Format(time.RFC3339), "bridge": b.Stats()})
		return p
	}
	var fw *forward.Forwarder
	fw, err = forward.New(sp, forward.Options{
		Broker: cfg.MQTT.URL, ClientID: cfg.MQTT.ClientID, Username: cfg.MQTT.Username, Password: cfg.MQTT.Password,
		Will:   &forward.Message{Topic: statusTopic, Payload: []byte(`{"state":"offline"}`), Retained: true},
		Logger: log,
		OnConnect: func(ctx context.Context) {
			if err := fw.Publish(ctx, forward.Message{Topic: statusTopic, Payload: status("online"), Retained: true}); err != nil {
				log.Warn("status", "error", err)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("forwarder: %w", err)
	}
	fw.Subscribe(topics.Device(cfg.Site, "+", smartdeal.ChannelCmd), func(topic string, payload []byte) {
		// paho's goroutine: hand off, never wait long
		hctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		if err := b.HandleCommand(hctx, topic, payload); err != nil && !errors.Is(err, bridge.ErrNotOurs) {
			log.Warn("command", "topic", topic, "error", err)
		}
	})

	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "smartdeal_mavbridge_frames_total",
		Help: "MAVLink frames read."}, func() float64 { return float64(b.Stats().Frames) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "smartdeal_mavbridge_frames_lost_total",
		Help: "MAVLink frames missing from sequence gaps."}, func() float64 { return float64(b.Stats().FramesLost) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "smartdeal_mavbridge_frames_refused_total",
		Help: "Frames dropped: bad checksum, undecodable, refused by signing."}, func() float64 {
		s := b.Stats()
		return float64(s.ChecksumErrors + s.DecodeErrors + s.SigningRefused + s.ParseErrors)
	}))
	srv := boot.NewServer(boot.ServerConfig{Addr: cfg.HTTPAddr, Registry: reg}, log)

	var wg sync.WaitGroup
	errs := make(chan error, 3)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errs <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	start("bridge", b.Run)
	start("forwarder", fw.Run)
	if cfg.HTTPAddr != "" {
		start("http", srv.Run)
	}
	<-ctx.Done()
	wg.Wait()
	close(errs)
	return <-errs
}
