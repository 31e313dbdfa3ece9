// Package bridged runs the MAVLink bridge as a service: the bridge
// (firmware-bridge) publishing into a durable spool (devices/spool), a
// forwarder (devices/forward) draining the spool to the MQTT broker and
// delivering the drones' commands, a retained status with a last will, and
// Prometheus gauges. cmd/mavbridge and the all-in-one cmd/smartdeal start the
// same service the same way: New, then Run. Loading the configuration and
// serving HTTP are the programs' business.
package bridged

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/devices/forward"
	"github.com/cd06/smartdeal/devices/spool"
	bridge "github.com/cd06/smartdeal/firmware-bridge"
)

// Config is the service's configuration; the koanf tags are the YAML keys
// of cmd/mavbridge.
type Config struct {
	// Site of every reading and topic.
	Site string `koanf:"site"`
	// (optional) the bridge's own device id, for its status topic; defaults
	// to "mavbridge".
	Device string `koanf:"device"`
	// MQTT is the broker connection.
	MQTT MQTTConfig `koanf:"mqtt"`
	// Spool is where readings wait for the broker.
	Spool SpoolConfig `koanf:"spool"`
	// MAVLink configures the bridge; its Site is set from Site.
	MAVLink bridge.Config `koanf:"mavlink"`
}

// MQTTConfig is the broker connection.
type MQTTConfig struct {
	URL string `koanf:"url"`
	// (optional) defaults to "mavbridge-<site>".
	ClientID string `koanf:"client_id"`
	Username string `koanf:"username"`
	Password string `koanf:"password"`
}

// SpoolConfig is where the durable spool lives.
type SpoolConfig struct {
	// Dir holds spool.db; created if missing.
	Dir string `koanf:"dir"`
	// (optional) bound of the spool in bytes; the oldest entries go first.
	MaxBytes int64 `koanf:"max_bytes"`
}

// DefaultDevice is the bridge's own device id when Config.Device is empty.
const DefaultDevice = "mavbridge"

// DefaultConfig is a local run: site "local", Mosquitto on 127.0.0.1:1883,
// the spool in /var/lib/smartdeal/mavbridge, drones on bridge.DefaultEndpoint.
func DefaultConfig() Config {
	return Config{
		Site:   "local",
		Device: DefaultDevice,
		MQTT:   MQTTConfig{URL: "tcp://127.0.0.1:1883"},
		Spool:  SpoolConfig{Dir: "/var/lib/smartdeal/mavbridge"},
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
	if c.Device != "" {
		if err := smartdeal.CheckID("device", c.Device); err != nil {
			errs = append(errs, fmt.Errorf("device: %w", err))
		}
	}
	if c.MQTT.URL == "" {
		errs = append(errs, errors.New("mqtt.url: required"))
	}
	if c.Spool.Dir == "" {
		errs = append(errs, errors.New("spool.dir: required"))
	}
	if err := (spool.Options{MaxBytes: c.Spool.MaxBytes}).Validate(); err != nil {
		errs = append(errs, fmt.Errorf("spool.%w", err))
	}
	m := c.MAVLink
	m.Site = c.Site
	if err := m.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Service is the bridge with its spool and broker connection.
type Service struct {
	cfg     Config
	log     *slog.Logger
	bridge  *bridge.Bridge
	topics  smartdeal.Topics
	status  string // status topic
	started time.Time

	running atomic.Bool
	sp      atomic.Pointer[spool.Spool]
	fw      atomic.Pointer[forward.Forwarder]
}

// New checks cfg and builds the service; Run starts it. log may be nil. reg,
// when not nil, receives the gauges smartdeal_mavbridge_frames_total,
// smartdeal_mavbridge_frames_lost_total and
// smartdeal_mavbridge_frames_refused_total.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Device == "" {
		cfg.Device = DefaultDevice
	}
	if cfg.MQTT.ClientID == "" {
		cfg.MQTT.ClientID = "mavbridge-" + cfg.Site
	}
	cfg.MAVLink.Site = cfg.Site
	s := &Service{cfg: cfg, log: log, topics: smartdeal.Topics{Prefix: cfg.MAVLink.TopicPrefix}}
	s.status = s.topics.Device(cfg.Site, cfg.Device, smartdeal.ChannelStatus)
	var err error
	if s.bridge, err = bridge.New(cfg.MAVLink, publisher{s}, log); err != nil {
		return nil, err
	}
	if reg != nil {
		if err := s.register(reg); err != nil {
			return nil, fmt.Errorf("bridged: metrics: %w", err)
		}
	}
	return s, nil
}

func (s *Service) register(reg prometheus.Registerer) error {
	b := s.bridge
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "smartdeal_mavbridge_frames_total",
			Help: "MAVLink frames read."}, func() float64 { return float64(b.Stats().Frames) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "smartdeal_mavbridge_frames_lost_total",
			Help: "MAVLink frames missing from sequence gaps."}, func() float64 { return float64(b.Stats().FramesLost) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "smartdeal_mavbridge_frames_refused_total",
			Help: "Frames dropped: bad checksum, undecodable, refused by signing."}, func() float64 {
			st := b.Stats()
			return float64(st.ChecksumErrors + st.DecodeErrors + st.SigningRefused + st.ParseErrors)
		}),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// publisher is the bridge's Publisher: the spool, open while Run runs.
type publisher struct{ s *Service }

func (p publisher) Publish(_ context.Context, topic string, payload []byte) error {
	sp := p.s.sp.Load()
	if sp == nil {
		return errors.New("bridged: spool not open")
	}
	return sp.Append(topic, payload)
}

// Bridge returns the MAVLink bridge, for its Stats and Vehicles.
func (s *Service) Bridge() *bridge.Bridge { return s.bridge }

// Config returns the configuration with its defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// Ready returns nil once the MAVLink endpoints are open and the broker
// connection is up, otherwise an error saying what is missing. It does not
// wait: use it as a readiness check.
func (s *Service) Ready(context.Context) error {
	select {
	case <-s.bridge.Ready():
	default:
		return errors.New("mavlink endpoints not open")
	}
	fw := s.fw.Load()
	if fw == nil || !fw.Stats().Connected {
		return errors.New("not connected to the mqtt broker")
	}
	return nil
}

// Run opens the spool, connects to the broker (reconnecting as needed) and
// bridges the drones until ctx ends. Shutdown: the bridge stops and hands its
// queue to the spool, the retained offline status is published, in-flight
// publishes are acknowledged, the spool is closed. Run returns after all its
// goroutines have exited: nil when ctx ended, or the error that stopped it
// (the spool cannot be opened, a MAVLink endpoint cannot be opened). A
// Service runs once.
func (s *Service) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("bridged: Run called twice")
	}
	s.started = time.Now()
	if err := os.MkdirAll(s.cfg.Spool.Dir, 0o750); err != nil {
		return fmt.Errorf("spool.dir: %w", err)
	}
	sp, err := spool.Open(filepath.Join(s.cfg.Spool.Dir, "spool.db"),
		spool.Options{MaxBytes: s.cfg.Spool.MaxBytes, Logger: s.log.With("component", "spool")})
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.sp.Store(sp)
	defer func() {
		s.sp.Store(nil)
		if err := sp.Close(); err != nil {
			s.log.Warn("spool close", "error", err)
		}
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var fw *forward.Forwarder
	fw, err = forward.New(sp, forward.Options{
		Broker: s.cfg.MQTT.URL, ClientID: s.cfg.MQTT.ClientID, Username: s.cfg.MQTT.Username, Password: s.cfg.MQTT.Password,
		Will:   &forward.Message{Topic: s.status, Payload: []byte(`{"state":"offline"}`), Retained: true},
		Logger: s.log.With("component", "forward"),
		OnConnect: func(ctx context.Context) {
			if err := fw.Publish(ctx, forward.Message{Topic: s.status, Payload: s.statusJSON("online"), Retained: true}); err != nil {
				s.log.Warn("status", "error", err)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("forwarder: %w", err)
	}
	fw.Subscribe(s.topics.Device(s.cfg.Site, "+", smartdeal.ChannelCmd), func(topic string, payload []byte) {
		// paho's goroutine: hand off, never wait long
		hctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		if err := s.bridge.HandleCommand(hctx, topic, payload); err != nil && !errors.Is(err, bridge.ErrNotOurs) {
			s.log.Warn("command", "topic", topic, "error", err)
		}
	})
	s.fw.Store(fw)

	// The forwarder outlives the bridge, so what the bridge flushes on
	// shutdown and the offline status still go out.
	fwCtx, stopFw := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFw()
	fwErr := make(chan error, 1)
	go func() {
		err := fw.Run(fwCtx)
		if err != nil && fwCtx.Err() == nil {
			cancel()
		}
		fwErr <- err
	}()

	err = s.bridge.Run(ctx)
	if err != nil {
		err = fmt.Errorf("bridge: %w", err)
	}
	offCtx, offCancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	if perr := fw.Publish(offCtx, forward.Message{Topic: s.status, Payload: s.statusJSON("offline"), Retained: true}); perr != nil {
		s.log.Debug("offline status not published", "error", perr)
	}
	offCancel()
	stopFw()
	if ferr := <-fwErr; ferr != nil && err == nil {
		err = fmt.Errorf("forwarder: %w", ferr)
	}
	s.log.Info("mavbridge stopped", "spool_depth", sp.Stats().Depth)
	return err
}

// statusJSON is the payload of the retained status topic.
func (s *Service) statusJSON(state string) []byte {
	var ss spool.Stats
	if sp := s.sp.Load(); sp != nil {
		ss = sp.Stats()
	}
	p, _ := json.Marshal(map[string]any{"state": state, "version": "mavbridge",
		"uptime_s": int(time.Since(s.started).Seconds()), "spool_depth": ss.Depth, "spool_dropped": ss.Dropped,
		"sensor_errors": map[string]int{}, "time": time.Now().UTC().Format(time.RFC3339), "bridge": s.bridge.Stats()})
	return p
}
