package main

import (
	"fmt"
	"log/slog"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// embeddedBrokerInflight is the in-flight window the embedded broker allows per
// client; the ingest's ingest.max_inflight must not exceed it.
const embeddedBrokerInflight = 10000

// startBroker runs the embedded mochi-mqtt broker on addr for the all-in-one,
// so a machine with only Go runs the platform. It keeps sessions in memory:
// production uses Mosquitto or a cluster (deploy/mosquitto).
//
// auth (registryAuth) applies the same accounts and topic ACL as Mosquitto's
// configuration: nobody connects without an account.
func startBroker(addr string, log *slog.Logger, auth mochi.Hook) (*mochi.Server, error) {
	caps := mochi.NewDefaultServerCapabilities()
	caps.MaximumInflight = 65535
	caps.ReceiveMaximum = embeddedBrokerInflight
	caps.MaximumClientWritesPending = 64 * 1024
	srv := mochi.New(&mochi.Options{
		Capabilities: caps,
		Logger:       log.With("component", "broker"),
		InlineClient: true,
	})
	if err := srv.AddHook(auth, nil); err != nil {
		return nil, fmt.Errorf("broker auth hook: %w", err)
	}
	if err := srv.AddListener(listeners.NewTCP(listeners.Config{ID: "tcp", Address: addr})); err != nil {
		return nil, fmt.Errorf("broker listener on %s: %w", addr, err)
	}
	if err := srv.Serve(); err != nil {
		return nil, fmt.Errorf("broker on %s: %w", addr, err)
	}
	return srv, nil
}
