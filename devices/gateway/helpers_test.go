package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/drivers"
	"github.com/cd06/smartdeal/devices/gateway"
	"github.com/cd06/smartdeal/devices/sim"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/senml"
)

// counter is a sensor whose "seq" reading counts its reads: 0, 1, 2…
type counter struct {
	n     atomic.Int64
	fail  atomic.Bool
	mu    sync.Mutex
	taken []time.Time // real time of each read, by seq
}

func (c *counter) takenAt(seq int) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.taken[seq]
}

func (c *counter) Read(ctx context.Context) ([]devices.Measurement, error) {
	if c.fail.Load() {
		return nil, errors.New("i2c: NACK from 0x76")
	}
	c.mu.Lock()
	n := c.n.Add(1) - 1
	c.taken = append(c.taken, time.Now())
	c.mu.Unlock()
	return []devices.Measurement{{Quantity: "seq", Unit: "", Value: float64(n)}}, nil
}

func (c *counter) Close() error { return nil }

// counters opens a counter per device id.
type counters struct {
	mu sync.Mutex
	m  map[string]*counter
}

func newCounters() *counters { return &counters{m: map[string]*counter{}} }

func (cs *counters) get(dev string) *counter {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.m[dev] == nil {
		cs.m[dev] = &counter{}
	}
	return cs.m[dev]
}

func (cs *counters) open(_ context.Context, cfg drivers.SensorConfig, _ *slog.Logger) (devices.Sensor, error) {
	return cs.get(cfg.Device), nil
}

func sensors(n int, interval time.Duration) []drivers.SensorConfig {
	var out []drivers.SensorConfig
	for i := range n {
		out = append(out, drivers.SensorConfig{Driver: "sim", Options: &sim.Config{Profile: sim.ProfileWeather},
			Device: fmt.Sprintf("dev%d", i), Interval: devices.Duration(interval)})
	}
	return out
}

func baseConfig(t *testing.T, url string, ss []drivers.SensorConfig) gateway.Config {
	return gateway.Config{
		Site:           "test-site",
		Broker:         gateway.Broker{URL: url, ClientID: "gw-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))},
		Spool:          gateway.Spool{Dir: t.TempDir()},
		Forward:        gateway.Forward{BackoffMin: devices.Duration(100 * time.Millisecond), BackoffMax: devices.Duration(time.Second), DrainRate: 500},
		StatusInterval: devices.Duration(time.Second),
		Sensors:        ss,
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// start runs a gateway until stop is called or the test ends.
func start(t *testing.T, cfg gateway.Config, opts ...gateway.Option) (*gateway.Gateway, func()) {
	t.Helper()
	g, err := gateway.New(cfg, testLogger(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("gateway run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("gateway did not stop within 30s")
			}
		})
	}
	t.Cleanup(stop)
	return g, stop
}

// reading is one decoded telemetry reading.
type reading struct {
	device  string
	seq     int
	time    time.Time
	mission string
	at      time.Time // when received
}

// decodeTelemetry decodes the "seq" readings of every telemetry message.
func decodeTelemetry(t *testing.T, msgs []mqtttest.Message) []reading {
	t.Helper()
	topics := smartdeal.Topics{}
	var out []reading
	for _, m := range msgs {
		site, dev, ch, err := topics.Parse(m.Topic)
		if err != nil || ch != smartdeal.ChannelTelemetry {
			continue
		}
		rs, err := senml.Readings(site, dev, m.Payload, time.Now(), nil)
		if err != nil {
			t.Fatalf("telemetry on %s does not decode: %v: %s", m.Topic, err, m.Payload)
		}
		for _, r := range rs {
			if r.Quantity == "seq" {
				out = append(out, reading{device: dev, seq: int(r.Number), time: r.Time, mission: r.Mission, at: m.At})
			}
		}
	}
	return out
}

// firsts keeps the first occurrence of each (device, seq).
func firsts(rs []reading) map[string][]reading {
	seen := map[string]bool{}
	out := map[string][]reading{}
	for _, r := range rs {
		k := fmt.Sprintf("%s/%d", r.device, r.seq)
		if seen[k] {
			continue
		}
		seen[k] = true
		out[r.device] = append(out[r.device], r)
	}
	return out
}
