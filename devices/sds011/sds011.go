// Package sds011 reads a Nova Fitness SDS011 particulate-matter sensor on a
// UART at 9600 baud (usually through its USB adapter) in its default
// continuous mode, where it sends a 10-byte frame every second: PM2.5 and PM10
// in µg/m³ with a 0.1 resolution.
package sds011

import (
	"context"
	"time"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/internal/uart"
)

// Options configure a Sensor.
type Options struct {
	// Name is (optional) how errors name the sensor, e.g. the port.
	Name string
	// Timeout is (optional) how long a Read waits for a frame. Defaults to
	// 3 s: the sensor sends every second.
	Timeout time.Duration
	// Now is (optional) the clock for the timeout. Defaults to time.Now.
	Now func() time.Time
}

// Sensor is an SDS011 on a serial port.
type Sensor struct {
	u *uart.Sensor[Frame]
}

var _ devices.Sensor = (*Sensor)(nil)

// New reads frames from port, which the Sensor closes.
func New(port uart.Port, o Options) *Sensor {
	return &Sensor{u: uart.NewSensor(port, format, uart.SensorOptions{
		Model:   "sds011",
		Name:    o.Name,
		Timeout: o.Timeout,
		Now:     o.Now,
		Hint:    "sensor unpowered, asleep (sleep command or fan stopped) or TX/RX swapped?",
	})}
}

func (s *Sensor) String() string { return s.u.String() }

// Read discards what was buffered and returns the next frame's
// concentrations: pm2_5 and pm10 in ug/m3.
func (s *Sensor) Read(ctx context.Context) ([]devices.Measurement, error) {
	f, err := s.u.Next(ctx)
	if err != nil {
		return nil, err
	}
	return []devices.Measurement{
		{Quantity: "pm2_5", Unit: "ug/m3", Value: f.PM2_5()},
		{Quantity: "pm10", Unit: "ug/m3", Value: f.PM10()},
	}, nil
}

// Close closes the port.
func (s *Sensor) Close() error { return s.u.Close() }
