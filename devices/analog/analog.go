// Package analog reads one single-ended input of a TI ADS1115 (16-bit) or
// ADS1015 (12-bit) ADC over I2C through periph's ads1x15 driver, and turns the
// voltage into a physical quantity with a linear calibration:
// value = volts × Scale + Offset (a pressure-probe water level in m, a
// capacitive soil-moisture probe in %…).
package analog

import (
	"context"
	"fmt"
	"math"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/ads1x15"

	"github.com/cd06/smartdeal/devices"
)

// Options configure an ADC input.
type Options struct {
	// Chip is (optional) ChipADS1115 (default) or ChipADS1015.
	Chip string
	// Address is (optional) the I2C address, 0x48 (default) to 0x4B.
	Address uint16
	// Channel is the single-ended input, 0 to 3.
	Channel int
	// FullScale is (optional) the input range in volts; the ADC picks the
	// smallest programmable range that covers it. Defaults to 4.096.
	FullScale float64
	// Quantity and Unit name the calibrated value. Required.
	Quantity, Unit string
	// Scale and Offset calibrate: value = volts*Scale + Offset. Scale must not be 0.
	Scale, Offset float64
}

// Sensor is one calibrated ADC input.
type Sensor struct {
	pin  ads1x15.PinADC
	name string
	o    Options
}

var _ devices.Sensor = (*Sensor)(nil)

// New configures the input. It does not talk to the chip (the ADS1x15 has no
// identification register); the first Read does.
func New(bus i2c.Bus, o Options) (*Sensor, error) {
	if o.Address == 0 {
		o.Address = ads1x15.I2CAddr
	}
	if o.FullScale == 0 {
		o.FullScale = 4.096
	}
	if o.Chip == "" {
		o.Chip = ChipADS1115
	}
	if o.Channel < 0 || o.Channel > 3 {
		return nil, fmt.Errorf("ads1x15: channel %d: want 0 to 3", o.Channel)
	}
	if o.Scale == 0 || o.Quantity == "" {
		return nil, fmt.Errorf("ads1x15: quantity and a non-zero scale are required")
	}
	opts := &ads1x15.Opts{I2cAddress: o.Address}
	var dev *ads1x15.Dev
	var err error
	switch o.Chip {
	case ChipADS1115:
		dev, err = ads1x15.NewADS1115(bus, opts)
	case ChipADS1015:
		dev, err = ads1x15.NewADS1015(bus, opts)
	default:
		return nil, fmt.Errorf("ads1x15: unknown chip %q", o.Chip)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Chip, err)
	}
	fs := physic.ElectricPotential(math.Round(o.FullScale*1000)) * physic.MilliVolt
	// 8 Hz with BestQuality picks the slowest data rate above it: 8 SPS on
	// an ADS1115 (125 ms per read, least noise), 128 SPS on an ADS1015.
	pin, err := dev.PinForChannel(ads1x15.Channel0+ads1x15.Channel(o.Channel), fs, 8*physic.Hertz, ads1x15.BestQuality)
	if err != nil {
		return nil, fmt.Errorf("%s: channel %d: %w", o.Chip, o.Channel, err)
	}
	return &Sensor{pin: pin, name: fmt.Sprintf("%s at %#x channel %d", o.Chip, o.Address, o.Channel), o: o}, nil
}

func (s *Sensor) String() string { return s.name }

// Read converts once and returns the calibrated value. A reading at either
// end of the range (the input saturated: probe disconnected with a pull-up,
// shorted, or full_scale too small) is devices.ErrNoData: it is not a
// measurement.
func (s *Sensor) Read(ctx context.Context) ([]devices.Measurement, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	smp, err := s.pin.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", s, err)
	}
	// ADS1015 results are left-justified 12 bits: the low 4 bits are 0, so
	// saturation is 0x7FF0 / -0x8000 there, 0x7FFF / -0x8000 on an ADS1115.
	if smp.Raw >= 0x7FF0 || smp.Raw <= -0x8000 {
		return nil, fmt.Errorf("%s: input saturated (raw %d, full scale %g V): probe disconnected or shorted? %w", s, smp.Raw, s.o.FullScale, devices.ErrNoData)
	}
	volts := float64(smp.V) / float64(physic.Volt)
	v := volts*s.o.Scale + s.o.Offset
	v = math.Round(v*1e6) / 1e6
	return []devices.Measurement{{Quantity: s.o.Quantity, Unit: s.o.Unit, Value: v}}, nil
}

// Close stops the input. The bus belongs to the caller.
func (s *Sensor) Close() error {
	if err := s.pin.Halt(); err != nil {
		return fmt.Errorf("%s: %w", s, err)
	}
	return nil
}
