package ingest

import (
	"fmt"
	"runtime"
	"time"
)

// Config tunes the pipeline. Every field has a default (DefaultConfig).
type Config struct {
	// BatchSize is the number of points that triggers a write; defaults to 5000.
	BatchSize int `koanf:"batch_size"`
	// FlushInterval is the longest a reading waits in a batch; defaults to 500ms.
	FlushInterval time.Duration `koanf:"flush_interval"`
	// MaxInflight must equal the broker's window of unacknowledged QoS 1
	// messages per client (Mosquitto's max_inflight_messages, 10000 in
	// deploy/mosquitto). Since messages are acked only after their write, a
	// batch can never hold more; the pipeline flushes when 80 % of the window
	// is unacked. Defaults to 10000.
	MaxInflight int `koanf:"max_inflight"`
	// MaxPayload is the largest accepted payload in bytes; larger ones are
	// dead-lettered (reason too_large). Defaults to 262144 (256 KiB).
	MaxPayload int `koanf:"max_payload"`
	// Decoders is the number of decoding goroutines; defaults to GOMAXPROCS.
	Decoders int `koanf:"decoders"`
	// RetryInitial is the first backoff after a failed write; defaults to 100ms.
	RetryInitial time.Duration `koanf:"retry_initial"`
	// RetryMax caps the backoff between write attempts; defaults to 5s.
	RetryMax time.Duration `koanf:"retry_max"`
	// ShutdownTimeout bounds the final flush after a stop request; what is
	// not written by then stays unacked and the broker redelivers it.
	// Defaults to 15s.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// LogInterval is how often one kind of noisy event (a dead-letter reason,
	// a failing write) is logged at most; defaults to 10s.
	LogInterval time.Duration `koanf:"log_interval"`
	// TopicPrefix of the platform's topics, for dead-letter topics; set from
	// the MQTT configuration. Defaults to "smartdeal/v1".
	TopicPrefix string `koanf:"-"`
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		BatchSize:       5000,
		FlushInterval:   500 * time.Millisecond,
		MaxInflight:     10000,
		MaxPayload:      256 << 10,
		Decoders:        runtime.GOMAXPROCS(0),
		RetryInitial:    100 * time.Millisecond,
		RetryMax:        5 * time.Second,
		ShutdownTimeout: 15 * time.Second,
		LogInterval:     10 * time.Second,
		TopicPrefix:     "smartdeal/v1",
	}
}

// Validate checks the configuration; errors name the key under prefix
// (normally "ingest").
func (c Config) Validate(prefix string) error {
	switch {
	case c.BatchSize < 1:
		return fmt.Errorf("%s.batch_size: want ≥ 1, got %d", prefix, c.BatchSize)
	case c.FlushInterval <= 0:
		return fmt.Errorf("%s.flush_interval: want > 0, got %s", prefix, c.FlushInterval)
	case c.MaxInflight < 1 || c.MaxInflight > 65535:
		return fmt.Errorf("%s.max_inflight: want 1..65535 (the broker's max_inflight_messages), got %d", prefix, c.MaxInflight)
	case c.MaxPayload < 64 || c.MaxPayload > 64<<20:
		return fmt.Errorf("%s.max_payload: want 64 B .. 64 MiB, got %d", prefix, c.MaxPayload)
	case c.Decoders < 1 || c.Decoders > 256:
		return fmt.Errorf("%s.decoders: want 1..256, got %d", prefix, c.Decoders)
	case c.RetryInitial <= 0:
		return fmt.Errorf("%s.retry_initial: want > 0, got %s", prefix, c.RetryInitial)
	case c.RetryMax < c.RetryInitial:
		return fmt.Errorf("%s.retry_max: want ≥ retry_initial (%s), got %s", prefix, c.RetryInitial, c.RetryMax)
	case c.ShutdownTimeout <= 0:
		return fmt.Errorf("%s.shutdown_timeout: want > 0, got %s", prefix, c.ShutdownTimeout)
	case c.LogInterval <= 0:
		return fmt.Errorf("%s.log_interval: want > 0, got %s", prefix, c.LogInterval)
	}
	return nil
}

// flushAt is the number of unacked messages at which a batch is flushed
// without waiting for size or time: 80 % of the broker's window.
func (c Config) flushAt() int64 {
	n := int64(c.MaxInflight) * 8 / 10
	if n < 1 {
		n = 1
	}
	return n
}
