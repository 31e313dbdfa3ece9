package ds18b20

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/cd06/smartdeal/devices"
)

// SysfsDir is where the Linux w1 subsystem lists 1-Wire devices.
const SysfsDir = "/sys/bus/w1/devices"

// SysfsDev reads a DS18B20 through the kernel's w1_therm driver
// (/sys/bus/w1/devices/28-…/w1_slave): the kernel runs the conversion, the
// gateway needs no privilege. Reading w1_slave blocks for the conversion
// (750 ms at 12 bits). The scratchpad bytes the kernel prints are checked
// exactly as on the netlink path (CRC, 85 °C, open or shorted bus).
type SysfsDev struct {
	path string // …/28-xxxxxxxxxxxx/w1_slave
	name string
	mu   sync.Mutex
}

var _ devices.Sensor = (*SysfsDev)(nil)

// NewSysfs opens the probe named rom ("28-0000056d8a2f") under dir (SysfsDir
// when empty), or the only DS18B20 there when rom is empty.
func NewSysfs(dir, rom string) (*SysfsDev, error) {
	if dir == "" {
		dir = SysfsDir
	}
	if rom == "" {
		found, err := filepath.Glob(filepath.Join(dir, "28-*"))
		if err != nil {
			return nil, fmt.Errorf("ds18b20: %w", err)
		}
		if len(found) != 1 {
			return nil, fmt.Errorf("ds18b20: %d probes under %s: set rom to choose one (is dtoverlay=w1-gpio enabled?): %w", len(found), dir, devices.ErrNotFound)
		}
		rom = filepath.Base(found[0])
	}
	d := &SysfsDev{path: filepath.Join(dir, rom, "w1_slave"), name: "ds18b20 " + rom}
	if _, err := os.Stat(d.path); err != nil {
		return nil, fmt.Errorf("%s: %w (%w)", d, err, devices.ErrNotFound)
	}
	return d, nil
}

func (d *SysfsDev) String() string { return d.name }

// Read returns the temperature in Cel.
func (d *SysfsDev) Read(ctx context.Context) ([]devices.Measurement, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", d, err)
	}
	b, err := os.ReadFile(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: gone from %s: probe disconnected? %w", d, filepath.Dir(filepath.Dir(d.path)), devices.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d, err)
	}
	spad, err := parseW1Slave(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d, err)
	}
	if err := checkScratchpad(d, spad); err != nil {
		return nil, err
	}
	return temperature(d, spad)
}

// parseW1Slave reads the nine scratchpad bytes of w1_slave's first line:
// "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES".
func parseW1Slave(s string) ([9]byte, error) {
	var spad [9]byte
	line, _, _ := strings.Cut(s, "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 {
		return spad, fmt.Errorf("w1_slave %q: want 9 scratchpad bytes: %w", line, devices.ErrNoData)
	}
	for i := range spad {
		v, err := strconv.ParseUint(fields[i], 16, 8)
		if err != nil {
			return spad, fmt.Errorf("w1_slave %q: byte %d: %w", line, i, devices.ErrNoData)
		}
		spad[i] = byte(v)
	}
	return spad, nil
}

// Close releases nothing.
func (d *SysfsDev) Close() error { return nil }
