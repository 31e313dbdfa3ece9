package drivers

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/devices"
)

func TestTableMatchesConfig(t *testing.T) {
	want := slices.Sorted(slices.Values(devices.DriverNames()))
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, config accepts %v", got, want)
	}
}

func TestOpenSimulated(t *testing.T) {
	ctx := context.Background()
	for _, cfg := range []devices.SensorConfig{
		{Driver: "sim", Device: "weather-1", Profile: "weather"},
		{Driver: "sim", Device: "air-1", Profile: "air", Seed: 9},
		{Driver: "sim", Device: "river-1", Profile: "river"},
		{Driver: "sim", Device: "rain-1", Profile: "rain"},
		{Driver: "replay", Device: "nice-arson", Station: "NICE ARSON", Speedup: 3600},
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
	_, err := Open(context.Background(), devices.SensorConfig{Driver: "sim", Device: "x"}, nil)
	var fe *devices.FieldError
	if !errors.As(err, &fe) || fe.Field != "profile" {
		t.Errorf("got %v, want a FieldError on profile", err)
	}
	_, err = Open(context.Background(), devices.SensorConfig{Driver: "replay", Device: "x", Station: "PARIS"}, nil)
	if !errors.Is(err, devices.ErrNotFound) || !strings.Contains(err.Error(), "open replay sensor x: ") {
		t.Errorf("unknown station: %v", err)
	}
}

// TestOpenHardwareWithoutIt runs on a machine without I2C, 1-Wire, GPIO or the
// serial port: each driver must say what to check, not panic or hang.
func TestOpenHardwareWithoutIt(t *testing.T) {
	for _, tc := range []struct {
		cfg devices.SensorConfig
		msg string
	}{
		{devices.SensorConfig{Driver: "bme280", Device: "w"}, "no I2C bus found: is i2c enabled (raspi-config)?"},
		{devices.SensorConfig{Driver: "bmp280", Device: "w", Bus: "7", Address: 0x77}, "no I2C bus found: is i2c enabled (raspi-config)? (wanted bus 7, present: none)"},
		{devices.SensorConfig{Driver: "ads1x15", Device: "a", Quantity: "water_level", Unit: "m", Scale: 1}, "no I2C bus found"},
		{devices.SensorConfig{Driver: "ds18b20", Device: "t"}, "no 1-Wire bus found"},
		{devices.SensorConfig{Driver: "pulse", Device: "r", Pin: "GPIO17", PerPulse: 0.2794, Quantity: "rain", Unit: "mm"}, `GPIO pin "GPIO17" not found`},
		{devices.SensorConfig{Driver: "pms5003", Device: "p", Bus: "/dev/ttyNOPE0"}, "serial port /dev/ttyNOPE0 not found: is the sensor plugged in"},
		{devices.SensorConfig{Driver: "sds011", Device: "p", Bus: "/dev/ttyNOPE1"}, "serial port /dev/ttyNOPE1 not found"},
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
