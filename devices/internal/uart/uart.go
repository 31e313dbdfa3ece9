// Package uart holds what the serial (UART) sensor drivers share: the port
// they need, opening it with go.bug.st/serial, and a reader that turns the
// port's short read timeouts into one deadline per sensor read.
package uart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.bug.st/serial"
)

// Port is what a serial sensor driver needs from its port.
type Port interface {
	io.Reader
	// ResetInputBuffer discards what the OS buffered, so that the next
	// frame is a fresh one.
	ResetInputBuffer() error
	Close() error
}

// pollTimeout is the port's read timeout: how often a blocked read checks
// the deadline and the context.
const pollTimeout = 100 * time.Millisecond

// Open opens a serial port 8N1 at baud with a short read timeout. A missing
// port gives an error that says what to check.
func Open(name string, baud int) (Port, error) {
	p, err := serial.Open(name, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		var pe *serial.PortError
		if errors.As(err, &pe) && pe.Code() == serial.PortNotFound || errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("serial port %s not found: is the sensor plugged in, or the UART enabled (raspi-config, enable_uart=1)? %w", name, err)
		}
		return nil, fmt.Errorf("open serial port %s: %w", name, err)
	}
	if err := p.SetReadTimeout(pollTimeout); err != nil {
		p.Close()
		return nil, fmt.Errorf("serial port %s: set read timeout: %w", name, err)
	}
	return p, nil
}

// ErrTimeout is returned by a DeadlineReader when its deadline passes.
var ErrTimeout = errors.New("no data before the deadline")

// DeadlineReader reads from a port whose Read returns (0, nil) on its own
// short timeout, until Deadline or until Ctx is done.
type DeadlineReader struct {
	R        io.Reader
	Ctx      context.Context
	Deadline time.Time
	Now      func() time.Time // defaults to time.Now
}

// Read implements io.Reader.
func (d *DeadlineReader) Read(p []byte) (int, error) {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	for {
		if err := d.Ctx.Err(); err != nil {
			return 0, err
		}
		if !d.Deadline.IsZero() && !now().Before(d.Deadline) {
			return 0, ErrTimeout
		}
		n, err := d.R.Read(p)
		if n > 0 || err != nil {
			return n, err
		}
	}
}
