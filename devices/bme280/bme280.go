// Package bme280 reads a Bosch BME280 (temperature, humidity, pressure) or
// BMP280 (temperature, pressure) over I2C, in forced mode: one conversion per
// Read, the chip sleeps in between.
//
// It talks to the chip through periph's narrow i2c.Bus interface with the same
// register traffic as periph.io/x/devices/v3/bmxx80 (so periph's recordings of
// real chips play back unchanged), but does its own compensation with the
// datasheet's integer formulas so that the "measurement skipped" raw values
// (0x80000 for temperature and pressure, 0x8000 for humidity) are recognised
// and never become readings, and so that bus errors keep their type.
package bme280

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"

	"github.com/cd06/smartdeal/devices"
)

// Chip ids read from register 0xD0.
const (
	ChipBMP280 = 0x58
	ChipBME280 = 0x60
)

// Registers.
const (
	regChipID   = 0xD0
	regCalib1   = 0x88 // 0x88..0xA1: T1..T3, P1..P9, reserved, H1
	regCalib2   = 0xE1 // 0xE1..0xE7: H2..H6
	regCtrlHum  = 0xF2
	regStatus   = 0xF3
	regCtrlMeas = 0xF4
	regConfig   = 0xF5
	regData     = 0xF7 // press_msb .. hum_lsb
)

// Oversampling ×4 for every quantity, standby 1000 ms, no IIR filter: the
// defaults of periph's bmxx80.
const (
	ctrlMeasSleep  = 0b011_011_00 // osrs_t ×4, osrs_p ×4, sleep mode
	ctrlMeasForced = 0b011_011_01 // same, forced mode: one conversion
	ctrlHum        = 0b011        // osrs_h ×4
	config         = 0b101_000_00 // t_sb 1000 ms, filter off
	statusMeasure  = 1 << 3
	// Skipped measurements read as these raw values.
	skipped20 = 0x80000
	skipped16 = 0x8000
	// maxConversion is the datasheet's maximum conversion time at ×4/×4/×4:
	// 1.25 + 2.3·4 + (2.3·4 + 0.575)·2 ms.
	maxConversion = 30 * time.Millisecond
	pollAttempts  = 10
	pollInterval  = 2 * time.Millisecond
)

// Options configure a Dev.
type Options struct {
	// Sleep (optional) waits for a conversion; defaults to a timer that stops
	// when ctx is done. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Dev is one BME280 or BMP280 on an I2C bus. It is safe for concurrent use.
type Dev struct {
	mu    sync.Mutex // one conversion at a time
	d     i2c.Dev
	isBME bool
	cal   Calibration
	sleep func(ctx context.Context, d time.Duration) error
}

var _ devices.Sensor = (*Dev)(nil)

// New probes the chip at addr (0x76 or 0x77), reads its calibration and puts
// it to sleep until the first Read. A chip that does not answer, or answers
// with another chip id, gives an error wrapping devices.ErrNotFound.
func New(bus i2c.Bus, addr uint16, o Options) (*Dev, error) {
	d := &Dev{d: i2c.Dev{Bus: bus, Addr: addr}, sleep: o.Sleep}
	if d.sleep == nil {
		d.sleep = sleepCtx
	}
	var id [1]byte
	if err := d.d.Tx([]byte{regChipID}, id[:]); err != nil {
		return nil, fmt.Errorf("bme280 at %#x: read chip id: %w (%w)", addr, err, devices.ErrNotFound)
	}
	switch id[0] {
	case ChipBME280:
		d.isBME = true
	case ChipBMP280:
	default:
		return nil, fmt.Errorf("bme280 at %#x: chip id %#02x is neither BME280 (0x60) nor BMP280 (0x58): %w", addr, id[0], devices.ErrNotFound)
	}
	var c1 [26]byte
	if err := d.d.Tx([]byte{regCalib1}, c1[:]); err != nil {
		return nil, fmt.Errorf("%s: read calibration: %w", d, err)
	}
	var c2 [7]byte
	if d.isBME {
		if err := d.d.Tx([]byte{regCalib2}, c2[:]); err != nil {
			return nil, fmt.Errorf("%s: read humidity calibration: %w", d, err)
		}
	}
	d.cal = ParseCalibration(c1, c2)
	if d.cal.T1 == 0 || d.cal.P1 == 0 {
		return nil, fmt.Errorf("%s: calibration is blank (T1=%d, P1=%d): sensor not answering properly: %w", d, d.cal.T1, d.cal.P1, devices.ErrNotFound)
	}
	// ctrl_meas first (sleep, so the config write is not ignored), then
	// ctrl_hum, config, and ctrl_meas again (ctrl_hum applies after it).
	cmd := []byte{regCtrlMeas, ctrlMeasSleep, regCtrlHum, ctrlHum, regConfig, config, regCtrlMeas, ctrlMeasSleep}
	if !d.isBME {
		cmd = []byte{regCtrlMeas, ctrlMeasSleep, regConfig, config, regCtrlMeas, ctrlMeasSleep}
	}
	if err := d.d.Tx(cmd, nil); err != nil {
		return nil, fmt.Errorf("%s: configure: %w", d, err)
	}
	return d, nil
}

func (d *Dev) String() string {
	if d.isBME {
		return fmt.Sprintf("bme280 at %#x", d.d.Addr)
	}
	return fmt.Sprintf("bmp280 at %#x", d.d.Addr)
}

// HasHumidity reports whether the chip is a BME280.
func (d *Dev) HasHumidity() bool { return d.isBME }

// Read triggers one conversion and returns temperature (Cel), pressure (Pa)
// and, on a BME280, relative_humidity (%RH). Skipped measurements are left
// out; a skipped temperature (which the others depend on) is
// devices.ErrNoData.
func (d *Dev) Read(ctx context.Context) ([]devices.Measurement, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.d.Tx([]byte{regCtrlMeas, ctrlMeasForced}, nil); err != nil {
		return nil, fmt.Errorf("%s: start conversion: %w", d, err)
	}
	if err := d.sleep(ctx, maxConversion); err != nil {
		return nil, fmt.Errorf("%s: %w", d, err)
	}
	for i := 0; ; i++ {
		var st [1]byte
		if err := d.d.Tx([]byte{regStatus}, st[:]); err != nil {
			return nil, fmt.Errorf("%s: read status: %w", d, err)
		}
		if st[0]&statusMeasure == 0 {
			break
		}
		if i == pollAttempts-1 {
			return nil, fmt.Errorf("%s: still measuring after %s: %w", d, maxConversion+pollAttempts*pollInterval, devices.ErrNoData)
		}
		if err := d.sleep(ctx, pollInterval); err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
	}
	var buf [8]byte
	b := buf[:]
	if !d.isBME {
		b = buf[:6]
	}
	if err := d.d.Tx([]byte{regData}, b); err != nil {
		return nil, fmt.Errorf("%s: read data: %w", d, err)
	}
	raw := ParseRaw(buf, d.isBME)
	ms, err := d.cal.Compensate(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d, err)
	}
	return ms, nil
}

// Close puts the chip to sleep (it already sleeps between forced reads, so
// this writes nothing) and releases nothing else: the bus belongs to the caller.
func (d *Dev) Close() error { return nil }

// Raw holds the uncompensated ADC values of one conversion.
type Raw struct {
	T, P int32 // 20 bits; 0x80000 = skipped
	H    int32 // 16 bits; 0x8000 = skipped; -1 when the chip has no humidity
}

// ParseRaw decodes registers 0xF7..0xFE.
func ParseRaw(b [8]byte, humidity bool) Raw {
	r := Raw{
		P: int32(b[0])<<12 | int32(b[1])<<4 | int32(b[2])>>4,
		T: int32(b[3])<<12 | int32(b[4])<<4 | int32(b[5])>>4,
		H: -1,
	}
	if humidity {
		r.H = int32(b[6])<<8 | int32(b[7])
	}
	return r
}

// Calibration is the chip's trimming parameters.
type Calibration struct {
	T1                             uint16
	T2, T3                         int16
	P1                             uint16
	P2, P3, P4, P5, P6, P7, P8, P9 int16
	H1                             uint8
	H2                             int16
	H3                             uint8
	H4, H5                         int16
	H6                             int8
}

// ParseCalibration decodes registers 0x88..0xA1 and 0xE1..0xE7.
func ParseCalibration(tph [26]byte, h [7]byte) Calibration {
	le := binary.LittleEndian
	return Calibration{
		T1: le.Uint16(tph[0:]),
		T2: int16(le.Uint16(tph[2:])),
		T3: int16(le.Uint16(tph[4:])),
		P1: le.Uint16(tph[6:]),
		P2: int16(le.Uint16(tph[8:])),
		P3: int16(le.Uint16(tph[10:])),
		P4: int16(le.Uint16(tph[12:])),
		P5: int16(le.Uint16(tph[14:])),
		P6: int16(le.Uint16(tph[16:])),
		P7: int16(le.Uint16(tph[18:])),
		P8: int16(le.Uint16(tph[20:])),
		P9: int16(le.Uint16(tph[22:])),
		H1: tph[25],
		H2: int16(le.Uint16(h[0:])),
		H3: h[2],
		// H4 is 0xE4[7:0] 0xE5[3:0], H5 is 0xE5[7:4] 0xE6[7:0], both signed 12 bits.
		H4: int16(int8(h[3]))<<4 | int16(h[4]&0x0F),
		H5: int16(int8(h[5]))<<4 | int16(h[4]>>4),
		H6: int8(h[6]),
	}
}

// ErrSkipped is wrapped (with devices.ErrNoData) when the temperature
// measurement was skipped: nothing can be compensated without it.
var ErrSkipped = errors.New("temperature measurement skipped (raw 0x80000)")

// Compensate turns raw values into measurements with the datasheet's integer
// formulas (temperature int32 in 0.01 °C, pressure int64 in Q24.8 Pa, humidity
// int32 in Q22.10 %RH). Skipped values are left out.
func (c Calibration) Compensate(r Raw) ([]devices.Measurement, error) {
	if r.T == skipped20 {
		return nil, fmt.Errorf("%w: %w", ErrSkipped, devices.ErrNoData)
	}
	t, tFine := c.TemperatureCenti(r.T)
	out := make([]devices.Measurement, 0, 3)
	out = append(out, devices.Measurement{Quantity: "temperature", Unit: "Cel", Value: float64(t) / 100})
	if r.P != skipped20 {
		if p, ok := c.PressureQ24_8(r.P, tFine); ok {
			out = append(out, devices.Measurement{Quantity: "pressure", Unit: "Pa", Value: float64(p) / 256})
		}
	}
	if r.H >= 0 && r.H != skipped16 {
		h := c.HumidityQ22_10(r.H, tFine)
		out = append(out, devices.Measurement{Quantity: "relative_humidity", Unit: "%RH", Value: float64(h) / 1024})
	}
	return out, nil
}

// TemperatureCenti returns the temperature in 0.01 °C and t_fine.
func (c Calibration) TemperatureCenti(raw int32) (t, tFine int32) {
	x := ((raw>>3 - int32(c.T1)<<1) * int32(c.T2)) >> 11
	y := ((((raw>>4 - int32(c.T1)) * (raw>>4 - int32(c.T1))) >> 12) * int32(c.T3)) >> 14
	tFine = x + y
	return (tFine*5 + 128) >> 8, tFine
}

// PressureQ24_8 returns the pressure in Pa as Q24.8; ok is false when the
// calibration would divide by zero.
func (c Calibration) PressureQ24_8(raw, tFine int32) (p uint32, ok bool) {
	x := int64(tFine) - 128000
	y := x * x * int64(c.P6)
	y += (x * int64(c.P5)) << 17
	y += int64(c.P4) << 35
	x = (x*x*int64(c.P3))>>8 + ((x * int64(c.P2)) << 12)
	x = ((int64(1)<<47 + x) * int64(c.P1)) >> 33
	if x == 0 {
		return 0, false
	}
	q := ((((1048576 - int64(raw)) << 31) - y) * 3125) / x
	x = (int64(c.P9) * (q >> 13) * (q >> 13)) >> 25
	y = (int64(c.P8) * q) >> 19
	return uint32(((q + x + y) >> 8) + (int64(c.P7) << 4)), true
}

// HumidityQ22_10 returns the relative humidity in % as Q22.10, clamped to 0..100.
func (c Calibration) HumidityQ22_10(raw, tFine int32) uint32 {
	x := tFine - 76800
	x1 := raw<<14 - int32(c.H4)<<20 - int32(c.H5)*x
	x2 := (x1 + 16384) >> 15
	x3 := (x * int32(c.H6)) >> 10
	x4 := (x * int32(c.H3)) >> 11
	x5 := (x3 * (x4 + 32768)) >> 10
	x6 := ((x5+2097152)*int32(c.H2) + 8192) >> 14
	x = x2 * x6
	x -= ((((x >> 15) * (x >> 15)) >> 7) * int32(c.H1)) >> 4
	x = max(x, 0)
	x = min(x, 419430400)
	return uint32(x >> 12)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
