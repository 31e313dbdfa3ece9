package pulse

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/internal/bus"
)

// Counter modes (Config.PulseMode, Options.Mode).
const (
	// ModeCount reports pulses since the previous read × per_pulse (rain gauge: mm per tip).
	ModeCount = "count"
	// ModeRate reports pulses per second since the previous read × per_pulse
	// (anemometer: m/s per Hz).
	ModeRate = "rate"
)

// Config is a pulse counter's part of a sensor's configuration (driver
// pulse): the YAML keys beside driver, device, interval and tags.
//
//	driver: pulse
//	device: rain-1
//	pin: GPIO17
//	per_pulse: 0.2794   # mm per tip
//	quantity: rain
//	unit: mm
//	debounce: 10ms
type Config struct {
	// Pin is the GPIO pin the pulses arrive on ("GPIO17", "17"). Required.
	Pin string `yaml:"pin,omitempty" json:"pin,omitempty"`
	// Quantity and Unit name what the pulses measure (rain mm, wind_speed
	// m/s). Quantity is required.
	Quantity string `yaml:"quantity,omitempty" json:"quantity,omitempty"`
	Unit     string `yaml:"unit,omitempty" json:"unit,omitempty"`
	// PerPulse is the factor per pulse (count mode: mm per tip) or per
	// Hz (rate mode: m/s per Hz); must be > 0. PulseMode is (optional) count
	// (default) or rate. Debounce is (optional) the dead time after an edge
	// (default 0: every edge counts; reed switches want ~10ms).
	PerPulse  float64          `yaml:"per_pulse,omitempty" json:"per_pulse,omitempty"`
	PulseMode string           `yaml:"pulse_mode,omitempty" json:"pulse_mode,omitempty"`
	Debounce  devices.Duration `yaml:"debounce,omitempty" json:"debounce,omitempty"`
}

// Validate checks the configuration; the error is a *devices.FieldError.
func (c *Config) Validate() error {
	if c.Pin == "" {
		return devices.FieldErrorf("pin", "required: the GPIO pin the pulses arrive on (e.g. GPIO17)")
	}
	if c.PerPulse <= 0 || !devices.Finite(c.PerPulse) {
		return devices.FieldErrorf("per_pulse", "required and > 0 (mm per tip, or m/s per Hz)")
	}
	if c.PulseMode != "" && c.PulseMode != ModeCount && c.PulseMode != ModeRate {
		return devices.FieldErrorf("pulse_mode", "%q: want count or rate", c.PulseMode)
	}
	if c.Debounce < 0 || time.Duration(c.Debounce) > time.Second {
		return devices.FieldErrorf("debounce", "%s: want 0 to 1s", time.Duration(c.Debounce))
	}
	return devices.CheckQuantity("pulse", c.Quantity, c.Unit)
}

// Open finds the pin (periph's GPIO registry) and counts its edges.
func (c *Config) Open(_ context.Context, _ string, log *slog.Logger) (devices.Sensor, error) {
	if err := bus.InitHost(log); err != nil {
		return nil, err
	}
	p := gpioreg.ByName(c.Pin)
	if p == nil {
		return nil, fmt.Errorf("GPIO pin %q not found: is this a Raspberry Pi with /dev/gpiochip0, and the pin named GPIO17 or 17? %w", c.Pin, devices.ErrNotFound)
	}
	s, err := New(gpio.PinIn(p), Options{Mode: c.PulseMode, PerPulse: c.PerPulse, Quantity: c.Quantity,
		Unit: c.Unit, Debounce: time.Duration(c.Debounce)})
	if err != nil {
		return nil, err
	}
	log.Info("sensor ready", "pin", p.String())
	return s, nil
}
