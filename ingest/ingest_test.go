package ingest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cd06/smartdeal/influxschema"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.BatchSize = 0 }, "ingest.batch_size"},
		{func(c *Config) { c.FlushInterval = 0 }, "ingest.flush_interval"},
		{func(c *Config) { c.MaxInflight = 0 }, "ingest.max_inflight"},
		{func(c *Config) { c.MaxInflight = 70000 }, "ingest.max_inflight"},
		{func(c *Config) { c.MaxPayload = 10 }, "ingest.max_payload"},
		{func(c *Config) { c.Decoders = 0 }, "ingest.decoders"},
		{func(c *Config) { c.RetryInitial = 0 }, "ingest.retry_initial"},
		{func(c *Config) { c.RetryMax = time.Millisecond }, "ingest.retry_max"},
		{func(c *Config) { c.ShutdownTimeout = 0 }, "ingest.shutdown_timeout"},
		{func(c *Config) { c.LogInterval = 0 }, "ingest.log_interval"},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		tt.mod(&c)
		if err := c.Validate("ingest"); err == nil || !strings.HasPrefix(err.Error(), tt.want+":") {
			t.Errorf("err = %v, want one naming %s", err, tt.want)
		}
	}
	if err := DefaultConfig().Validate("ingest"); err != nil {
		t.Fatal(err)
	}
	if got := DefaultConfig().flushAt(); got != 8000 {
		t.Fatalf("flushAt = %d, want 80%% of 10000", got)
	}
}

func TestLogLimiter(t *testing.T) {
	l := logLimiter{every: time.Hour, last: map[string]logEntry{}}
	if !l.allow("a") || l.allow("a") || l.allow("a") || !l.allow("b") {
		t.Fatal("want one line per key per interval")
	}
	l.every = 0
	if !l.allow("a") || l.suppressed("a") != 2 {
		t.Fatalf("suppressed = %d, want 2", l.suppressed("a"))
	}
}

// The benchmark below measures the pipeline's own CPU cost per message —
// decode, validate, encode, batch, ack — with a store that discards the
// points, so neither the broker nor InfluxDB is in the number. The
// end-to-end throughput against real Mosquitto and InfluxDB is measured by
// cmd/loadgen (docs/ingest.md).

type benchMsg struct {
	topic   string
	payload []byte
	acked   *atomic.Int64
}

func (m *benchMsg) Topic() string   { return m.topic }
func (m *benchMsg) Payload() []byte { return m.payload }
func (m *benchMsg) Duplicate() bool { return false }
func (m *benchMsg) Ack()            { m.acked.Add(1) }

type discardStore struct{ bytes atomic.Int64 }

func (s *discardStore) Write(_ context.Context, p []byte) error {
	s.bytes.Add(int64(len(p)))
	return nil
}

type nopPublisher struct{}

func (nopPublisher) Publish(context.Context, string, []byte) error { return nil }

func benchmarkPipeline(b *testing.B, payload func(i int) []byte) {
	store := &discardStore{}
	svc, err := New(DefaultConfig(), Deps{Store: store, Encode: influxschema.AppendPoints, DeadLetters: nopPublisher{}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	var acked atomic.Int64
	msgs := make([]*benchMsg, 1000)
	for i := range msgs {
		msgs[i] = &benchMsg{topic: fmt.Sprintf("smartdeal/v1/nice/dev-%d/telemetry", i%100), payload: payload(i), acked: &acked}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		svc.Handle(msgs[i%len(msgs)])
	}
	for acked.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if svc.m == nil || store.bytes.Load() == 0 {
		b.Fatal("nothing written")
	}
}

var benchBase = time.Now().Add(-time.Hour).UnixNano()

func BenchmarkPipelineSenML(b *testing.B) {
	benchmarkPipeline(b, func(i int) []byte {
		return fmt.Appendf(nil, `[{"n":"temperature","u":"Cel","v":%d.5,"t":%.6f}]`, i%40, float64(benchBase)/1e9+float64(i)/1e3)
	})
}

func BenchmarkPipelineLineProtocol(b *testing.B) {
	benchmarkPipeline(b, func(i int) []byte {
		return fmt.Appendf(nil, "temperature,unit=Cel value=%d.5 %d\n", i%40, benchBase+int64(i)*1e6)
	})
}

func BenchmarkPipelineSenMLPack10(b *testing.B) {
	benchmarkPipeline(b, func(i int) []byte {
		return fmt.Appendf(nil, `[{"bn":"","bt":%.6f,"bu":"Cel","n":"t0","v":1},{"n":"t1","v":2},{"n":"t2","v":3},{"n":"t3","v":4},{"n":"t4","v":5},{"n":"t5","v":6},{"n":"t6","v":7},{"n":"t7","v":8},{"n":"t8","v":9},{"n":"t9","v":10}]`,
			float64(benchBase)/1e9+float64(i)/1e3)
	})
}

// storeFunc is a Store whose Write is a function.
type storeFunc func(ctx context.Context, p []byte) error

func (f storeFunc) Write(ctx context.Context, p []byte) error { return f(ctx, p) }

// TestShutdownWhileStoreDownAndQueueFull: InfluxDB down, more messages
// handed in than the queue holds (a broker with a larger window than
// configured), then a stop request ⇒ Run returns within the shutdown
// timeout, the blocked handler is released, nothing is acked.
func TestShutdownWhileStoreDownAndQueueFull(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxInflight, cfg.BatchSize, cfg.Decoders = 5, 2, 1
	cfg.RetryInitial, cfg.RetryMax, cfg.ShutdownTimeout = time.Millisecond, 10*time.Millisecond, 300*time.Millisecond
	down := storeFunc(func(context.Context, []byte) error { return fmt.Errorf("connection refused") })
	svc, err := New(cfg, Deps{Store: down, Encode: influxschema.AppendPoints, DeadLetters: nopPublisher{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	var acked atomic.Int64
	handed := make(chan struct{})
	go func() {
		defer close(handed)
		for i := range 100 {
			svc.Handle(&benchMsg{topic: "smartdeal/v1/nice/station/telemetry",
				payload: fmt.Appendf(nil, `[{"n":"seq","v":%d}]`, i), acked: &acked})
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for len(svc.queue) < cap(svc.queue) { // wait until the handler is blocked on a full queue
		if time.Now().After(deadline) {
			t.Fatalf("queue never filled: %d of %d", len(svc.queue), cap(svc.queue))
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "unacknowledged") {
			t.Fatalf("Run = %v, want an error counting unacknowledged messages", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return: shutdown deadlocked")
	}
	select {
	case <-handed:
	case <-time.After(5 * time.Second):
		t.Fatal("Handle still blocked after shutdown")
	}
	if n := acked.Load(); n != 0 {
		t.Fatalf("%d messages acked although nothing was written", n)
	}
	if got := svc.Ready(context.Background()); got == nil || !strings.Contains(got.Error(), "connection refused") {
		t.Fatalf("Ready = %v", got)
	}
}
