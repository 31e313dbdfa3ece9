// Command loadgen measures the ingest path end to end: it publishes N telemetry
// messages at QoS 1 (SenML or line protocol), waits until InfluxDB holds them
// all, and reports messages/s, end-to-end latency percentiles, points lost, and
// the CPU seconds and peak RSS of the ingest process it supervises.
//
// Modes:
//
//	live   publish while the ingest runs (throughput is bounded by broker and publisher)
//	drain  queue N messages on the broker while the ingest is stopped, then start it
//	       and time the catch-up from its restart (what differs between ingests)
//	broker no ingest: a QoS 1 publisher → subscriber through the broker, for reference
//
// The ingest under test is any command (ours, or Telegraf with its config), given
// after "--"; loadgen starts it, stops it and reads /proc for its resources:
//
//	loadgen -mode drain -n 200000 -- ./bin/ingest
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return usageError{err}
	}
	rep, err := execute(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	return rep.write(stdout, cfg.jsonOut)
}
