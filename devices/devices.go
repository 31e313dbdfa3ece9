// Package devices defines what a sensor is for the gateway: something that, when
// asked, takes one measurement and returns its quantities; what every sensor's
// configuration shares (read interval limits, FieldError naming the YAML key,
// Duration); and the errors a read can end with. Drivers live in one package
// each under devices/, each with its own configuration struct and validation,
// and are listed in an explicit table (package devices/drivers), not
// registered by init().
package devices

import (
	"context"
	"errors"
	"time"
)

// Measurement is one quantity a sensor measured. The gateway stamps the time,
// site and device; a driver never returns "no data" values as measurements.
type Measurement struct {
	Quantity string  // e.g. "temperature", "pm2_5"
	Unit     string  // SenML unit, e.g. "Cel", "ug/m3"
	Value    float64 // finite
}

// Sensor is one physical (or simulated) sensor.
type Sensor interface {
	// Read takes one measurement. A partial result with a nil error is allowed
	// (e.g. a sensor that skipped humidity); an error means nothing was read.
	Read(ctx context.Context) ([]Measurement, error)
	// Close releases the bus, pin or port.
	Close() error
}

// Duration is a time.Duration read from YAML as "10s", "500ms".
type Duration time.Duration

// Sentinel errors of sensor reads. Drivers wrap them with context; the gateway
// counts every read error per sensor and keeps the other sensors going.
var (
	// ErrNoData means the sensor answered but had nothing to report (a
	// skipped measurement, the DS18B20 power-on value, no frame yet).
	ErrNoData = errors.New("sensor returned no data")
	// ErrChecksum means a frame or scratchpad failed its checksum or CRC.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrNotFound means the sensor, its bus, pin or port is not there
	// (not wired, wrong address, interface not enabled).
	ErrNotFound = errors.New("sensor not found")
)
