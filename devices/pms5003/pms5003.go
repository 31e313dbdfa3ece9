// Package pms5003 reads a Plantower PMS5003 (or PMS7003, same frames)
// particulate-matter sensor on a UART at 9600 baud in its default active
// mode, where it sends a 32-byte frame about every second: PM1.0, PM2.5 and
// PM10 in µg/m³.
package pms5003

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
	// 3 s: the sensor sends every 0.2–2.3 s.
	Timeout time.Duration
	// Now is (optional) the clock for the timeout. Defaults to time.Now.
	Now func() time.Time
}

// Sensor is a PMS5003 on a serial port.
type Sensor struct {
	u *uart.Sensor[Frame]
}

var _ devices.Sensor = (*Sensor)(nil)

// New reads frames from port, which the Sensor closes.
func New(port uart.Port, o Options) *Sensor {
	return &Sensor{u: uart.NewSensor(port, format, uart.SensorOptions{
		Model:   "pms5003",
		Name:    o.Name,
		Timeout: o.Timeout,
		Now:     o.Now,
		Hint:    "sensor unpowered, asleep (SET pin low) or TX/RX swapped?",
	})}
}

func (s *Sensor) String() string { return s.u.String() }

// Read discards what was buffered and returns the next frame's atmospheric
// concentrations: pm1_0, pm2_5 and pm10 in ug/m3.
func (s *Sensor) Read(ctx context.Context) ([]devices.Measurement, error) {
	f, err := s.u.Next(ctx)
	if err != nil {
		return nil, err
	}
	return []devices.Measurement{
		{Quantity: "pm1_0", Unit: "ug/m3", Value: float64(f.PM1_0)},
		{Quantity: "pm2_5", Unit: "ug/m3", Value: float64(f.PM2_5)},
		{Quantity: "pm10", Unit: "ug/m3", Value: float64(f.PM10)},
	}, nil
}

// Close closes the port.
func (s *Sensor) Close() error { return s.u.Close() }
