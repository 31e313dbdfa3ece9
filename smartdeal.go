// Package smartdeal holds the domain types shared by every part of the SMART Deal
// telemetry platform: site and device identifiers, MQTT topics, quantities and
// readings. It imports only the standard library so that the lean gateway binary,
// the ingest service and the API can all depend on it.
package smartdeal

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	// ErrInvalidID means a site or device identifier is not [a-z0-9][a-z0-9_-]{0,62}.
	ErrInvalidID = errors.New("invalid identifier")
	// ErrInvalidTopic means an MQTT topic does not follow the platform's layout.
	ErrInvalidTopic = errors.New("invalid topic")
	// ErrInvalidQuantity means a quantity name is not [a-z][a-z0-9_]{0,62}.
	ErrInvalidQuantity = errors.New("invalid quantity")
	// ErrInvalidValue means a reading has no value, or a non-finite number.
	ErrInvalidValue = errors.New("invalid value")
	// ErrInvalidTime means a reading's time is absurd (before 2000 or too far in the future).
	ErrInvalidTime = errors.New("invalid time")
	// ErrMalformedPayload means a telemetry payload cannot be decoded (not SenML,
	// not line protocol, broken JSON, wrong types, too large).
	ErrMalformedPayload = errors.New("malformed payload")
	// ErrIdentityMismatch means a payload claims a site or device other than the
	// one its topic (and so the broker's ACL) gives it.
	ErrIdentityMismatch = errors.New("payload claims another site or device")
)

// MaxIDLen is the longest site or device identifier.
const MaxIDLen = 63

// ValidID reports whether s is a valid site or device identifier:
// a lowercase letter or digit followed by up to 62 lowercase letters, digits, '_' or '-'.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// CheckID returns an error wrapping ErrInvalidID when s is not a valid identifier.
func CheckID(kind, s string) error {
	if !ValidID(s) {
		return fmt.Errorf("%s %q: %w", kind, truncate(s, 80), ErrInvalidID)
	}
	return nil
}

// ValidQuantity reports whether s is a valid quantity name: a lowercase letter
// followed by up to 62 lowercase letters, digits or '_' (e.g. "pm2_5", "temperature").
func ValidQuantity(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
		case (c >= '0' && c <= '9' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// ValidUnit reports whether s is acceptable as a unit: empty, or up to 32
// printable ASCII characters without quotes, commas, spaces or backslashes
// (SenML units such as "Cel", "%RH", "ug/m3", "m/s").
func ValidUnit(s string) bool {
	if len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == ',' || c == '\\' || c == '=' {
			return false
		}
	}
	return true
}

// MaxTextLen is the longest string (SenML vs) or data (vd) value a reading may
// carry: InfluxDB limits a string field to 64 KiB.
const MaxTextLen = 64 << 10

// Series is the unit people look at and that proposals and missions link to:
// one quantity of one device.
type Series struct {
	Site     string `json:"site"`
	Device   string `json:"device"`
	Quantity string `json:"quantity"`
	Unit     string `json:"unit,omitempty"`
}

// Kind tells which of a reading's value fields is set.
type Kind uint8

// Value kinds, as in SenML: number (v), string (vs), boolean (vb), data (vd).
const (
	KindNumber Kind = iota
	KindString
	KindBool
	KindData
)

// Reading is one resolved measurement of one series at one time.
type Reading struct {
	Site     string
	Device   string
	Quantity string
	Unit     string
	Time     time.Time
	Kind     Kind
	Number   float64 // when Kind is KindNumber
	Text     string  // when Kind is KindString or KindData (base64url, as SenML vd)
	Bool     bool    // when Kind is KindBool
	// Sum is the SenML integrated sum, when the record carries one (s).
	Sum    float64
	HasSum bool
	// Mission is the id of the mission the device was flying, if any.
	Mission string
}

// Series returns the series the reading belongs to.
func (r Reading) Series() Series {
	return Series{Site: r.Site, Device: r.Device, Quantity: r.Quantity, Unit: r.Unit}
}

// MaxFutureSkew is how far in the future a reading's time may be: a device clock a
// little ahead is tolerated, a reading dated next year is not.
const MaxFutureSkew = 10 * time.Minute

// Epoch2000 is the earliest accepted reading time; earlier times come from
// unsynchronised clocks (a Raspberry Pi boots in 1970).
var Epoch2000 = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Validate checks the reading's identifiers, value and time against now.
func (r Reading) Validate(now time.Time) error {
	if err := CheckID("site", r.Site); err != nil {
		return err
	}
	if err := CheckID("device", r.Device); err != nil {
		return err
	}
	if !ValidQuantity(r.Quantity) {
		return fmt.Errorf("quantity %q: %w", truncate(r.Quantity, 80), ErrInvalidQuantity)
	}
	if !ValidUnit(r.Unit) {
		return fmt.Errorf("unit %q of %s: %w", truncate(r.Unit, 40), r.Quantity, ErrInvalidValue)
	}
	if r.Kind == KindNumber && (math.IsNaN(r.Number) || math.IsInf(r.Number, 0)) {
		return fmt.Errorf("%s: non-finite number: %w", r.Quantity, ErrInvalidValue)
	}
	if r.HasSum && (math.IsNaN(r.Sum) || math.IsInf(r.Sum, 0)) {
		return fmt.Errorf("%s: non-finite sum: %w", r.Quantity, ErrInvalidValue)
	}
	if r.Kind > KindData {
		return fmt.Errorf("%s: unknown value kind %d: %w", r.Quantity, r.Kind, ErrInvalidValue)
	}
	if r.Mission != "" && !ValidID(r.Mission) {
		return fmt.Errorf("mission %q: %w", truncate(r.Mission, 80), ErrInvalidID)
	}
	if r.Time.Before(Epoch2000) || r.Time.After(now.Add(MaxFutureSkew)) {
		return fmt.Errorf("%s at %s: %w", r.Quantity, r.Time.UTC().Format(time.RFC3339), ErrInvalidTime)
	}
	return nil
}

// DefaultTopicPrefix is the MQTT topic prefix when none is configured.
const DefaultTopicPrefix = "smartdeal/v1"

// Topic channels under smartdeal/v1/{site}/{device}/.
const (
	ChannelTelemetry = "telemetry"
	ChannelStatus    = "status"
	ChannelEvent     = "event"
	ChannelCmd       = "cmd"
)

// Topics builds and parses the platform's MQTT topics under one prefix.
type Topics struct {
	// Prefix, defaults to "smartdeal/v1".
	Prefix string
}

func (t Topics) prefix() string {
	if t.Prefix == "" {
		return DefaultTopicPrefix
	}
	return strings.TrimSuffix(t.Prefix, "/")
}

// Device returns {prefix}/{site}/{device}/{channel}.
func (t Topics) Device(site, device, channel string) string {
	return t.prefix() + "/" + site + "/" + device + "/" + channel
}

// Telemetry returns the telemetry topic of a device.
func (t Topics) Telemetry(site, device string) string {
	return t.Device(site, device, ChannelTelemetry)
}

// TelemetryFilter returns the subscription filter matching every device's telemetry.
func (t Topics) TelemetryFilter() string { return t.prefix() + "/+/+/" + ChannelTelemetry }

// DeadLetter returns the dead-letter topic for a message that came from site/device.
// Unknown parts are written "_".
func (t Topics) DeadLetter(site, device string) string {
	if !ValidID(site) {
		site = "_"
	}
	if !ValidID(device) {
		device = "_"
	}
	return t.prefix() + "/deadletter/" + site + "/" + device
}

// Alert returns the retained topic of one alert key's state:
// {prefix}/alerts/{site}/{device}/{quantity}/{rule}/{severity}. An empty or
// unsafe part (with '/', '+' or '#') is written "_": an ATMO alert has no
// device. See docs/alerts.md for the payload.
func (t Topics) Alert(site, device, quantity, rule, severity string) string {
	part := func(v string) string {
		if v == "" || strings.ContainsAny(v, "/+#") {
			return "_"
		}
		return v
	}
	return t.prefix() + "/alerts/" + part(site) + "/" + part(device) + "/" + part(quantity) + "/" + part(rule) + "/" + part(severity)
}

// AlertsFilter returns the subscription filter matching every alert topic.
func (t Topics) AlertsFilter() string { return t.prefix() + "/alerts/#" }

// Parse splits a device topic into site, device and channel, validating the identifiers.
func (t Topics) Parse(topic string) (site, device, channel string, err error) {
	p := t.prefix() + "/"
	if !strings.HasPrefix(topic, p) {
		return "", "", "", fmt.Errorf("topic %q: %w", truncate(topic, 120), ErrInvalidTopic)
	}
	parts := strings.Split(topic[len(p):], "/")
	if len(parts) != 3 || !ValidID(parts[0]) || !ValidID(parts[1]) || parts[2] == "" {
		return "", "", "", fmt.Errorf("topic %q: %w", truncate(topic, 120), ErrInvalidTopic)
	}
	return parts[0], parts[1], parts[2], nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
