package analog

import (
	"context"
	"log/slog"
	"slices"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/internal/bus"
)

// ADS1x15 chips (Config.Chip, Options.Chip).
const (
	ChipADS1115 = "ads1115"
	ChipADS1015 = "ads1015"
)

// Config is an ADS1x15's part of a sensor's configuration (driver ads1x15):
// the YAML keys beside driver, device, interval and tags.
//
//	driver: ads1x15
//	device: river-level-1
//	bus: "1"          # I2C bus name; empty = first bus
//	address: 0x48
//	channel: 0
//	quantity: water_level
//	unit: m
//	scale: 1.25       # value = volts*scale + offset
//	offset: -0.10
type Config struct {
	// Bus is (optional) the I2C bus name ("1", "/dev/i2c-1"); empty means
	// the first bus.
	Bus string `yaml:"bus,omitempty" json:"bus,omitempty"`
	// Address is (optional) the I2C address, 0x48 (the default) to 0x4B.
	Address uint16 `yaml:"address,omitempty" json:"address,omitempty"`
	// Quantity and Unit name what the input measures (water_level m,
	// soil_moisture %…). Quantity is required.
	Quantity string `yaml:"quantity,omitempty" json:"quantity,omitempty"`
	Unit     string `yaml:"unit,omitempty" json:"unit,omitempty"`
	// Chip is (optional) ads1115 (default) or ads1015; Channel is the
	// single-ended input 0–3; FullScale is (optional) the input range in volts
	// (0.256, 0.512, 1.024, 2.048, 4.096 or 6.144; default 4.096). The reading is
	// volts*Scale + Offset; Scale must not be 0.
	Chip      string  `yaml:"chip,omitempty" json:"chip,omitempty"`
	Channel   int     `yaml:"channel,omitempty" json:"channel,omitempty"`
	FullScale float64 `yaml:"full_scale,omitempty" json:"full_scale,omitempty"`
	Scale     float64 `yaml:"scale,omitempty" json:"scale,omitempty"`
	Offset    float64 `yaml:"offset,omitempty" json:"offset,omitempty"`
}

var fullScales = []float64{0.256, 0.512, 1.024, 2.048, 4.096, 6.144}

// I2CAddress returns the configured address or the default, 0x48.
func (c *Config) I2CAddress() uint16 {
	if c.Address == 0 {
		return 0x48
	}
	return c.Address
}

// Validate checks the configuration; the error is a *devices.FieldError.
func (c *Config) Validate() error {
	if a := c.I2CAddress(); a < 0x48 || a > 0x4B {
		return devices.FieldErrorf("address", "%#x: want 0x48 to 0x4b", a)
	}
	if c.Chip != "" && c.Chip != ChipADS1115 && c.Chip != ChipADS1015 {
		return devices.FieldErrorf("chip", "%q: want ads1115 or ads1015", c.Chip)
	}
	if c.Channel < 0 || c.Channel > 3 {
		return devices.FieldErrorf("channel", "%d: want 0 to 3 (single-ended input)", c.Channel)
	}
	if c.FullScale != 0 && !slices.Contains(fullScales, c.FullScale) {
		return devices.FieldErrorf("full_scale", "%g V: want one of 0.256, 0.512, 1.024, 2.048, 4.096, 6.144", c.FullScale)
	}
	if c.Scale == 0 || !devices.Finite(c.Scale) {
		return devices.FieldErrorf("scale", "required and non-zero: value = volts*scale + offset")
	}
	if !devices.Finite(c.Offset) {
		return devices.FieldErrorf("offset", "must be a finite number")
	}
	return devices.CheckQuantity("ads1x15", c.Quantity, c.Unit)
}

// Open opens the I2C bus and the converter on it; the sensor closes the bus.
func (c *Config) Open(_ context.Context, _ string, log *slog.Logger) (devices.Sensor, error) {
	b, err := bus.OpenI2C(c.Bus, log)
	if err != nil {
		return nil, err
	}
	s, err := New(b, Options{Chip: c.Chip, Address: c.I2CAddress(), Channel: c.Channel,
		FullScale: c.FullScale, Quantity: c.Quantity, Unit: c.Unit, Scale: c.Scale, Offset: c.Offset})
	if err != nil {
		b.Close()
		return nil, err
	}
	log.Info("sensor ready", "adc", s.String())
	return bus.WithCloser(s, b), nil
}
