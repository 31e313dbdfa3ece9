package analog

import (
	"context"
	"errors"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/cd06/smartdeal/devices"
)

// conv is one single-shot conversion: write the config register, read the
// conversion register.
func conv(addr uint16, config [2]byte, result [2]byte) []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: addr, W: []byte{0x01, config[0], config[1]}, R: []byte{}},
		{Addr: addr, W: []byte{0x00}, R: result[:]},
	}
}

// ADS1115, channel 0 single-ended (mux 100), ±4.096 V (PGA 001), single shot,
// 8 SPS, comparator off: 0xC303.
var cfg1115ch0 = [2]byte{0xC3, 0x03}

func TestWaterLevel(t *testing.T) {
	ops := append(conv(0x48, cfg1115ch0, [2]byte{0x40, 0x00}), // 2.048 V
		conv(0x48, cfg1115ch0, [2]byte{0x0C, 0xCD})...) // 3277 → 0.409625 V
	bus := &i2ctest.Playback{Ops: ops}
	s, err := New(bus, Options{Quantity: "water_level", Unit: "m", Scale: 1.25, Offset: -0.1})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []float64{2.048*1.25 - 0.1, 0.409625*1.25 - 0.1} {
		ms, err := s.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 1 || ms[0].Quantity != "water_level" || ms[0].Unit != "m" || ms[0].Value != round6(want) {
			t.Errorf("read %v, want %v m", ms, round6(want))
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func round6(v float64) float64 {
	r := v * 1e6
	if r < 0 {
		return float64(int64(r-0.5)) / 1e6
	}
	return float64(int64(r+0.5)) / 1e6
}

func TestSoilMoistureADS1015(t *testing.T) {
	// ADS1015 at 0x49, channel 3 (mux 111), ±2.048 V (PGA 010), 128 SPS: 0xF503.
	// A capacitive probe reads 2.0 V dry and 0.8 V in water: % = -83.33·V + 166.67.
	bus := &i2ctest.Playback{Ops: conv(0x49, [2]byte{0xF5, 0x03}, [2]byte{0x2E, 0xE0})} // 0x2EE0 = 12000 → 0.75 V
	s, err := New(bus, Options{Chip: "ads1015", Address: 0x49, Channel: 3, FullScale: 2.048,
		Quantity: "soil_moisture", Unit: "%", Scale: -250.0 / 3, Offset: 500.0 / 3})
	if err != nil {
		t.Fatal(err)
	}
	if s.String() != "ads1015 at 0x49 channel 3" {
		t.Errorf("name %s", s)
	}
	ms, err := s.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := round6(0.75*-250.0/3 + 500.0/3); ms[0].Value != want {
		t.Errorf("soil moisture %v, want %v", ms[0].Value, want)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

// nackBus fails the nth operation as a device that stopped acknowledging.
type nackBus struct {
	i2ctest.Playback
	failAt, n int
}

var errNACK = errors.New("sysfs-i2c: remote I/O error")

func (b *nackBus) Tx(addr uint16, w, r []byte) error {
	n := b.n
	b.n++
	if n == b.failAt {
		return errNACK
	}
	return b.Playback.Tx(addr, w, r)
}

func TestSensorErrors(t *testing.T) {
	opts := Options{Quantity: "water_level", Unit: "m", Scale: 1}
	t.Run("saturated high", func(t *testing.T) {
		bus := &i2ctest.Playback{Ops: conv(0x48, cfg1115ch0, [2]byte{0x7F, 0xFF})}
		s, _ := New(bus, opts)
		if ms, err := s.Read(context.Background()); !errors.Is(err, devices.ErrNoData) || ms != nil || !strings.Contains(err.Error(), "saturated") {
			t.Fatalf("%v %v", ms, err)
		}
	})
	t.Run("saturated low", func(t *testing.T) {
		bus := &i2ctest.Playback{Ops: conv(0x48, cfg1115ch0, [2]byte{0x80, 0x00})}
		s, _ := New(bus, opts)
		if _, err := s.Read(context.Background()); !errors.Is(err, devices.ErrNoData) {
			t.Fatal(err)
		}
	})
	for _, failAt := range []int{0, 1} {
		// NACK on the config write, or on the result read; the next read works.
		ops := conv(0x48, cfg1115ch0, [2]byte{0x40, 0x00})
		ops = append(ops[:failAt:failAt], conv(0x48, cfg1115ch0, [2]byte{0x40, 0x00})...)
		bus := &nackBus{Playback: i2ctest.Playback{Ops: ops, DontPanic: true}, failAt: failAt}
		s, _ := New(bus, opts)
		if _, err := s.Read(context.Background()); !errors.Is(err, errNACK) || !strings.HasPrefix(err.Error(), "ads1115 at 0x48 channel 0: read: ") {
			t.Errorf("NACK at op %d: %v", failAt, err)
		}
		if ms, err := s.Read(context.Background()); err != nil || ms[0].Value != 2.048 {
			t.Errorf("after NACK at op %d: %v %v", failAt, ms, err)
		}
		if err := bus.Close(); err != nil {
			t.Error(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, _ := New(&i2ctest.Playback{}, opts)
	if _, err := s.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Error(err)
	}
	if _, err := New(&i2ctest.Playback{}, Options{Quantity: "x", Scale: 1, FullScale: 9}); err == nil {
		t.Error("9 V full scale accepted")
	}
	if _, err := New(&i2ctest.Playback{}, Options{Quantity: "x", Scale: 1, Channel: 4}); err == nil {
		t.Error("channel 4 accepted")
	}
}
