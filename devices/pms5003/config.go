package pms5003

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/internal/uart"
)

// Config is a PMS5003's part of a sensor's configuration (driver
// pms5003): the YAML keys beside driver, device, interval and tags.
//
//	driver: pms5003
//	device: pm-1
//	bus: /dev/ttyAMA0   # the serial port
type Config struct {
	// Bus is the serial port ("/dev/ttyAMA0", "/dev/ttyUSB0"). Required.
	Bus string `yaml:"bus,omitempty" json:"bus,omitempty"`
	// Baud is (optional) the serial speed; the sensor talks at 9600 (the
	// default) only.
	Baud int `yaml:"baud,omitempty" json:"baud,omitempty"`
}

// Validate checks the configuration; the error is a *devices.FieldError.
func (c *Config) Validate() error {
	if c.Bus == "" {
		return devices.FieldErrorf("bus", "required: the serial port (e.g. /dev/ttyAMA0 or /dev/ttyUSB0)")
	}
	if c.Baud != 0 && c.Baud != 9600 {
		return devices.FieldErrorf("baud", "%d: pms5003 talks at 9600 baud", c.Baud)
	}
	return nil
}

// Open opens the serial port; the sensor closes it.
func (c *Config) Open(_ context.Context, _ string, log *slog.Logger) (devices.Sensor, error) {
	baud := c.Baud
	if baud == 0 {
		baud = 9600
	}
	port, err := uart.Open(c.Bus, baud)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, devices.ErrNotFound)
	}
	log.Info("sensor ready", "port", c.Bus)
	return New(port, Options{Name: c.Bus}), nil
}
