// Package sds011 reads a Nova Fitness SDS011 particulate-matter sensor on a
// UART at 9600 baud (usually through its USB adapter) in its default
// continuous mode, where it sends a 10-byte frame every second: PM2.5 and PM10
// in µg/m³ with a 0.1 resolution.
package sds011

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
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
	port uart.Port
	o    Options
	mu   sync.Mutex
	dr   uart.DeadlineReader
	fr   *Reader
}

var _ devices.Sensor = (*Sensor)(nil)

// New reads frames from port, which the Sensor closes.
func New(port uart.Port, o Options) *Sensor {
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Name == "" {
		o.Name = "serial port"
	}
	s := &Sensor{port: port, o: o}
	s.dr = uart.DeadlineReader{R: port, Now: o.Now}
	s.fr = NewReader(&s.dr)
	return s
}

func (s *Sensor) String() string { return "sds011 on " + s.o.Name }

// Read discards what was buffered and returns the next frame's
// concentrations: pm2_5 and pm10 in ug/m3.
func (s *Sensor) Read(ctx context.Context) ([]devices.Measurement, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.port.ResetInputBuffer(); err != nil {
		return nil, fmt.Errorf("%s: reset input: %w", s, err)
	}
	s.dr.Ctx = ctx
	s.dr.Deadline = s.o.Now().Add(s.o.Timeout)
	s.fr.Reset(&s.dr)
	f, err := s.fr.Next()
	s.dr.Ctx = nil
	switch {
	case errors.Is(err, uart.ErrTimeout):
		return nil, fmt.Errorf("%s: no frame in %s: sensor unpowered, asleep (sleep command or fan stopped) or TX/RX swapped? %w", s, s.o.Timeout, devices.ErrNotFound)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("%s: port closed (adapter unplugged?): %w", s, err)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	return []devices.Measurement{
		{Quantity: "pm2_5", Unit: "ug/m3", Value: f.PM2_5()},
		{Quantity: "pm10", Unit: "ug/m3", Value: f.PM10()},
	}, nil
}

// Close closes the port.
func (s *Sensor) Close() error {
	if err := s.port.Close(); err != nil {
		return fmt.Errorf("%s: close: %w", s, err)
	}
	return nil
}
