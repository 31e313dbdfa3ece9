// Package bus is what the hardware drivers share to open their bus from a
// configuration: periph's host drivers loaded once, an I2C bus found by name
// with an error that says what to check, and a sensor that closes its bus
// after itself. (Serial ports are package uart's.)
package bus

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/host/v3"

	"github.com/cd06/smartdeal/devices"
)

var (
	hostOnce sync.Once
	hostErr  error
)

// InitHost loads periph's host drivers once. On a machine without the
// hardware it succeeds and the buses are simply absent.
func InitHost(log *slog.Logger) error {
	hostOnce.Do(func() {
		st, err := host.Init()
		if err != nil {
			hostErr = fmt.Errorf("periph host init: %w", err)
			return
		}
		for _, f := range st.Failed {
			log.Debug("periph driver failed", "driver", f.D.String(), "err", f.Err)
		}
		log.Debug("periph host drivers loaded", "loaded", len(st.Loaded), "skipped", len(st.Skipped), "failed", len(st.Failed))
	})
	return hostErr
}

// OpenI2C opens the I2C bus named name ("1", "/dev/i2c-1"; empty: the first
// one). When there is none it says what to check and which buses there are,
// wrapping devices.ErrNotFound.
func OpenI2C(name string, log *slog.Logger) (i2c.BusCloser, error) {
	if err := InitHost(log); err != nil {
		return nil, err
	}
	b, err := i2creg.Open(name)
	if err != nil {
		// periph's message suggests calling Init, which we did: say what is there instead.
		log.Debug("i2creg.Open", "err", err)
		var present []string
		for _, r := range i2creg.All() {
			present = append(present, r.Name)
		}
		return nil, fmt.Errorf("no I2C bus found: is i2c enabled (raspi-config)? (wanted bus %s, present: %s): %w", Name(name), List(present), devices.ErrNotFound)
	}
	return b, nil
}

// WithCloser returns s closing c after itself.
func WithCloser(s devices.Sensor, c io.Closer) devices.Sensor { return withCloser{s, c} }

type withCloser struct {
	devices.Sensor
	c io.Closer
}

func (w withCloser) Close() error {
	return errors.Join(w.Sensor.Close(), w.c.Close())
}

// List writes names for an error message: "none" when there are none.
func List(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Name writes a configured bus name for an error message: "default" when empty.
func Name(name string) string {
	if name == "" {
		return "default"
	}
	return name
}
