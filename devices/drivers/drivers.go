// Package drivers is the explicit table of sensor drivers the gateway can
// open: a SensorConfig names a driver, Open builds the sensor. There is no
// init() registration; adding a driver means adding a line to the table.
package drivers

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/replay"
	"github.com/cd06/smartdeal/devices/sim"
)

// openFunc builds one sensor from a validated configuration.
type openFunc func(ctx context.Context, cfg devices.SensorConfig, log *slog.Logger) (devices.Sensor, error)

// table lists every driver. Keep in sync with devices.DriverNames().
var table = map[string]openFunc{
	devices.DriverSim:    openSim,
	devices.DriverReplay: openReplay,
}

// Names returns the drivers Open knows, sorted.
func Names() []string {
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Open validates cfg and opens its sensor. Opening real hardware on a machine
// without it fails with an error that says what to check (e.g. "no I2C bus
// found: is i2c enabled (raspi-config)?"). log may be nil.
func Open(ctx context.Context, cfg devices.SensorConfig, log *slog.Logger) (devices.Sensor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	open, ok := table[cfg.Driver]
	if !ok {
		return nil, fmt.Errorf("driver %q is not built into this gateway", cfg.Driver)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("driver", cfg.Driver, "device", cfg.Device)
	s, err := open(ctx, cfg, log)
	if err != nil {
		return nil, fmt.Errorf("open %s sensor %s: %w", cfg.Driver, cfg.Device, err)
	}
	return s, nil
}

func openSim(_ context.Context, cfg devices.SensorConfig, _ *slog.Logger) (devices.Sensor, error) {
	return sim.New(sim.Options{Profile: cfg.Profile, Seed: cfg.Seed, Name: cfg.Device})
}

func openReplay(_ context.Context, cfg devices.SensorConfig, _ *slog.Logger) (devices.Sensor, error) {
	return replay.New(replay.Options{File: cfg.File, Station: cfg.Station, Pollutants: cfg.Pollutants, Speedup: cfg.Speedup})
}
