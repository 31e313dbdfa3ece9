// Package ingestd wires the ingest pipeline to its adapters — the MQTT
// subscription (ingest/mqttsub) and the InfluxDB store (ingest/influxstore) —
// so that cmd/ingest and the all-in-one cmd/smartdeal start the same service
// the same way: New, then Run.
package ingestd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal/influxschema"
	"github.com/cd06/smartdeal/ingest"
	"github.com/cd06/smartdeal/ingest/influxstore"
	"github.com/cd06/smartdeal/ingest/mqttsub"
)

// Config is the ingest service's configuration: broker, InfluxDB, pipeline.
type Config struct {
	MQTT   mqttsub.Config     `koanf:"mqtt"`
	Influx influxstore.Config `koanf:"influx"`
	Ingest ingest.Config      `koanf:"ingest"`
}

// DefaultConfig is a local run: Mosquitto on 127.0.0.1:1883, InfluxDB 1.8 on
// 127.0.0.1:8086, database smartdeal.
func DefaultConfig() Config {
	return Config{
		MQTT:   mqttsub.DefaultConfig(),
		Influx: influxstore.DefaultConfig(),
		Ingest: ingest.DefaultConfig(),
	}
}

// Validate checks every part; errors name the YAML path of the field.
func (c Config) Validate() error {
	if err := c.MQTT.Validate("mqtt"); err != nil {
		return err
	}
	if err := c.Influx.Validate("influx"); err != nil {
		return err
	}
	return c.Ingest.Validate("ingest")
}

// App is a running ingest service.
type App struct {
	cfg   Config
	log   *slog.Logger
	store *influxstore.Store
	sub   *mqttsub.Client
	svc   *ingest.Service
}

// New builds the service; Run starts it. reg receives the pipeline's metrics.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Ingest.TopicPrefix = cfg.MQTT.TopicPrefix
	store, err := influxstore.New(cfg.Influx, log.With("component", "influxstore"))
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, store: store}
	// The handler closes over a, whose svc is set below, before Run connects.
	a.sub, err = mqttsub.New(cfg.MQTT, log.With("component", "mqtt"), func(m mqtt.Message) { a.svc.Handle(m) })
	if err != nil {
		store.Close()
		return nil, err
	}
	a.svc, err = ingest.New(cfg.Ingest, ingest.Deps{
		Store:       store,
		Encode:      influxschema.AppendPoints,
		DeadLetters: a.sub,
		Log:         log.With("component", "ingest"),
		Registry:    reg,
	})
	if err != nil {
		store.Close()
		return nil, err
	}
	return a, nil
}

// Run connects to the broker and runs the pipeline until ctx ends, then
// stops intake, flushes and acks what it holds, and disconnects (keeping the
// broker session, so nothing published meanwhile is lost).
func (a *App) Run(ctx context.Context) error {
	defer a.store.Close()
	if a.cfg.Influx.CreateDatabase {
		if err := a.ensureDatabase(ctx); err != nil {
			return err
		}
	}
	svcErr := make(chan error, 1)
	go func() { svcErr <- a.svc.Run(ctx) }()
	if err := a.sub.Connect(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("mqtt connect failed", "err", err)
	}
	err := <-svcErr
	a.sub.Close(2 * time.Second)
	return err
}

// ensureDatabase creates the 1.8 database, retrying while InfluxDB starts.
func (a *App) ensureDatabase(ctx context.Context) error {
	backoff := 200 * time.Millisecond
	for {
		err := a.store.EnsureDatabase(ctx)
		if err == nil {
			return nil
		}
		a.log.Warn("influxdb not ready for CREATE DATABASE; retrying", "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("ingestd: %w", errors.Join(ctx.Err(), err))
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// BrokerReady returns nil when the MQTT client is connected and subscribed.
func (a *App) BrokerReady(ctx context.Context) error { return a.sub.Ready(ctx) }

// StoreReady returns nil when InfluxDB answers and writes are not failing.
func (a *App) StoreReady(ctx context.Context) error {
	if err := a.store.Ping(ctx); err != nil {
		return err
	}
	return a.svc.Ready(ctx)
}

// Unacked returns the number of received, unacknowledged messages.
func (a *App) Unacked() int { return a.svc.Unacked() }
