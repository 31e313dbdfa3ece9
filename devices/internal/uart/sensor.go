package uart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/cd06/smartdeal/devices"
)

// SensorOptions configure a Sensor.
type SensorOptions struct {
	// Model names the sensor in errors, e.g. "pms5003".
	Model string
	// Name is (optional) how errors name the port. Defaults to "serial port".
	Name string
	// Timeout is (optional) how long a Next waits for a frame. Defaults to 3 s.
	Timeout time.Duration
	// Now is (optional) the clock for the timeout. Defaults to time.Now.
	Now func() time.Time
	// Hint says what to check when no frame arrives in time, e.g. "sensor
	// unpowered or TX/RX swapped?".
	Hint string
}

// Sensor is the part a serial sensor driver shares with the others: it
// owns the port and reads the next frame of its format with a timeout. A
// driver keeps its frame format and turns frames into measurements.
type Sensor[F any] struct {
	port Port
	o    SensorOptions
	mu   sync.Mutex
	dr   DeadlineReader
	fr   *Reader[F]
}

// NewSensor reads frames in format from port, which the Sensor closes.
func NewSensor[F any](port Port, format Format[F], o SensorOptions) *Sensor[F] {
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Name == "" {
		o.Name = "serial port"
	}
	s := &Sensor[F]{port: port, o: o}
	s.dr = DeadlineReader{R: port, Now: o.Now}
	s.fr = NewReader(&s.dr, format)
	return s
}

func (s *Sensor[F]) String() string { return s.o.Model + " on " + s.o.Name }

// Next discards what was buffered and returns the next frame. A silent
// port gives an error that wraps devices.ErrNotFound.
func (s *Sensor[F]) Next(ctx context.Context) (F, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var zero F
	if err := s.port.ResetInputBuffer(); err != nil {
		return zero, fmt.Errorf("%s: reset input: %w", s, err)
	}
	s.dr.Ctx = ctx
	s.dr.Deadline = s.o.Now().Add(s.o.Timeout)
	s.fr.Reset(&s.dr)
	f, err := s.fr.Next()
	s.dr.Ctx = nil
	switch {
	case errors.Is(err, ErrTimeout):
		return zero, fmt.Errorf("%s: no frame in %s: %s %w", s, s.o.Timeout, s.o.Hint, devices.ErrNotFound)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return zero, fmt.Errorf("%s: port closed (adapter unplugged?): %w", s, err)
	case err != nil:
		return zero, fmt.Errorf("%s: %w", s, err)
	}
	return f, nil
}

// Close closes the port.
func (s *Sensor[F]) Close() error {
	if err := s.port.Close(); err != nil {
		return fmt.Errorf("%s: close: %w", s, err)
	}
	return nil
}
