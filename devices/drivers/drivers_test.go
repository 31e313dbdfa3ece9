package drivers

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/onewire"
	"periph.io/x/conn/v3/onewire/onewirereg"
	"periph.io/x/conn/v3/onewire/onewiretest"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/analog"
	"github.com/cd06/smartdeal/devices/bme280"
	"github.com/cd06/smartdeal/devices/ds18b20"
	"github.com/cd06/smartdeal/devices/pms5003"
	"github.com/cd06/smartdeal/devices/pulse"
	"github.com/cd06/smartdeal/devices/replay"
	"github.com/cd06/smartdeal/devices/sds011"
	"github.com/cd06/smartdeal/devices/sim"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestTable: every driver of the table has options of its own, a new value
// per call (a decoded configuration never shares state with another), whose
// YAML keys do not shadow the keys every sensor has.
func TestTable(t *testing.T) {
	want := []string{"ads1x15", "bme280", "bmp280", "ds18b20", "pms5003", "pulse", "replay", "sds011", "sim"}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	for _, name := range Names() {
		a, _ := NewOptions(name)
		b, _ := NewOptions(name)
		if a == nil || reflect.TypeOf(a).Kind() != reflect.Pointer || reflect.TypeOf(a).Elem().Kind() != reflect.Struct {
			t.Errorf("%s: options %T, want a pointer to a struct", name, a)
			continue
		}
		if a == b {
			t.Errorf("%s: NewOptions returns the same value twice", name)
		}
		own := map[string]bool{}
		addKeys(own, reflect.TypeOf(a).Elem())
		for _, k := range []string{"driver", "device", "interval", "tags"} {
			if own[k] {
				t.Errorf("%s: options have the key %q every sensor has", name, k)
			}
		}
	}
	if _, ok := NewOptions("dht22"); ok {
		t.Error("an unknown driver has options")
	}
}

func TestOpenSimulated(t *testing.T) {
	ctx := context.Background()
	for _, cfg := range []SensorConfig{
		{Driver: "sim", Device: "weather-1", Options: &sim.Config{Profile: "weather"}},
		{Driver: "sim", Device: "air-1", Options: &sim.Config{Profile: "air", Seed: 9}},
		{Driver: "sim", Device: "river-1", Options: &sim.Config{Profile: "river"}},
		{Driver: "sim", Device: "rain-1", Options: &sim.Config{Profile: "rain"}},
		{Driver: "replay", Device: "nice-arson", Options: &replay.Config{Station: "NICE ARSON", Speedup: 3600}},
	} {
		if !Simulated(cfg.Driver) {
			t.Errorf("%s not simulated", cfg.Driver)
		}
		s, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("%s: %v", cfg.Device, err)
		}
		ms, err := s.Read(ctx)
		if err != nil {
			t.Fatalf("%s: %v", cfg.Device, err)
		}
		if len(ms) == 0 {
			t.Errorf("%s: no measurement", cfg.Device)
		}
		now := time.Now()
		for _, m := range ms {
			r := smartdeal.Reading{Site: "site", Device: cfg.Device, Quantity: m.Quantity, Unit: m.Unit, Time: now, Number: m.Value}
			if err := r.Validate(now); err != nil {
				t.Errorf("%s: %v", cfg.Device, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
}

func TestOpenInvalidConfig(t *testing.T) {
	_, err := Open(context.Background(), SensorConfig{Driver: "sim", Device: "x"}, nil)
	var fe *devices.FieldError
	if !errors.As(err, &fe) || fe.Field != "profile" {
		t.Errorf("got %v, want a FieldError on profile", err)
	}
	_, err = Open(context.Background(), SensorConfig{Driver: "replay", Device: "x", Options: &replay.Config{Station: "PARIS"}}, nil)
	if !errors.Is(err, devices.ErrNotFound) || !strings.Contains(err.Error(), "open replay sensor x: ") {
		t.Errorf("unknown station: %v", err)
	}
}

// TestOpenHardwareWithoutIt runs on a machine without I2C, 1-Wire, GPIO or the
// serial port: each driver must say what to check, not panic or hang.
func TestOpenHardwareWithoutIt(t *testing.T) {
	for _, tc := range []struct {
		cfg SensorConfig
		msg string
	}{
		{SensorConfig{Driver: "bme280", Device: "w"}, "no I2C bus found: is i2c enabled (raspi-config)?"},
		{SensorConfig{Driver: "bmp280", Device: "w", Options: &bme280.Config{Bus: "7", Address: 0x77}}, "no I2C bus found: is i2c enabled (raspi-config)? (wanted bus 7, present: none)"},
		{SensorConfig{Driver: "ads1x15", Device: "a", Options: &analog.Config{Quantity: "water_level", Unit: "m", Scale: 1}}, "no I2C bus found"},
		{SensorConfig{Driver: "ds18b20", Device: "t"}, "no 1-Wire bus found"},
		{SensorConfig{Driver: "pulse", Device: "r", Options: &pulse.Config{Pin: "GPIO17", PerPulse: 0.2794, Quantity: "rain", Unit: "mm"}}, `GPIO pin "GPIO17" not found`},
		{SensorConfig{Driver: "pms5003", Device: "p", Options: &pms5003.Config{Bus: "/dev/ttyNOPE0"}}, "serial port /dev/ttyNOPE0 not found: is the sensor plugged in"},
		{SensorConfig{Driver: "sds011", Device: "p", Options: &sds011.Config{Bus: "/dev/ttyNOPE1"}}, "serial port /dev/ttyNOPE1 not found"},
	} {
		t.Run(tc.cfg.Driver, func(t *testing.T) {
			s, err := Open(context.Background(), tc.cfg, nil)
			if err == nil {
				s.Close()
				t.Fatal("opened hardware that is not there")
			}
			if !errors.Is(err, devices.ErrNotFound) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%v\nwant ErrNotFound mentioning %q", err, tc.msg)
			}
			t.Log(err)
		})
	}
}

// TestOpenRegisteredBuses drives the table end to end on buses registered in
// periph's registries, as host.Init registers the Pi's: Open finds the bus by
// name, the driver talks to it, Close releases it.
func TestOpenRegisteredBuses(t *testing.T) {
	ctx := context.Background()
	// periph's recording of a real BME280 (bmxx80/bmx280_test.go).
	i2cBus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x76, W: []byte{0xd0}, R: []byte{0x60}},
		{Addr: 0x76, W: []byte{0x88}, R: []byte{0x10, 0x6e, 0x6c, 0x66, 0x32, 0x0, 0x5d, 0x95, 0xb8, 0xd5, 0xd0, 0xb, 0x77, 0x1e, 0x9d, 0xff, 0xf9, 0xff, 0xac, 0x26, 0xa, 0xd8, 0xbd, 0x10, 0x0, 0x4b}},
		{Addr: 0x76, W: []byte{0xe1}, R: []byte{0x6e, 0x1, 0x0, 0x13, 0x5, 0x0, 0x1e}},
		{Addr: 0x76, W: []byte{0xf4, 0x6c, 0xf2, 0x3, 0xf5, 0xa0, 0xf4, 0x6c}},
		{Addr: 0x76, W: []byte{0xF4, 0x6d}},
		{Addr: 0x76, W: []byte{0xF3}, R: []byte{0}},
		{Addr: 0x76, W: []byte{0xf7}, R: []byte{0x4a, 0x52, 0xc0, 0x80, 0x96, 0xc0, 0x7a, 0x76}},
	}}
	if err := i2creg.Register("playback-i2c", nil, 42, func() (i2c.BusCloser, error) { return i2cBus, nil }); err != nil {
		t.Fatal(err)
	}
	defer i2creg.Unregister("playback-i2c")
	s, err := Open(ctx, SensorConfig{Driver: "bme280", Device: "weather-1", Options: &bme280.Config{Bus: "playback-i2c"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := s.Read(ctx)
	if err != nil || len(ms) != 3 || ms[0].Value != 23.72 {
		t.Fatalf("bme280: %v %v", ms, err)
	}
	if err := s.Close(); err != nil { // closes the bus: Playback checks every op happened
		t.Fatal(err)
	}

	// DS18B20 on a registered 1-Wire bus, found by search.
	const rom = 0x740000070e41ac28
	spad := []byte{0x91, 0x01, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0}
	spad[8] = onewire.CalcCRC(spad[:8])
	match := func(cmd byte) []byte {
		return []byte{0x55, 0x28, 0xac, 0x41, 0x0e, 0x07, 0x00, 0x00, 0x74, cmd}
	}
	w1 := &onewiretest.Playback{Devices: []onewire.Address{rom}, Ops: []onewiretest.IO{
		{W: []byte{0xF0}},
		{W: match(0xBE), R: spad},
		{W: match(0x44), Pull: onewire.StrongPullup},
		{W: match(0xBE), R: spad},
	}}
	if err := onewirereg.Register("playback-w1", nil, 43, func() (onewire.BusCloser, error) { return w1, nil }); err != nil {
		t.Fatal(err)
	}
	defer onewirereg.Unregister("playback-w1")
	s, err = Open(ctx, SensorConfig{Driver: "ds18b20", Device: "water-temp", Options: &ds18b20.Config{Bus: "playback-w1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ms, err := s.Read(ctx); err != nil || ms[0].Value != 25.0625 {
		t.Fatalf("ds18b20: %v %v", ms, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The same probe through the kernel's w1 sysfs files.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "28-0000070e41ac"), 0o755)
	os.WriteFile(filepath.Join(dir, "28-0000070e41ac", "w1_slave"),
		[]byte("72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"), 0o644)
	s, err = Open(ctx, SensorConfig{Driver: "ds18b20", Device: "water-temp", Options: &ds18b20.Config{Bus: dir, ROM: "740000070e41ac28"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ms, err := s.Read(ctx); err != nil || ms[0].Value != 23.125 {
		t.Fatalf("ds18b20 sysfs: %v %v", ms, err)
	}
	s.Close()

	// A rain gauge on a registered GPIO pin.
	pin := &gpiotest.Pin{N: "GPIO99", Num: 99, EdgesChan: make(chan gpio.Level, 4)}
	if err := gpioreg.Register(pin); err != nil {
		t.Fatal(err)
	}
	defer gpioreg.Unregister("GPIO99")
	s, err = Open(ctx, SensorConfig{Driver: "pulse", Device: "rain-1", Options: &pulse.Config{Pin: "GPIO99", PerPulse: 0.2, Quantity: "rain", Unit: "mm"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pin.EdgesChan <- gpio.Low
	pin.EdgesChan <- gpio.Low
	testenv.Eventually(t, 2*time.Second, func() bool { n, _ := s.(*pulse.Counter).Count(); return n == 2 }, "edges not counted")
	if ms, err := s.Read(ctx); err != nil || ms[0].Value != 0.4 {
		t.Fatalf("pulse: %v %v", ms, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
