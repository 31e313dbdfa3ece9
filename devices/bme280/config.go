package bme280

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/internal/bus"
)

// Config is a BME280's (driver bme280) or BMP280's (driver bmp280, no
// humidity) part of a sensor's configuration: the YAML keys beside driver,
// device, interval and tags.
//
//	driver: bme280
//	device: weather-1
//	bus: "1"        # (optional) I2C bus name; empty: the first bus
//	address: 0x77   # (optional) 0x76 (default) or 0x77
type Config struct {
	// Bus is (optional) the I2C bus name ("1", "/dev/i2c-1"); empty means
	// the first bus.
	Bus string `yaml:"bus,omitempty" json:"bus,omitempty"`
	// Address is (optional) the I2C address, 0x76 (the default) or 0x77.
	Address uint16 `yaml:"address,omitempty" json:"address,omitempty"`
	// Humidity says the configured chip is a BME280, which measures
	// humidity: a BMP280 found instead is logged. The driver table sets it
	// (driver bme280); it is not a YAML key.
	Humidity bool `yaml:"-" json:"-"`
}

// I2CAddress returns the configured address or the default, 0x76.
func (c *Config) I2CAddress() uint16 {
	if c.Address == 0 {
		return 0x76
	}
	return c.Address
}

// Validate checks the address; the error is a *devices.FieldError.
func (c *Config) Validate() error {
	if a := c.I2CAddress(); a != 0x76 && a != 0x77 {
		return devices.FieldErrorf("address", "%#x: want 0x76 or 0x77", a)
	}
	return nil
}

// Open opens the I2C bus and the sensor on it; the sensor closes the bus.
func (c *Config) Open(_ context.Context, _ string, log *slog.Logger) (devices.Sensor, error) {
	b, err := bus.OpenI2C(c.Bus, log)
	if err != nil {
		return nil, err
	}
	d, err := New(b, c.I2CAddress(), Options{})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("%w (check the wiring and address: i2cdetect -y 1)", err)
	}
	if c.Humidity && !d.HasHumidity() {
		log.Warn("configured as bme280 but the chip is a BMP280: no humidity")
	}
	log.Info("sensor ready", "chip", d.String())
	return bus.WithCloser(d, b), nil
}
