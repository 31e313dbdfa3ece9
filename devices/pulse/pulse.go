// Package pulse counts pulses on a GPIO input: a tipping-bucket rain gauge
// (one pulse per tip of, say, 0.2794 mm) or a cup anemometer (one pulse per
// turn, wind speed proportional to the frequency).
//
// One goroutine owns the pin and counts falling edges (the sensors are reed
// switches to ground with the internal pull-up); Read reports the pulses since
// the previous Read, times the per-pulse factor, as a count or as a rate.
package pulse

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/cd06/smartdeal/devices"
)

// Options configure a Counter.
type Options struct {
	// Mode is (optional) ModeCount (default): value = pulses × PerPulse,
	// or ModeRate: value = pulses per second × PerPulse.
	Mode string
	// PerPulse is the factor per pulse (count) or per Hz (rate). Must be > 0.
	PerPulse float64
	// Quantity and Unit name the value (rain mm, wind_speed m/s). Required.
	Quantity, Unit string
	// Debounce is (optional) the dead time after a counted edge; edges inside
	// it are contact bounce. 0 counts every edge.
	Debounce time.Duration
	// Pull is (optional) the input's pull resistor. Defaults to gpio.PullUp.
	Pull gpio.Pull
	// Now is (optional) the clock. Defaults to time.Now.
	Now func() time.Time
}

// pollTimeout bounds how long the counting goroutine waits for an edge before
// checking whether it must stop.
const pollTimeout = 100 * time.Millisecond

// Counter counts pulses on one pin.
type Counter struct {
	pin  gpio.PinIn
	o    Options
	done chan struct{}
	wg   sync.WaitGroup

	mu        sync.Mutex
	count     uint64 // edges counted since New
	bounced   uint64 // edges ignored as bounce
	lastEdge  time.Time
	readCount uint64    // count at the previous Read
	readAt    time.Time // time of the previous Read (or of New)
	closed    bool
}

var _ devices.Sensor = (*Counter)(nil)

// New sets the pin as an input with falling-edge detection and starts counting.
func New(pin gpio.PinIn, o Options) (*Counter, error) {
	if o.PerPulse <= 0 || math.IsNaN(o.PerPulse) || math.IsInf(o.PerPulse, 0) {
		return nil, fmt.Errorf("pulse %s: per-pulse factor %g: want > 0", pin, o.PerPulse)
	}
	if o.Mode == "" {
		o.Mode = ModeCount
	}
	if o.Mode != ModeCount && o.Mode != ModeRate {
		return nil, fmt.Errorf("pulse %s: mode %q: want count or rate", pin, o.Mode)
	}
	if o.Quantity == "" {
		return nil, fmt.Errorf("pulse %s: quantity required", pin)
	}
	if o.Pull == gpio.PullNoChange {
		o.Pull = gpio.PullUp
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := pin.In(o.Pull, gpio.FallingEdge); err != nil {
		return nil, fmt.Errorf("pulse %s: set input with edge detection: %w", pin, err)
	}
	c := &Counter{pin: pin, o: o, done: make(chan struct{}), readAt: o.Now()}
	c.wg.Add(1)
	go c.run()
	return c, nil
}

func (c *Counter) String() string { return "pulse " + c.pin.String() }

func (c *Counter) run() {
	defer c.wg.Done()
	for {
		select {
		case <-c.done:
			return
		default:
		}
		if !c.pin.WaitForEdge(pollTimeout) {
			continue
		}
		now := c.o.Now()
		c.mu.Lock()
		if c.o.Debounce > 0 && !c.lastEdge.IsZero() && now.Sub(c.lastEdge) < c.o.Debounce {
			c.bounced++
		} else {
			c.count++
			c.lastEdge = now
		}
		c.mu.Unlock()
	}
}

// Count returns the pulses counted and the edges ignored as bounce since New.
func (c *Counter) Count() (pulses, bounced uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count, c.bounced
}

// Read returns the pulses since the previous Read (or since New) times the
// factor: in count mode the total (rain in mm), in rate mode per second of
// elapsed time (wind speed). Zero pulses is a valid zero: a pulse counter
// cannot tell a cut cable from a dry day or still air.
func (c *Counter) Read(ctx context.Context) ([]devices.Measurement, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", c, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("%s: closed", c)
	}
	now := c.o.Now()
	n := c.count - c.readCount
	elapsed := now.Sub(c.readAt)
	var v float64
	switch c.o.Mode {
	case ModeRate:
		if elapsed <= 0 {
			return nil, fmt.Errorf("%s: no time elapsed since the previous read: %w", c, devices.ErrNoData)
		}
		v = float64(n) / elapsed.Seconds() * c.o.PerPulse
	default:
		v = float64(n) * c.o.PerPulse
	}
	c.readCount, c.readAt = c.count, now
	return []devices.Measurement{{Quantity: c.o.Quantity, Unit: c.o.Unit, Value: math.Round(v*1e6) / 1e6}}, nil
}

// Close stops counting, waits for the counting goroutine and halts the pin.
func (c *Counter) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	close(c.done)
	c.wg.Wait()
	if err := c.pin.Halt(); err != nil {
		return fmt.Errorf("%s: %w", c, err)
	}
	return nil
}
