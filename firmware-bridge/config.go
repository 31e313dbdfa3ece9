package bridge

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"

	"github.com/cd06/smartdeal"
)

// DefaultEndpoint is where the bridge listens when no endpoint is configured:
// the port ArduPilot SITL, PX4 and telemetry radios' UDP bridges send to.
const DefaultEndpoint = "udp-server:0.0.0.0:14550"

// Config configures a Bridge. Fields are read by cmd/ from the "mavlink"
// section of the YAML file or SMARTDEAL_MAVLINK_* variables: the koanf tags
// are cmd/mavbridge's keys, the yaml tags the gateway's (devices/gateway,
// where Site and TopicPrefix are the gateway's own and have no key).
type Config struct {
	// Site of every reading and topic.
	Site string `koanf:"site" yaml:"-" json:"-"`
	// (optional) MQTT topic prefix; defaults to "smartdeal/v1".
	TopicPrefix string `koanf:"topic_prefix" yaml:"-" json:"-"`
	// (optional) MAVLink endpoints the vehicles are reached through, as
	// "udp-server:<host:port>", "udp-client:<host:port>", "tcp-server:<host:port>",
	// "tcp-client:<host:port>" or "serial:<device>:<baud>"; defaults to
	// DefaultEndpoint.
	Endpoints []string `koanf:"endpoints" yaml:"endpoints,omitempty" json:"endpoints,omitempty"`
	// (optional) endpoints of ground stations (e.g. QGroundControl) that get
	// every vehicle frame and whose frames go to the vehicles, unchanged.
	GCSEndpoints []string `koanf:"gcs_endpoints" yaml:"gcs_endpoints,omitempty" json:"gcs_endpoints,omitempty"`
	// (optional) system id of the bridge's own frames; defaults to 254 (QGroundControl
	// and Mission Planner use 255).
	SystemID uint8 `koanf:"system_id" yaml:"system_id,omitempty" json:"system_id,omitempty"`
	// (optional) component id of the bridge's own frames; defaults to 191
	// (MAV_COMP_ID_ONBOARD_COMPUTER).
	ComponentID uint8 `koanf:"component_id" yaml:"component_id,omitempty" json:"component_id,omitempty"`
	// (optional) device id per system id ("1" → "drone-alpha"); defaults to "drone-<sysid>".
	Devices map[string]string `koanf:"devices" yaml:"devices,omitempty" json:"devices,omitempty"`
	// (optional) MAVLink 2 signing key per system id: 64 hex characters, or a
	// passphrase hashed with SHA-256. Frames of a vehicle with a key must be
	// signed with it; others are refused and counted.
	SigningKeys map[string]string `koanf:"signing_keys" yaml:"signing_keys,omitempty" json:"signing_keys,omitempty"`
	// (optional) publication interval per message group (position, attitude,
	// gps, battery, mission, status, link, radio) as "1s", "500ms"; 0 publishes every
	// message, "-1s" never. Missing groups use DefaultRates.
	Rates map[string]string `koanf:"rates" yaml:"rates,omitempty" json:"rates,omitempty"`
	// (optional) do not ask the autopilots for streams (SET_MESSAGE_INTERVAL,
	// REQUEST_DATA_STREAM); for links where another GCS already does.
	NoStreamRequest bool `koanf:"no_stream_request" yaml:"no_stream_request,omitempty" json:"no_stream_request,omitempty"`
	// (optional) how long a vehicle may send no position before its streams
	// are requested again (a request lost on a radio link); defaults to 10 s.
	StreamRetry time.Duration `koanf:"stream_retry" yaml:"stream_retry,omitempty" json:"stream_retry,omitempty"`
	// (optional) period of the bridge's own HEARTBEAT; defaults to 1 s.
	HeartbeatPeriod time.Duration `koanf:"heartbeat_period" yaml:"heartbeat_period,omitempty" json:"heartbeat_period,omitempty"`
	// (optional) silence after which a vehicle's link is declared lost; defaults to 5 s.
	LinkTimeout time.Duration `koanf:"link_timeout" yaml:"link_timeout,omitempty" json:"link_timeout,omitempty"`
	// (optional) battery percentages for the low-battery warning and critical
	// events; default to 25 and 10.
	LowBattery      float64 `koanf:"low_battery" yaml:"low_battery,omitempty" json:"low_battery,omitempty"`
	CriticalBattery float64 `koanf:"critical_battery" yaml:"critical_battery,omitempty" json:"critical_battery,omitempty"`
	// (optional) outgoing queue towards the publisher, in messages; defaults to 4096.
	// When it is full, messages are dropped and counted (Stats.PublishDropped).
	QueueSize int `koanf:"queue_size" yaml:"queue_size,omitempty" json:"queue_size,omitempty"`
}

// Endpoint is one parsed endpoint string.
type Endpoint struct {
	Kind    string // udp-server, udp-client, tcp-server, tcp-client, serial
	Address string // host:port, or the serial device
	Baud    int    // serial only
}

// ParseEndpoint parses "kind:address" (see Config.Endpoints).
func ParseEndpoint(s string) (Endpoint, error) {
	kind, rest, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || rest == "" {
		return Endpoint{}, fmt.Errorf("%q: want kind:address", s)
	}
	switch kind {
	case "udp-server", "udp-client", "tcp-server", "tcp-client":
		host, port, ok := strings.Cut(rest, ":")
		if !ok || strings.Contains(port, ":") && !strings.HasPrefix(rest, "[") {
			return Endpoint{}, fmt.Errorf("%q: want %s:host:port", s, kind)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			return Endpoint{}, fmt.Errorf("%q: bad port %q", s, port)
		}
		if kind != "udp-server" && kind != "tcp-server" && (host == "" || port == "0") {
			return Endpoint{}, fmt.Errorf("%q: a client needs a host and a port", s)
		}
		return Endpoint{Kind: kind, Address: rest}, nil
	case "serial":
		i := strings.LastIndexByte(rest, ':')
		if i <= 0 {
			return Endpoint{}, fmt.Errorf("%q: want serial:<device>:<baud>", s)
		}
		baud, err := strconv.Atoi(rest[i+1:])
		if err != nil || baud <= 0 {
			return Endpoint{}, fmt.Errorf("%q: bad baud rate %q", s, rest[i+1:])
		}
		return Endpoint{Kind: kind, Address: rest[:i], Baud: baud}, nil
	}
	return Endpoint{}, fmt.Errorf("%q: unknown kind %q (want udp-server, udp-client, tcp-server, tcp-client or serial)", s, kind)
}

// Conf returns the gomavlib endpoint configuration.
func (e Endpoint) Conf() gomavlib.EndpointConf {
	switch e.Kind {
	case "udp-server":
		return gomavlib.EndpointUDPServer{Address: e.Address}
	case "udp-client":
		return gomavlib.EndpointUDPClient{Address: e.Address}
	case "tcp-server":
		return gomavlib.EndpointTCPServer{Address: e.Address}
	case "tcp-client":
		return gomavlib.EndpointTCPClient{Address: e.Address}
	default:
		return gomavlib.EndpointSerial{Device: e.Address, Baud: e.Baud}
	}
}

func (e Endpoint) String() string {
	if e.Kind == "serial" {
		return fmt.Sprintf("serial:%s:%d", e.Address, e.Baud)
	}
	return e.Kind + ":" + e.Address
}

func parseSysID(s string) (uint8, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 255 {
		return 0, fmt.Errorf("system id %q: want 1…255", s)
	}
	return uint8(n), nil
}

// Validate checks the configuration; errors name the YAML path under "mavlink".
func (c Config) Validate() error {
	var errs []error
	if err := smartdeal.CheckID("site", c.Site); err != nil {
		errs = append(errs, fmt.Errorf("mavlink.site: %w", err))
	}
	for i, e := range c.Endpoints {
		if _, err := ParseEndpoint(e); err != nil {
			errs = append(errs, fmt.Errorf("mavlink.endpoints[%d]: %w", i, err))
		}
	}
	for i, e := range c.GCSEndpoints {
		if _, err := ParseEndpoint(e); err != nil {
			errs = append(errs, fmt.Errorf("mavlink.gcs_endpoints[%d]: %w", i, err))
		}
	}
	devs := map[string]string{}
	for _, k := range sortedKeys(c.Devices) {
		if _, err := parseSysID(k); err != nil {
			errs = append(errs, fmt.Errorf("mavlink.devices.%s: %w", k, err))
		}
		d := c.Devices[k]
		if err := smartdeal.CheckID("device", d); err != nil {
			errs = append(errs, fmt.Errorf("mavlink.devices.%s: %w", k, err))
		} else if other, dup := devs[d]; dup {
			errs = append(errs, fmt.Errorf("mavlink.devices.%s: device %q already used by system id %s", k, d, other))
		}
		devs[d] = k
	}
	for _, k := range sortedKeys(c.SigningKeys) {
		if _, err := parseSysID(k); err != nil {
			errs = append(errs, fmt.Errorf("mavlink.signing_keys.%s: %w", k, err))
		}
		if _, err := ParseKey(c.SigningKeys[k]); err != nil {
			errs = append(errs, fmt.Errorf("mavlink.signing_keys.%s: %w", k, err))
		}
	}
	for _, k := range sortedKeys(c.Rates) {
		if _, ok := DefaultRates[k]; !ok {
			errs = append(errs, fmt.Errorf("mavlink.rates.%s: unknown group (want one of %s)", k, strings.Join(Groups, ", ")))
		}
		if _, err := time.ParseDuration(c.Rates[k]); err != nil {
			errs = append(errs, fmt.Errorf("mavlink.rates.%s: %w", k, err))
		}
	}
	if c.HeartbeatPeriod < 0 {
		errs = append(errs, errors.New("mavlink.heartbeat_period: must not be negative"))
	}
	if c.StreamRetry < 0 {
		errs = append(errs, errors.New("mavlink.stream_retry: must not be negative"))
	}
	if c.LinkTimeout < 0 {
		errs = append(errs, errors.New("mavlink.link_timeout: must not be negative"))
	}
	if c.LowBattery < 0 || c.LowBattery > 100 {
		errs = append(errs, errors.New("mavlink.low_battery: want 0…100"))
	}
	if c.CriticalBattery < 0 || c.CriticalBattery > 100 {
		errs = append(errs, errors.New("mavlink.critical_battery: want 0…100"))
	}
	if c.QueueSize < 0 {
		errs = append(errs, errors.New("mavlink.queue_size: must not be negative"))
	}
	return errors.Join(errs...)
}

func (c *Config) setDefaults() {
	if len(c.Endpoints) == 0 {
		c.Endpoints = []string{DefaultEndpoint}
	}
	if c.SystemID == 0 {
		c.SystemID = 254
	}
	if c.ComponentID == 0 {
		c.ComponentID = 191
	}
	if c.HeartbeatPeriod == 0 {
		c.HeartbeatPeriod = time.Second
	}
	if c.LinkTimeout == 0 {
		c.LinkTimeout = 5 * time.Second
	}
	if c.StreamRetry == 0 {
		c.StreamRetry = 10 * time.Second
	}
	if c.QueueSize == 0 {
		c.QueueSize = 4096
	}
}

// devices returns the system id → device map.
func (c Config) devices() map[uint8]string {
	out := make(map[uint8]string, len(c.Devices))
	for k, d := range c.Devices {
		if id, err := parseSysID(k); err == nil {
			out[id] = d
		}
	}
	return out
}

// Keys returns the signing keys by system id.
func (c Config) keys() map[uint8]*frame.V2Key {
	out := make(map[uint8]*frame.V2Key, len(c.SigningKeys))
	for k, s := range c.SigningKeys {
		id, err1 := parseSysID(k)
		key, err2 := ParseKey(s)
		if err1 == nil && err2 == nil {
			out[id] = key
		}
	}
	return out
}

func (c Config) rates() map[string]time.Duration {
	out := make(map[string]time.Duration, len(c.Rates))
	for k, s := range c.Rates {
		if d, err := time.ParseDuration(s); err == nil {
			out[k] = d
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
