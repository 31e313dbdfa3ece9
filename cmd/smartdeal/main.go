// Command smartdeal runs the whole platform on one machine — `make run` — on
// embedded defaults, so a newcomer with only Go sees readings flow:
//
//   - an embedded MQTT broker (mochi-mqtt) on 127.0.0.1:1883 (another free port
//     when a Mosquitto already listens there),
//   - InfluxDB 1.8.10, built once from the Go module proxy and started with its
//     data under .run/influxdb, v2 write API and Flux on,
//   - the ingest service (MQTT → InfluxDB, ack after write),
//   - simulated gateways at a few Alpes-Maritimes sites, including a replay of
//     real AtmoSud air-quality measurements,
//   - simulated drones over MAVLink to an embedded bridge at the first site,
//   - the civic API and pages (cmd/internal/apid), with demo data on a fresh
//     database (demo.go: sites, devices, proposals linked to the simulated
//     series, a mission; api.demo=false turns it off),
//   - /healthz, /readyz and /metrics for all of it.
//
// Every part is the same code the production binaries run (cmd/ingest,
// cmd/gateway…), started in-process. Configuration: SMARTDEAL_* variables or a
// YAML file (-config); `smartdeal -keys` lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cd06/smartdeal/cmd/internal/boot"
)

func main() {
	ctx, stop := boot.SignalContext(context.Background())
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "smartdeal:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg := defaultConfig()
	configPath, done, err := boot.Flags("smartdeal", args, &cfg, stderr)
	if err != nil || done {
		return err
	}
	if err := boot.Load(&cfg, configPath, getenv); err != nil {
		return err
	}
	log, err := boot.NewLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	p := &platform{cfg: cfg, log: log}
	return p.run(ctx)
}
