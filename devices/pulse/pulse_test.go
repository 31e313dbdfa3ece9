package pulse

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/internal/testenv"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newPin() *gpiotest.Pin {
	return &gpiotest.Pin{N: "GPIO17", Num: 17, EdgesChan: make(chan gpio.Level, 64)}
}

// edges injects n falling edges and waits until the counter has seen them.
func edges(t *testing.T, c *Counter, p *gpiotest.Pin, n int) {
	t.Helper()
	p0, b0 := c.Count()
	for i := 0; i < n; i++ {
		p.EdgesChan <- gpio.Low
	}
	testenv.Eventually(t, 2*time.Second, func() bool {
		p1, b1 := c.Count()
		return (p1-p0)+(b1-b0) == uint64(n)
	}, "counter did not see %d edges", n)
}

func TestRainGauge(t *testing.T) {
	p := newPin()
	// Edges queued before New are discarded by In(), as on real hardware.
	p.EdgesChan <- gpio.Low
	clk := &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	c, err := New(p, Options{PerPulse: 0.2794, Quantity: "rain", Unit: "mm", Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p.P != gpio.PullUp {
		t.Errorf("pull %s, want PullUp", p.P)
	}
	ctx := context.Background()
	ms, err := c.Read(ctx)
	if err != nil || len(ms) != 1 || ms[0] != (devices.Measurement{Quantity: "rain", Unit: "mm", Value: 0}) {
		t.Fatalf("no pulse: %v %v", ms, err)
	}
	edges(t, c, p, 5)
	ms, err = c.Read(ctx)
	if err != nil || ms[0].Value != 1.397 {
		t.Fatalf("5 tips: %v %v, want 1.397 mm", ms, err)
	}
	// Counts restart at each read.
	edges(t, c, p, 2)
	if ms, _ := c.Read(ctx); ms[0].Value != 0.5588 {
		t.Fatalf("2 tips: %v", ms)
	}
	if n, _ := c.Count(); n != 7 {
		t.Errorf("total %d pulses, want 7", n)
	}
}

func TestAnemometer(t *testing.T) {
	p := newPin()
	clk := &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	// 2.4 km/h per Hz = 0.6667 m/s per Hz (a common cup anemometer).
	c, err := New(p, Options{Mode: "rate", PerPulse: 0.6667, Quantity: "wind_speed", Unit: "m/s", Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	edges(t, c, p, 30)
	clk.add(10 * time.Second)
	ms, err := c.Read(context.Background())
	if err != nil || ms[0].Value != 2.0001 || ms[0].Unit != "m/s" {
		t.Fatalf("3 Hz: %v %v, want 2.0001 m/s", ms, err)
	}
	// Two reads at the same instant: no rate can be computed.
	if _, err := c.Read(context.Background()); !errors.Is(err, devices.ErrNoData) {
		t.Errorf("zero elapsed: %v", err)
	}
}

func TestDebounce(t *testing.T) {
	p := newPin()
	clk := &clock{t: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	c, err := New(p, Options{PerPulse: 1, Quantity: "rain", Unit: "mm", Debounce: 10 * time.Millisecond, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A tip, two bounces 2 ms apart, then a real tip 50 ms later with one bounce.
	for _, step := range []time.Duration{0, 2 * time.Millisecond, 2 * time.Millisecond, 50 * time.Millisecond, 3 * time.Millisecond} {
		clk.add(step)
		edges(t, c, p, 1)
	}
	if n, b := c.Count(); n != 2 || b != 3 {
		t.Errorf("counted %d, bounced %d; want 2 and 3", n, b)
	}
}

// failPin fails In, as a pin already used by another process.
type failPin struct{ gpiotest.Pin }

var errBusy = errors.New("gpio: device or resource busy")

func (p *failPin) In(gpio.Pull, gpio.Edge) error { return errBusy }

func TestErrors(t *testing.T) {
	if _, err := New(&failPin{gpiotest.Pin{N: "GPIO5"}}, Options{PerPulse: 1, Quantity: "rain"}); !errors.Is(err, errBusy) || !strings.Contains(err.Error(), "GPIO5") {
		t.Errorf("busy pin: %v", err)
	}
	// gpiotest refuses edge detection without an edge channel, as a pin
	// without interrupt support would.
	if _, err := New(&gpiotest.Pin{N: "GPIO6"}, Options{PerPulse: 1, Quantity: "rain"}); err == nil {
		t.Error("pin without edges accepted")
	}
	for _, o := range []Options{{PerPulse: 0, Quantity: "rain"}, {PerPulse: 1}, {PerPulse: 1, Quantity: "rain", Mode: "avg"}} {
		if _, err := New(newPin(), o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	p := newPin()
	c, err := New(p, Options{PerPulse: 1, Quantity: "rain"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Error(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(context.Background()); err == nil {
		t.Error("read after close")
	}
	// Close returned, so the goroutine is gone: an edge now is not counted.
	p.EdgesChan <- gpio.Low
	time.Sleep(2 * pollTimeout)
	if n, _ := c.Count(); n != 0 {
		t.Errorf("counted %d after Close", n)
	}
}
