package gateway

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/drivers"
	"github.com/cd06/smartdeal/devices/forward"
	"github.com/cd06/smartdeal/devices/spool"
	bridge "github.com/cd06/smartdeal/firmware-bridge"
	"github.com/cd06/smartdeal/internal/tlsfiles"
)

// DefaultDevice is the gateway's own device id (status, events, commands) when
// none is configured.
const DefaultDevice = "gateway"

// Defaults of Config.
const (
	DefaultStatusInterval = time.Minute
	DefaultMaxHeld        = 100_000
	DefaultSpoolMaxBytes  = 64 << 20
)

// Config is a gateway's configuration, as in its YAML file (see
// deploy/gateway/gateway.example.yaml). Validate reports the first problem
// with the YAML path of the field.
type Config struct {
	// Site is the site id. Required.
	Site string `yaml:"site" json:"site"`
	// Device is (optional) the gateway's own device id, under which it publishes
	// its status and events and receives commands. Defaults to "gateway".
	Device string `yaml:"device,omitempty" json:"device,omitempty"`
	// TopicPrefix is (optional) the MQTT topic prefix, defaults to smartdeal/v1.
	TopicPrefix string `yaml:"topic_prefix,omitempty" json:"topic_prefix,omitempty"`
	Broker      Broker `yaml:"broker" json:"broker"`
	Spool       Spool  `yaml:"spool" json:"spool"`
	// Forward tunes the forwarder (optional).
	Forward Forward `yaml:"forward,omitempty" json:"forward,omitempty"`
	HTTP    HTTP    `yaml:"http,omitempty" json:"http,omitempty"`
	Log     Log     `yaml:"log,omitempty" json:"log,omitempty"`
	// StatusInterval is (optional) how often the retained status is refreshed,
	// defaults to 1m.
	StatusInterval devices.Duration `yaml:"status_interval,omitempty" json:"status_interval,omitempty"`
	// MaxHeld bounds the readings held in memory while the clock is not set
	// (optional, defaults to 100,000 packs); beyond it the oldest are dropped.
	MaxHeld int `yaml:"max_held,omitempty" json:"max_held,omitempty"`
	// Sensors lists the sensors; device ids must be unique. Required unless
	// MAVLink is set.
	Sensors []drivers.SensorConfig `yaml:"sensors" json:"sensors"`
	// MAVLink (optional) runs the MAVLink bridge in the gateway: drones on its
	// endpoints publish through the gateway's spool and forwarder, and their
	// cmd topics reach the bridge. Its site and topic prefix are the gateway's;
	// see bridge.Config for the fields and their defaults.
	MAVLink *bridge.Config `yaml:"mavlink,omitempty" json:"mavlink,omitempty"`
}

// Broker is the MQTT connection.
type Broker struct {
	// URL, e.g. tcp://broker:1883 or mqtts://broker:8883. Required.
	URL string `yaml:"url" json:"url"`
	// ClientID is (optional) the MQTT client id, defaults to smartdeal-gw-<site>-<device>.
	ClientID string `yaml:"client_id,omitempty" json:"client_id,omitempty"`
	// Username and Password (optional).
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
	Password string `yaml:"password,omitempty" json:"password,omitempty"`
	// TLS (optional).
	TLS TLS `yaml:"tls,omitempty" json:"tls,omitempty"`
}

// TLS names PEM files. CA alone verifies the broker; Cert and Key together
// authenticate the gateway.
type TLS struct {
	CA         string `yaml:"ca,omitempty" json:"ca,omitempty"`
	Cert       string `yaml:"cert,omitempty" json:"cert,omitempty"`
	Key        string `yaml:"key,omitempty" json:"key,omitempty"`
	ServerName string `yaml:"server_name,omitempty" json:"server_name,omitempty"`
}

// Spool is the on-disk queue.
type Spool struct {
	// Dir holds spool.db. Required.
	Dir string `yaml:"dir" json:"dir"`
	// MaxBytes is (optional) the size bound, defaults to 64 MiB.
	MaxBytes int64 `yaml:"max_bytes,omitempty" json:"max_bytes,omitempty"`
	// MaxEntries is (optional) the entry bound, defaults to 1,000,000.
	MaxEntries int `yaml:"max_entries,omitempty" json:"max_entries,omitempty"`
}

// Forward tunes the forwarder; see package forward.
type Forward struct {
	MaxInflight    int              `yaml:"max_inflight,omitempty" json:"max_inflight,omitempty"`
	DrainRate      float64          `yaml:"drain_rate,omitempty" json:"drain_rate,omitempty"`
	StrictOrder    bool             `yaml:"strict_order,omitempty" json:"strict_order,omitempty"`
	BackoffMin     devices.Duration `yaml:"backoff_min,omitempty" json:"backoff_min,omitempty"`
	BackoffMax     devices.Duration `yaml:"backoff_max,omitempty" json:"backoff_max,omitempty"`
	PublishTimeout devices.Duration `yaml:"publish_timeout,omitempty" json:"publish_timeout,omitempty"`
}

// HTTP is the local operations endpoint (/metrics, /healthz, /readyz).
type HTTP struct {
	// Addr is (optional) the listen address; empty disables it. The example
	// config uses 127.0.0.1:9102.
	Addr string `yaml:"addr,omitempty" json:"addr,omitempty"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level,omitempty" json:"level,omitempty"`   // debug, info (default), warn, error
	Format string `yaml:"format,omitempty" json:"format,omitempty"` // text (default) or json
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("invalid gateway configuration")

func cfgErr(field, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %w", field, fmt.Sprintf(format, args...), ErrConfig)
}

// DecodeConfig decodes a YAML configuration strictly (unknown keys are errors,
// reported with their line) without validating it, so that a program can apply
// environment overrides first.
func DecodeConfig(data []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("empty file: %w", ErrConfig)
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			// One line: "line 20: field colour not found in type gateway.Config".
			return Config{}, fmt.Errorf("%s: %w", strings.Join(te.Errors, "; "), ErrConfig)
		}
		return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}

// ParseConfig decodes a YAML configuration strictly and validates it.
func ParseConfig(data []byte) (Config, error) {
	c, err := DecodeConfig(data)
	if err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// LoadConfig reads and parses the YAML file at path.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config file: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("config file %s: %w", path, err)
	}
	return c, nil
}

// DeviceID returns the gateway's own device id.
func (c Config) DeviceID() string {
	if c.Device == "" {
		return DefaultDevice
	}
	return c.Device
}

// ClientID returns the MQTT client id.
func (c Config) ClientID() string {
	if c.Broker.ClientID != "" {
		return c.Broker.ClientID
	}
	return "smartdeal-gw-" + c.Site + "-" + c.DeviceID()
}

// Validate checks the configuration; the error names the field's YAML path,
// e.g. "sensors[2].address: 0x10: want 0x76 or 0x77".
func (c Config) Validate() error {
	if c.Site == "" {
		return cfgErr("site", "required")
	}
	if !smartdeal.ValidID(c.Site) {
		return cfgErr("site", "%q: want [a-z0-9][a-z0-9_-]{0,62}", c.Site)
	}
	if c.Device != "" && !smartdeal.ValidID(c.Device) {
		return cfgErr("device", "%q: want [a-z0-9][a-z0-9_-]{0,62}", c.Device)
	}
	if strings.ContainsAny(c.TopicPrefix, "+#") || strings.HasPrefix(c.TopicPrefix, "/") {
		return cfgErr("topic_prefix", "%q: no wildcards, no leading slash", c.TopicPrefix)
	}
	fo := c.forwardOptions(nil)
	if err := fo.Validate(); err != nil {
		return fmt.Errorf("%w: %w", err, ErrConfig)
	}
	if (c.Broker.TLS.Cert == "") != (c.Broker.TLS.Key == "") {
		return cfgErr("broker.tls", "cert and key go together")
	}
	for field, p := range map[string]string{"broker.tls.ca": c.Broker.TLS.CA, "broker.tls.cert": c.Broker.TLS.Cert, "broker.tls.key": c.Broker.TLS.Key} {
		if p != "" && !filepath.IsAbs(p) {
			return cfgErr(field, "%q: want an absolute path", p)
		}
	}
	if c.Spool.Dir == "" {
		return cfgErr("spool.dir", "required: where the spool file lives (e.g. /var/lib/smartdeal-gateway)")
	}
	if err := c.spoolOptions().Validate(); err != nil {
		return fmt.Errorf("spool.%w: %w", err, ErrConfig)
	}
	if c.MaxHeld < 0 {
		return cfgErr("max_held", "must not be negative, got %d", c.MaxHeld)
	}
	if c.StatusInterval != 0 && (time.Duration(c.StatusInterval) < time.Second || time.Duration(c.StatusInterval) > time.Hour) {
		return cfgErr("status_interval", "%s: want 1s to 1h", c.StatusInterval)
	}
	switch c.Log.Level {
	case "", "debug", "info", "warn", "error":
	default:
		return cfgErr("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "", "text", "json":
	default:
		return cfgErr("log.format", "%q: want text or json", c.Log.Format)
	}
	if len(c.Sensors) == 0 && c.MAVLink == nil {
		return cfgErr("sensors", "at least one sensor (or a mavlink section) is required")
	}
	seen := map[string]int{c.DeviceID(): -1}
	for i, s := range c.Sensors {
		if err := s.Validate(); err != nil {
			return fmt.Errorf("sensors[%d].%w: %w", i, err, ErrConfig)
		}
		if j, dup := seen[s.Device]; dup {
			if j < 0 {
				return cfgErr(fmt.Sprintf("sensors[%d].device", i), "%q is the gateway's own device id", s.Device)
			}
			return cfgErr(fmt.Sprintf("sensors[%d].device", i), "%q already used by sensors[%d]", s.Device, j)
		}
		seen[s.Device] = i
	}
	if c.MAVLink != nil {
		if err := c.bridgeConfig().Validate(); err != nil {
			return fmt.Errorf("%w: %w", err, ErrConfig)
		}
		for _, k := range sortedKeys(c.MAVLink.Devices) {
			d := c.MAVLink.Devices[k]
			if j, dup := seen[d]; dup {
				if j < 0 {
					return cfgErr("mavlink.devices."+k, "%q is the gateway's own device id", d)
				}
				return cfgErr("mavlink.devices."+k, "%q already used by sensors[%d]", d, j)
			}
		}
	}
	return nil
}

// bridgeConfig is the MAVLink section with the gateway's site and topic
// prefix; the zero Config when there is no section.
func (c Config) bridgeConfig() bridge.Config {
	var b bridge.Config
	if c.MAVLink != nil {
		b = *c.MAVLink
	}
	b.Site = c.Site
	b.TopicPrefix = c.TopicPrefix
	return b
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (c Config) spoolOptions() spool.Options {
	return spool.Options{MaxBytes: c.Spool.MaxBytes, MaxEntries: c.Spool.MaxEntries}
}

func (c Config) forwardOptions(tlsCfg *tls.Config) forward.Options {
	return forward.Options{
		Broker:         c.Broker.URL,
		ClientID:       c.ClientID(),
		Username:       c.Broker.Username,
		Password:       c.Broker.Password,
		TLS:            tlsCfg,
		MaxInflight:    c.Forward.MaxInflight,
		DrainRate:      c.Forward.DrainRate,
		StrictOrder:    c.Forward.StrictOrder,
		BackoffMin:     time.Duration(c.Forward.BackoffMin),
		BackoffMax:     time.Duration(c.Forward.BackoffMax),
		PublishTimeout: time.Duration(c.Forward.PublishTimeout),
	}
}

// tlsConfig loads the PEM files named in Broker.TLS; nil when none is set
// (a TLS URL then gets Go's defaults: TLS 1.2 or later, the system's roots).
func (c Config) tlsConfig() (*tls.Config, error) {
	t := c.Broker.TLS
	return tlsfiles.Files{CA: t.CA, Cert: t.Cert, Key: t.Key, ServerName: t.ServerName,
		CAKey: "broker.tls.ca", CertKey: "broker.tls.cert/key"}.Config()
}

// Redacted returns the configuration without secrets, for report_config.
func (c Config) Redacted() Config {
	r := c
	if r.Broker.Password != "" {
		r.Broker.Password = "***"
	}
	r.Sensors = append([]drivers.SensorConfig(nil), c.Sensors...)
	if c.MAVLink != nil {
		m := *c.MAVLink
		if len(m.SigningKeys) > 0 {
			m.SigningKeys = make(map[string]string, len(c.MAVLink.SigningKeys))
			for k := range c.MAVLink.SigningKeys {
				m.SigningKeys[k] = "***"
			}
		}
		r.MAVLink = &m
	}
	return r
}
