// Package drivers is the explicit table of sensor drivers the gateway can
// open and the configuration of one sensor (SensorConfig): a SensorConfig
// names a driver, the table says what that driver's own configuration is and
// how to open it. There is no init() registration; a new driver is a package
// under devices/ with a configuration type implementing Options, plus one
// line in the table below.
//
// Hardware drivers initialise periph's host drivers (host.Init) once, on the
// first Open that needs them, and open their bus, pin or port themselves; the
// sensor's Close releases it.
package drivers

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/analog"
	"github.com/cd06/smartdeal/devices/bme280"
	"github.com/cd06/smartdeal/devices/ds18b20"
	"github.com/cd06/smartdeal/devices/pms5003"
	"github.com/cd06/smartdeal/devices/pulse"
	"github.com/cd06/smartdeal/devices/replay"
	"github.com/cd06/smartdeal/devices/sds011"
	"github.com/cd06/smartdeal/devices/sim"
)

// Options is a driver's own part of a sensor's configuration: the YAML keys
// written beside driver, device, interval and tags (bus, address, profile…).
// Each driver package declares its type (bme280.Config, analog.Config…), a
// pointer to a struct with yaml and json tags.
type Options interface {
	// Validate checks the options. A problem is a *devices.FieldError that
	// names the YAML key.
	Validate() error
	// Open opens the sensor of validated options; device is the id its
	// readings are published under; log is scoped to the sensor.
	Open(ctx context.Context, device string, log *slog.Logger) (devices.Sensor, error)
}

// table maps a driver name to a new value of its options: what its YAML keys
// decode into, and what opens it. One line per driver.
var table = map[string]func() Options{
	"bme280":  func() Options { return &bme280.Config{Humidity: true} },
	"bmp280":  func() Options { return &bme280.Config{} },
	"ds18b20": func() Options { return &ds18b20.Config{} },
	"ads1x15": func() Options { return &analog.Config{} },
	"pulse":   func() Options { return &pulse.Config{} },
	"pms5003": func() Options { return &pms5003.Config{} },
	"sds011":  func() Options { return &sds011.Config{} },
	"sim":     func() Options { return &sim.Config{} },
	"replay":  func() Options { return &replay.Config{} },
}

// Names returns the drivers Open knows, sorted.
func Names() []string {
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// NewOptions returns the zero options of a driver (with what its table line
// sets), or false for an unknown driver.
func NewOptions(driver string) (Options, bool) {
	f, ok := table[driver]
	if !ok {
		return nil, false
	}
	return f(), true
}

// Simulated reports whether a driver needs no hardware (sim, replay).
func Simulated(driver string) bool {
	return driver == "sim" || driver == "replay"
}

// Open validates cfg and opens its sensor. Opening real hardware on a machine
// without it fails with an error that says what to check (e.g. "no I2C bus
// found: is i2c enabled (raspi-config)?") and wraps devices.ErrNotFound.
// log may be nil.
func Open(ctx context.Context, cfg SensorConfig, log *slog.Logger) (devices.Sensor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("driver", cfg.Driver, "device", cfg.Device)
	s, err := cfg.options().Open(ctx, cfg.Device, log)
	if err != nil {
		return nil, fmt.Errorf("open %s sensor %s: %w", cfg.Driver, cfg.Device, err)
	}
	return s, nil
}

// optionsType is the type of a driver's options.
func optionsType(driver string) reflect.Type {
	o, ok := NewOptions(driver)
	if !ok {
		return nil
	}
	return reflect.TypeOf(o)
}

// driverList is the list of driver names for error messages.
func driverList() string { return strings.Join(Names(), ", ") }
