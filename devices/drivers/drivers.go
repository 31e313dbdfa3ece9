// Package drivers is the explicit table of sensor drivers the gateway can
// open: a SensorConfig names a driver, Open builds the sensor. There is no
// init() registration; adding a driver means adding a line to the table.
//
// Hardware drivers initialise periph's host drivers (host.Init) once, on the
// first Open that needs them, and open their bus, pin or port themselves; the
// sensor's Close releases it.
package drivers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/onewire"
	"periph.io/x/conn/v3/onewire/onewirereg"
	"periph.io/x/host/v3"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/analog"
	"github.com/cd06/smartdeal/devices/bme280"
	"github.com/cd06/smartdeal/devices/ds18b20"
	"github.com/cd06/smartdeal/devices/internal/uart"
	"github.com/cd06/smartdeal/devices/pms5003"
	"github.com/cd06/smartdeal/devices/pulse"
	"github.com/cd06/smartdeal/devices/replay"
	"github.com/cd06/smartdeal/devices/sds011"
	"github.com/cd06/smartdeal/devices/sim"
)

// openFunc builds one sensor from a validated configuration.
type openFunc func(ctx context.Context, cfg devices.SensorConfig, log *slog.Logger) (devices.Sensor, error)

// table lists every driver; TestTableMatchesConfig keeps it in step with
// devices.DriverNames().
var table = map[string]openFunc{
	devices.DriverBME280:  openBME280,
	devices.DriverBMP280:  openBME280,
	devices.DriverDS18B20: openDS18B20,
	devices.DriverADS1x15: openADS1x15,
	devices.DriverPulse:   openPulse,
	devices.DriverPMS5003: openPMS5003,
	devices.DriverSDS011:  openSDS011,
	devices.DriverSim:     openSim,
	devices.DriverReplay:  openReplay,
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

// Simulated reports whether a driver needs no hardware (sim, replay).
func Simulated(driver string) bool {
	return driver == devices.DriverSim || driver == devices.DriverReplay
}

// Open validates cfg and opens its sensor. Opening real hardware on a machine
// without it fails with an error that says what to check (e.g. "no I2C bus
// found: is i2c enabled (raspi-config)?") and wraps devices.ErrNotFound.
// log may be nil.
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

var (
	hostOnce sync.Once
	hostErr  error
)

// initHost loads periph's host drivers once. On a machine without the
// hardware it succeeds and the buses are simply absent.
func initHost(log *slog.Logger) error {
	hostOnce.Do(func() {
		st, err := host.Init()
		if err != nil {
			hostErr = fmt.Errorf("periph host init: %w", err)
			return
		}
		for _, f := range st.Failed {
			log.Debug("periph driver failed", "driver", f.D.String(), "err", f.Err)
		}
		log.Debug("periph host drivers loaded", "loaded", len(st.Loaded), "skipped", len(st.Skipped), "failed", len(st.Failed))
	})
	return hostErr
}

// withCloser closes the bus, pin or port after the sensor.
type withCloser struct {
	devices.Sensor
	c io.Closer
}

func (w withCloser) Close() error {
	return errors.Join(w.Sensor.Close(), w.c.Close())
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func busName(name string) string {
	if name == "" {
		return "default"
	}
	return name
}

func openI2C(cfg devices.SensorConfig, log *slog.Logger) (i2c.BusCloser, error) {
	if err := initHost(log); err != nil {
		return nil, err
	}
	bus, err := i2creg.Open(cfg.Bus)
	if err != nil {
		// periph's message suggests calling Init, which we did: say what is there instead.
		log.Debug("i2creg.Open", "err", err)
		var present []string
		for _, r := range i2creg.All() {
			present = append(present, r.Name)
		}
		return nil, fmt.Errorf("no I2C bus found: is i2c enabled (raspi-config)? (wanted bus %s, present: %s): %w", busName(cfg.Bus), list(present), devices.ErrNotFound)
	}
	return bus, nil
}

func openBME280(ctx context.Context, cfg devices.SensorConfig, log *slog.Logger) (devices.Sensor, error) {
	bus, err := openI2C(cfg, log)
	if err != nil {
		return nil, err
	}
	d, err := bme280.New(bus, cfg.I2CAddress(), bme280.Options{})
	if err != nil {
		bus.Close()
		return nil, fmt.Errorf("%w (check the wiring and address: i2cdetect -y 1)", err)
	}
	if cfg.Driver == devices.DriverBME280 && !d.HasHumidity() {
		log.Warn("configured as bme280 but the chip is a BMP280: no humidity")
	}
	log.Info("sensor ready", "chip", d.String())
	return withCloser{d, bus}, nil
}

func openADS1x15(ctx context.Context, cfg devices.SensorConfig, log *slog.Logger) (devices.Sensor, error) {
	bus, err := openI2C(cfg, log)
	if err != nil {
		return nil, err
	}
	s, err := analog.New(bus, analog.Options{Chip: cfg.Chip, Address: cfg.I2CAddress(), Channel: cfg.Channel,
		FullScale: cfg.FullScale, Quantity: cfg.Quantity, Unit: cfg.Unit, Scale: cfg.Scale, Offset: cfg.Offset})
	if err != nil {
		bus.Close()
		return nil, err
	}
	log.Info("sensor ready", "adc", s.String())
	return withCloser{s, bus}, nil
}

// openDS18B20 uses the kernel's w1 sysfs files when bus is "sysfs" or a
// directory path (e.g. /sys/bus/w1/devices), or when no 1-Wire bus is
// registered but SysfsDir exists; otherwise periph's netlink 1-Wire bus.
func openDS18B20(ctx context.Context, cfg devices.SensorConfig, log *slog.Logger) (devices.Sensor, error) {
	if err := initHost(log); err != nil {
		return nil, err
	}
	var addr uint64
	if cfg.ROM != "" {
		a, err := devices.ParseROM(cfg.ROM)
		if err != nil {
			return nil, err
		}
		addr = a
	}
	dir := ""
	switch {
	case cfg.Bus == "sysfs":
		dir = ds18b20.SysfsDir
	case strings.HasPrefix(cfg.Bus, "/"):
		dir = cfg.Bus
	case cfg.Bus == "" && len(onewirereg.All()) == 0:
		if _, err := os.Stat(ds18b20.SysfsDir); err == nil {
			dir = ds18b20.SysfsDir
		}
	}
	if dir != "" {
		rom := ""
		if addr != 0 {
			rom = fmt.Sprintf("%02x-%012x", addr&0xFF, (addr>>8)&0xFFFFFFFFFFFF)
		}
		d, err := ds18b20.NewSysfs(dir, rom)
		if err != nil {
			return nil, err
		}
		log.Info("sensor ready", "probe", d.String(), "via", dir)
		return d, nil
	}
	bus, err := onewirereg.Open(cfg.Bus)
	if err != nil {
		log.Debug("onewirereg.Open", "err", err)
		var present []string
		for _, r := range onewirereg.All() {
			present = append(present, r.Name)
		}
		return nil, fmt.Errorf("no 1-Wire bus found: is 1-Wire enabled (raspi-config, or dtoverlay=w1-gpio)? (wanted bus %s, present: %s; %s absent): %w", busName(cfg.Bus), list(present), ds18b20.SysfsDir, devices.ErrNotFound)
	}
	d, err := ds18b20.New(ctx, onewire.Bus(bus), addr, ds18b20.Options{})
	if err != nil {
		bus.Close()
		return nil, err
	}
	log.Info("sensor ready", "probe", d.String())
	return withCloser{d, bus}, nil
}

func openPulse(ctx context.Context, cfg devices.SensorConfig, log *slog.Logger) (devices.Sensor, error) {
	if err := initHost(log); err != nil {
		return nil, err
	}
	p := gpioreg.ByName(cfg.Pin)
	if p == nil {
		return nil, fmt.Errorf("GPIO pin %q not found: is this a Raspberry Pi with /dev/gpiochip0, and the pin named GPIO17 or 17? %w", cfg.Pin, devices.ErrNotFound)
	}
	c, err := pulse.New(gpio.PinIn(p), pulse.Options{Mode: cfg.PulseMode, PerPulse: cfg.PerPulse, Quantity: cfg.Quantity,
		Unit: cfg.Unit, Debounce: time.Duration(cfg.Debounce)})
	if err != nil {
		return nil, err
	}
	log.Info("sensor ready", "pin", p.String())
	return c, nil
}

func baud(cfg devices.SensorConfig) int {
	if cfg.Baud == 0 {
		return 9600
	}
	return cfg.Baud
}

func openPMS5003(ctx context.Context, cfg devices.SensorConfig, log *slog.Logger) (devices.Sensor, error) {
	port, err := uart.Open(cfg.Bus, baud(cfg))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, devices.ErrNotFound)
	}
	log.Info("sensor ready", "port", cfg.Bus)
	return pms5003.New(port, pms5003.Options{Name: cfg.Bus}), nil
}

func openSDS011(ctx context.Context, cfg devices.SensorConfig, log *slog.Logger) (devices.Sensor, error) {
	port, err := uart.Open(cfg.Bus, baud(cfg))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, devices.ErrNotFound)
	}
	log.Info("sensor ready", "port", cfg.Bus)
	return sds011.New(port, sds011.Options{Name: cfg.Bus}), nil
}

func openSim(_ context.Context, cfg devices.SensorConfig, _ *slog.Logger) (devices.Sensor, error) {
	return sim.New(sim.Options{Profile: cfg.Profile, Seed: cfg.Seed, Name: cfg.Device})
}

func openReplay(_ context.Context, cfg devices.SensorConfig, _ *slog.Logger) (devices.Sensor, error) {
	return replay.New(replay.Options{File: cfg.File, Station: cfg.Station, Pollutants: cfg.Pollutants, Speedup: cfg.Speedup})
}
