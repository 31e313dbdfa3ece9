// Command dronesim flies simulated ArduPilot copters over MAVLink: each does a
// lawn-mower survey over a polygon, then returns to launch and lands (and,
// with -repeat, flies again). Use it for demos against mavbridge (or the
// gateway), or write a flight log.
//
//	dronesim -n 3 -endpoint udp-client:127.0.0.1:14550 -time-scale 5
//	dronesim -n 2 -repeat 30s                # fly again 30 s after each landing
//	dronesim -tlog flight.tlog               # no network: write a .tlog of one flight
//
// Vehicle i (1…n) has system id i and surveys the polygon shifted 500 m north
// per vehicle, so several drones stay apart on a map. The work is done by
// dronesim.Fleet (firmware-bridge/dronesim), which the all-in-one uses too.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cd06/smartdeal/cmd/internal/boot"
	bridge "github.com/cd06/smartdeal/firmware-bridge"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "dronesim:", err)
		}
		os.Exit(1)
	}
}

func parsePolygon(s string) ([]dronesim.Point, error) {
	if s == "" {
		return nil, nil
	}
	var out []dronesim.Point
	for _, p := range strings.Split(s, ";") {
		a, b, ok := strings.Cut(strings.TrimSpace(p), ",")
		lat, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
		lon, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("-polygon: %q is not lat,lon", p)
		}
		out = append(out, dronesim.Point{Lat: lat, Lon: lon})
	}
	return out, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("dronesim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 1, "number of vehicles (system ids 1…n)")
	first := fs.Int("first-id", 1, "system id of the first vehicle")
	endpoint := fs.String("endpoint", dronesim.DefaultFleetEndpoint, "MAVLink endpoint (as mavbridge's)")
	version := fs.Int("mavlink", 2, "MAVLink version, 1 or 2")
	key := fs.String("key", "", "MAVLink 2 signing key (64 hex characters or a passphrase)")
	speed := fs.Float64("speed", 12, "ground speed, m/s")
	alt := fs.Float64("altitude", 60, "survey altitude above home, m")
	spacing := fs.Float64("spacing", 40, "distance between survey lanes, m")
	drain := fs.Float64("battery-drain", 4, "battery use while armed, %/min")
	noise := fs.Float64("gps-noise", 1.5, "GPS noise standard deviation, m (negative: none)")
	polygon := fs.String("polygon", "", "survey polygon \"lat,lon;lat,lon;…\" (default: near the Var river mouth)")
	scale := fs.Float64("time-scale", 1, "simulated seconds per real second")
	repeat := fs.Duration("repeat", 0, "after landing, wait this long (simulated time), swap the battery and fly again (0: stay landed)")
	noBattery := fs.Bool("no-battery", false, "no battery monitor: send the unknown sentinels")
	wait := fs.Bool("wait-stream-request", false, "stream only after SET_MESSAGE_INTERVAL / REQUEST_DATA_STREAM")
	duration := fs.Duration("duration", 0, "stop after this long (0: until interrupted; with -tlog: until landed)")
	tlogPath := fs.String("tlog", "", "write one flight to this .tlog file instead of flying over the network")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	poly, err := parsePolygon(*polygon)
	if err != nil {
		return err
	}
	if *n < 1 || *first < 1 || *first+*n-1 > 254 {
		return fmt.Errorf("-n %d -first-id %d: system ids must stay within 1…254", *n, *first)
	}
	fleet := dronesim.Fleet{
		N: *n, FirstID: *first, Endpoint: *endpoint, TimeScale: *scale, Log: log,
		Vehicle: dronesim.Config{Version: *version, Speed: *speed, Altitude: *alt, Spacing: *spacing,
			BatteryDrain: *drain, GPSNoise: *noise, Polygon: poly, NoBattery: *noBattery,
			WaitStreamRequest: *wait, Repeat: *repeat},
	}
	if *key != "" {
		if fleet.Vehicle.Key, err = bridge.ParseKey(*key); err != nil {
			return fmt.Errorf("-key: %w", err)
		}
	}
	if _, err := fleet.Configs(); err != nil {
		return err
	}

	if *tlogPath != "" {
		f, err := os.Create(*tlogPath)
		if err != nil {
			return err
		}
		total, err := fleet.WriteTlog(f, time.Now().Add(-time.Hour), *duration)
		if err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", *tlogPath, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
		log.Info("tlog written", "file", *tlogPath, "vehicles", *n, "frames", total)
		return nil
	}

	if _, err := bridge.ParseEndpoint(*endpoint); err != nil {
		return fmt.Errorf("-endpoint: %w", err)
	}
	ctx, stop := boot.SignalContext(ctx)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	return fleet.Run(ctx)
}
