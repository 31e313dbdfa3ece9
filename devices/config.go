package devices

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cd06/smartdeal"
)

// What every sensor's configuration shares. Each driver package declares its
// own configuration struct and its validation (bme280.Config,
// analog.Config…); package drivers maps a driver name to it and holds the
// keys every sensor has (driver, device, interval, tags).

// Limits on a sensor's read interval.
const (
	// DefaultInterval is the read interval when none is configured.
	DefaultInterval = 10 * time.Second
	// MinInterval is the shortest read interval accepted (10 Hz).
	MinInterval = 100 * time.Millisecond
	// MaxInterval is the longest read interval accepted.
	MaxInterval = 24 * time.Hour
)

// FieldError is a configuration error about one field, named by its YAML key.
// The gateway prefixes the path of the sensor ("sensors[2].") with
// fmt.Errorf("sensors[%d].%w", i, err).
type FieldError struct {
	Field  string // YAML key, e.g. "address"
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// ErrConfig is wrapped by every FieldError, so callers can test errors.Is(err, ErrConfig).
var ErrConfig = errors.New("invalid sensor configuration")

// Is makes errors.Is(err, ErrConfig) true for a *FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrConfig }

// FieldErrorf returns a *FieldError about the YAML key field.
func FieldErrorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// CheckQuantity checks the quantity and unit of a driver that is told what it
// measures (ads1x15, pulse): keys quantity and unit.
func CheckQuantity(driver, quantity, unit string) error {
	if quantity == "" {
		return FieldErrorf("quantity", "required for %s (e.g. water_level, soil_moisture, rain, wind_speed)", driver)
	}
	if !smartdeal.ValidQuantity(quantity) {
		return FieldErrorf("quantity", "%q: want [a-z][a-z0-9_]{0,62}", quantity)
	}
	if !smartdeal.ValidUnit(unit) {
		return FieldErrorf("unit", "%q: want a SenML unit such as m, %%, mm, m/s", unit)
	}
	return nil
}

// Finite reports whether f is neither NaN nor infinite.
func Finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// String returns the duration as "10s".
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the duration as "10s" (YAML and JSON).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "10s", "500ms", "1m30s" (used by JSON, and by decoders
// such as mapstructure that honour encoding.TextUnmarshaler).
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration: want e.g. 10s, 500ms, 1m", s)
	}
	if v < 0 {
		return fmt.Errorf("%q: duration must not be negative", s)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML reads a YAML scalar such as 10s or "500ms". A bare number is
// refused (10 is ambiguous: seconds? nanoseconds?), except 0.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as 10s", n.Line)
	}
	if n.Value == "0" {
		*d = 0
		return nil
	}
	if err := d.UnmarshalText([]byte(n.Value)); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// MarshalYAML writes the duration as "10s".
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
