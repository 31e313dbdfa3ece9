// Command dronesim flies simulated ArduPilot copters over MAVLink: each does a
// lawn-mower survey over a polygon, then returns to launch and lands. Use it
// for demos against mavbridge (or the gateway), or write a flight log.
//
//	dronesim -n 3 -endpoint udp-client:127.0.0.1:14550 -time-scale 5
//	dronesim -tlog flight.tlog            # no network: write a .tlog of one flight
//
// Vehicle i (1…n) has system id i and surveys the polygon shifted 500 m north
// per vehicle, so several drones stay apart on a map.
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
	"sync"
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
	endpoint := fs.String("endpoint", "udp-client:127.0.0.1:14550", "MAVLink endpoint (as mavbridge's)")
	version := fs.Int("mavlink", 2, "MAVLink version, 1 or 2")
	key := fs.String("key", "", "MAVLink 2 signing key (64 hex characters or a passphrase)")
	speed := fs.Float64("speed", 12, "ground speed, m/s")
	alt := fs.Float64("altitude", 60, "survey altitude above home, m")
	spacing := fs.Float64("spacing", 40, "distance between survey lanes, m")
	drain := fs.Float64("battery-drain", 4, "battery use while armed, %/min")
	noise := fs.Float64("gps-noise", 1.5, "GPS noise standard deviation, m (negative: none)")
	polygon := fs.String("polygon", "", "survey polygon \"lat,lon;lat,lon;…\" (default: near the Var river mouth)")
	scale := fs.Float64("time-scale", 1, "simulated seconds per real second")
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
	cfgs := make([]dronesim.Config, *n)
	for i := range cfgs {
		c := dronesim.Config{SystemID: uint8(*first + i), Version: *version, Speed: *speed, Altitude: *alt,
			Spacing: *spacing, BatteryDrain: *drain, GPSNoise: *noise, NoBattery: *noBattery, WaitStreamRequest: *wait}
		if *key != "" {
			if c.Key, err = bridge.ParseKey(*key); err != nil {
				return fmt.Errorf("-key: %w", err)
			}
		}
		shift := 500.0 / 111_320 * float64(i) // degrees of latitude
		home := dronesim.DefaultHome
		home.Lat += shift
		c.Home = home
		src := poly
		if src == nil {
			src = dronesim.DefaultPolygon
		}
		for _, p := range src {
			c.Polygon = append(c.Polygon, dronesim.Point{Lat: p.Lat + shift, Lon: p.Lon})
		}
		if err := c.Validate(); err != nil {
			return fmt.Errorf("vehicle %d: %w", c.SystemID, err)
		}
		cfgs[i] = c
	}

	if *tlogPath != "" {
		f, err := os.Create(*tlogPath)
		if err != nil {
			return err
		}
		total := 0
		for _, c := range cfgs {
			sim, err := dronesim.NewSim(c, time.Now().Add(-time.Hour))
			if err != nil {
				return err
			}
			entries, err := dronesim.WriteTlog(f, sim, *duration)
			if err != nil {
				f.Close()
				return fmt.Errorf("write %s: %w", *tlogPath, err)
			}
			total += len(entries)
		}
		if err := f.Close(); err != nil {
			return err
		}
		log.Info("tlog written", "file", *tlogPath, "vehicles", *n, "frames", total)
		return nil
	}

	ep, err := bridge.ParseEndpoint(*endpoint)
	if err != nil {
		return fmt.Errorf("-endpoint: %w", err)
	}
	ctx, stop := boot.SignalContext(ctx)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(cfgs))
	for _, c := range cfgs {
		sim, err := dronesim.NewSim(c, time.Now())
		if err != nil {
			return err
		}
		v := &dronesim.Vehicle{Sim: sim, Endpoint: ep.Conf(), TimeScale: *scale}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := v.Run(ctx); err != nil {
				errs <- err
			}
		}()
		log.Info("vehicle flying", "system_id", c.SystemID, "endpoint", ep.String())
	}
	wg.Wait()
	close(errs)
	return <-errs
}
