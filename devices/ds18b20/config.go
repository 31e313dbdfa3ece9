package ds18b20

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"periph.io/x/conn/v3/onewire"
	"periph.io/x/conn/v3/onewire/onewirereg"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/internal/bus"
)

// Config is a DS18B20's part of a sensor's configuration (driver ds18b20):
// the YAML keys beside driver, device, interval and tags.
//
//	driver: ds18b20
//	device: water-temp-1
//	rom: 28-0000056d8a2f   # (optional) when there are several probes
type Config struct {
	// Bus is (optional) the 1-Wire bus name, or "sysfs" or a w1 sysfs
	// directory to read through the kernel's w1_therm. Empty means the first
	// 1-Wire bus, falling back to /sys/bus/w1/devices.
	Bus string `yaml:"bus,omitempty" json:"bus,omitempty"`
	// ROM is (optional) the 1-Wire ROM address, as in /sys/bus/w1/devices
	// ("28-0000056d8a2f") or 16 hex digits. Empty means the only DS18B20
	// found on the bus.
	ROM string `yaml:"rom,omitempty" json:"rom,omitempty"`
}

// Validate checks the ROM address; the error is a *devices.FieldError.
func (c *Config) Validate() error {
	if c.ROM != "" {
		if _, err := ParseROM(c.ROM); err != nil {
			return devices.FieldErrorf("rom", "%v", err)
		}
	}
	return nil
}

// Open uses the kernel's w1 sysfs files when Bus is "sysfs" or a directory
// path (e.g. /sys/bus/w1/devices), or when no 1-Wire bus is registered but
// SysfsDir exists; otherwise periph's netlink 1-Wire bus.
func (c *Config) Open(ctx context.Context, _ string, log *slog.Logger) (devices.Sensor, error) {
	if err := bus.InitHost(log); err != nil {
		return nil, err
	}
	var addr uint64
	if c.ROM != "" {
		a, err := ParseROM(c.ROM)
		if err != nil {
			return nil, err
		}
		addr = a
	}
	dir := ""
	switch {
	case c.Bus == "sysfs":
		dir = SysfsDir
	case strings.HasPrefix(c.Bus, "/"):
		dir = c.Bus
	case c.Bus == "" && len(onewirereg.All()) == 0:
		if _, err := os.Stat(SysfsDir); err == nil {
			dir = SysfsDir
		}
	}
	if dir != "" {
		rom := ""
		if addr != 0 {
			rom = fmt.Sprintf("%02x-%012x", addr&0xFF, (addr>>8)&0xFFFFFFFFFFFF)
		}
		d, err := NewSysfs(dir, rom)
		if err != nil {
			return nil, err
		}
		log.Info("sensor ready", "probe", d.String(), "via", dir)
		return d, nil
	}
	b, err := onewirereg.Open(c.Bus)
	if err != nil {
		log.Debug("onewirereg.Open", "err", err)
		var present []string
		for _, r := range onewirereg.All() {
			present = append(present, r.Name)
		}
		return nil, fmt.Errorf("no 1-Wire bus found: is 1-Wire enabled (raspi-config, or dtoverlay=w1-gpio)? (wanted bus %s, present: %s; %s absent): %w", bus.Name(c.Bus), bus.List(present), SysfsDir, devices.ErrNotFound)
	}
	d, err := New(ctx, onewire.Bus(b), addr, Options{})
	if err != nil {
		b.Close()
		return nil, err
	}
	log.Info("sensor ready", "probe", d.String())
	return bus.WithCloser(d, b), nil
}

// ParseROM parses a 1-Wire ROM address written as in /sys/bus/w1/devices
// ("28-0000056d8a2f": family, dash, 48-bit serial) or as 16 hex digits of the
// 64-bit address, most significant byte (the CRC) first.
// It returns the address with the family code in the low byte, as periph's
// onewire.Address.
func ParseROM(s string) (uint64, error) {
	var v uint64
	if fam, serial, ok := strings.Cut(s, "-"); ok {
		if len(fam) != 2 || len(serial) != 12 {
			return 0, fmt.Errorf("%q: want ff-ssssssssssss (family-serial, hex)", s)
		}
		f, err := parseHex(fam)
		if err != nil {
			return 0, fmt.Errorf("%q: %w", s, err)
		}
		sn, err := parseHex(serial)
		if err != nil {
			return 0, fmt.Errorf("%q: %w", s, err)
		}
		v = sn<<8 | f
		return v | uint64(crc8(v))<<56, nil
	}
	if len(s) != 16 {
		return 0, fmt.Errorf("%q: want ff-ssssssssssss or 16 hex digits", s)
	}
	v, err := parseHex(s)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	if crc8(v&0x00FFFFFFFFFFFFFF) != byte(v>>56) {
		return 0, fmt.Errorf("%q: ROM CRC mismatch", s)
	}
	return v, nil
}

func parseHex(s string) (uint64, error) {
	var v uint64
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, fmt.Errorf("%q is not a hex digit", c)
		}
	}
	return v, nil
}

// crc8 is the Dallas/Maxim 1-Wire CRC of the 7 low bytes of a ROM address,
// least significant byte first.
func crc8(v uint64) byte {
	var crc byte
	for i := 0; i < 7; i++ {
		b := byte(v >> (8 * i))
		for j := 0; j < 8; j++ {
			mix := (crc ^ b) & 1
			crc >>= 1
			if mix != 0 {
				crc ^= 0x8C
			}
			b >>= 1
		}
	}
	return crc
}
