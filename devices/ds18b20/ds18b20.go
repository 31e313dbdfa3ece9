// Package ds18b20 reads a Maxim DS18B20 temperature probe (water or soil
// temperature) on a 1-Wire bus.
//
// It speaks through periph's onewire.Bus with the same traffic as
// periph.io/x/devices/v3/ds18b20 (Match ROM, Convert T with strong pull-up,
// Read Scratchpad), so periph's recordings play back unchanged, and adds what
// the gateway needs: a context-aware conversion wait, errors that wrap
// devices.ErrChecksum (CRC) / devices.ErrNotFound (no answer) /
// devices.ErrNoData (the 85 °C power-on value), and bus discovery when no ROM
// is configured.
package ds18b20

import (
	"context"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/onewire"

	"github.com/cd06/smartdeal/devices"
)

// Family is the DS18B20's 1-Wire family code.
const Family = 0x28

// 1-Wire function commands.
const (
	cmdConvert         = 0x44
	cmdReadScratchpad  = 0xBE
	cmdWriteScratchpad = 0x4E
	cmdCopyScratchpad  = 0x48
)

// powerOnRaw is the scratchpad temperature after power-up (85 °C): a read
// that returns it means no conversion happened.
const powerOnRaw = 0x0550

// Options configure a Dev.
type Options struct {
	// Resolution is (optional) 9 to 12 bits; defaults to 12 (0.0625 °C, 750 ms
	// conversion). 10 bits (0.25 °C, 188 ms) is a good compromise.
	Resolution int
	// Sleep (optional) waits for a conversion; defaults to a timer that stops
	// when ctx is done. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Dev is one DS18B20. It is safe for concurrent use.
type Dev struct {
	mu    sync.Mutex // one conversion at a time
	d     onewire.Dev
	bits  int
	sleep func(ctx context.Context, d time.Duration) error
}

var _ devices.Sensor = (*Dev)(nil)

// New opens the DS18B20 at addr (family code in the low byte), or when addr is
// 0 the only DS18B20 found on the bus. It reads the scratchpad to check that
// the probe answers, and sets the resolution if it differs (writing it to the
// probe's EEPROM).
func New(ctx context.Context, bus onewire.Bus, addr uint64, o Options) (*Dev, error) {
	bits := o.Resolution
	if bits == 0 {
		bits = 12
	}
	if bits < 9 || bits > 12 {
		return nil, fmt.Errorf("ds18b20: resolution %d bits: want 9 to 12", bits)
	}
	if addr == 0 {
		found, err := Find(bus)
		if err != nil {
			return nil, err
		}
		if len(found) != 1 {
			return nil, fmt.Errorf("ds18b20: %d probes on %s (%v): set rom to choose one: %w", len(found), bus, found, devices.ErrNotFound)
		}
		addr = found[0]
	}
	if addr&0xFF != Family {
		return nil, fmt.Errorf("ds18b20: ROM %#016x has family %#02x, not a DS18B20 (0x28)", addr, addr&0xFF)
	}
	d := &Dev{d: onewire.Dev{Bus: bus, Addr: onewire.Address(addr)}, bits: bits, sleep: o.Sleep}
	if d.sleep == nil {
		d.sleep = sleepCtx
	}
	spad, err := d.scratchpad()
	if err != nil {
		return nil, err
	}
	if cfg := byte(bits-9)<<5 | 0x1F; spad[4] != cfg {
		// Keep the alarm thresholds TH and TL, change the configuration.
		if err := d.d.Tx([]byte{cmdWriteScratchpad, spad[2], spad[3], cfg}, nil); err != nil {
			return nil, fmt.Errorf("%s: set resolution: %w", d, err)
		}
		if err := d.d.TxPower([]byte{cmdCopyScratchpad}, nil); err != nil {
			return nil, fmt.Errorf("%s: save resolution: %w", d, err)
		}
		if err := d.sleep(ctx, 10*time.Millisecond); err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
	}
	return d, nil
}

// Find returns the DS18B20 probes on the bus.
func Find(bus onewire.Bus) ([]uint64, error) {
	all, err := bus.Search(false)
	if err != nil {
		return nil, fmt.Errorf("ds18b20: search %s: %w (%w)", bus, err, devices.ErrNotFound)
	}
	var out []uint64
	for _, a := range all {
		if a&0xFF == Family {
			out = append(out, uint64(a))
		}
	}
	return out, nil
}

func (d *Dev) String() string {
	a := uint64(d.d.Addr)
	return fmt.Sprintf("ds18b20 %02x-%012x", a&0xFF, (a>>8)&0xFFFFFFFFFFFF)
}

// ConversionTime is how long a conversion takes at the resolution (datasheet p.6).
func ConversionTime(bits int) time.Duration { return (94 << (bits - 9)) * time.Millisecond }

// Read converts and returns the temperature in Cel.
func (d *Dev) Read(ctx context.Context) ([]devices.Measurement, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.d.TxPower([]byte{cmdConvert}, nil); err != nil {
		return nil, fmt.Errorf("%s: start conversion: %w", d, err)
	}
	if err := d.sleep(ctx, ConversionTime(d.bits)); err != nil {
		return nil, fmt.Errorf("%s: %w", d, err)
	}
	spad, err := d.scratchpad()
	if err != nil {
		return nil, err
	}
	return temperature(d, spad)
}

// temperature decodes a checked scratchpad.
func temperature(name fmt.Stringer, spad [9]byte) ([]devices.Measurement, error) {
	raw := int16(spad[1])<<8 | int16(spad[0])
	if raw == powerOnRaw {
		return nil, fmt.Errorf("%s: read the power-on value 85 °C, no conversion happened (weak pull-up or parasite power?): %w", name, devices.ErrNoData)
	}
	c := float64(raw) / 16
	if c < -55 || c > 125 {
		return nil, fmt.Errorf("%s: %.4f °C is outside the probe's range: %w", name, c, devices.ErrNoData)
	}
	return []devices.Measurement{{Quantity: "temperature", Unit: "Cel", Value: c}}, nil
}

// scratchpad reads the 9 scratchpad bytes and checks the CRC.
func (d *Dev) scratchpad() ([9]byte, error) {
	var spad [9]byte
	if err := d.d.Tx([]byte{cmdReadScratchpad}, spad[:]); err != nil {
		return spad, fmt.Errorf("%s: read scratchpad: %w", d, err)
	}
	return spad, checkScratchpad(d, spad)
}

// checkScratchpad tells a DS18B20's scratchpad from a missing probe, a
// shorted bus or a corrupted transfer.
func checkScratchpad(name fmt.Stringer, spad [9]byte) error {
	allFF, allZero := true, true
	for _, b := range spad {
		allFF = allFF && b == 0xFF
		allZero = allZero && b == 0
	}
	// An open bus reads all ones; a shorted one all zeros (whose CRC is valid).
	if allFF || allZero {
		return fmt.Errorf("%s: no answer (scratchpad reads all %#02x): probe disconnected or bus shorted? %w", name, spad[0], devices.ErrNotFound)
	}
	if !onewire.CheckCRC(spad[:]) {
		return fmt.Errorf("%s: scratchpad % x: CRC: %w", name, spad, devices.ErrChecksum)
	}
	// The configuration register's bits 0-4 and 7 are fixed (datasheet p.9).
	if spad[4]&0x9F != 0x1F {
		return fmt.Errorf("%s: configuration byte %#02x is not a DS18B20's: %w", name, spad[4], devices.ErrNotFound)
	}
	return nil
}

// Close releases nothing: the bus belongs to the caller.
func (d *Dev) Close() error { return nil }

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
