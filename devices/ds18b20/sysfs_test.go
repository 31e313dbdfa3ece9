package ds18b20

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/devices"
)

// w1slave writes what the kernel's w1_therm prints for a scratchpad.
func w1slave(t *testing.T, dir, rom string, spad []byte) {
	t.Helper()
	var hex []string
	for _, b := range spad {
		hex = append(hex, fmt.Sprintf("%02x", b))
	}
	crcOK := "YES"
	line := strings.Join(hex, " ")
	raw := int16(spad[1])<<8 | int16(spad[0])
	content := fmt.Sprintf("%s : crc=%02x %s\n%s t=%d\n", line, spad[8], crcOK, line, int(raw)*1000/16)
	if err := os.MkdirAll(filepath.Join(dir, rom), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, rom, "w1_slave"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSysfs(t *testing.T) {
	dir := t.TempDir()
	// A real w1_slave of a probe at 23.125 °C.
	if err := os.MkdirAll(filepath.Join(dir, "28-0000056d8a2f"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "28-0000056d8a2f", "w1_slave"),
		[]byte("72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "w1_bus_master1"), 0o755)
	d, err := NewSysfs(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := d.Read(context.Background())
	if err != nil || len(ms) != 1 || ms[0] != (devices.Measurement{Quantity: "temperature", Unit: "Cel", Value: 23.125}) {
		t.Fatalf("read %v %v", ms, err)
	}

	corrupt := spad(0x0191)
	corrupt[0] ^= 1
	for _, tc := range []struct {
		name string
		spad []byte
		want error
	}{
		{"85 °C", spad(powerOnRaw), devices.ErrNoData},
		{"CRC", corrupt, devices.ErrChecksum},
		{"all ones", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, devices.ErrNotFound},
		{"all zeros", make([]byte, 9), devices.ErrNotFound},
	} {
		w1slave(t, dir, "28-0000056d8a2f", tc.spad)
		if ms, err := d.Read(context.Background()); !errors.Is(err, tc.want) || ms != nil {
			t.Errorf("%s: %v %v, want %v", tc.name, ms, err, tc.want)
		}
	}
	os.WriteFile(filepath.Join(dir, "28-0000056d8a2f", "w1_slave"), []byte("garbage\n"), 0o644)
	if _, err := d.Read(context.Background()); !errors.Is(err, devices.ErrNoData) {
		t.Errorf("garbage: %v", err)
	}
	// Unplugged: the kernel removes the directory.
	os.RemoveAll(filepath.Join(dir, "28-0000056d8a2f"))
	if _, err := d.Read(context.Background()); !errors.Is(err, devices.ErrNotFound) || !strings.Contains(err.Error(), "disconnected") {
		t.Errorf("unplugged: %v", err)
	}
	if _, err := NewSysfs(dir, ""); !errors.Is(err, devices.ErrNotFound) {
		t.Errorf("no probe: %v", err)
	}
	if _, err := NewSysfs(dir, "28-000000000001"); !errors.Is(err, devices.ErrNotFound) {
		t.Errorf("unknown rom: %v", err)
	}
	w1slave(t, dir, "28-000000000001", spad(0x0191))
	w1slave(t, dir, "28-000000000002", spad(0x0191))
	if _, err := NewSysfs(dir, ""); !errors.Is(err, devices.ErrNotFound) || !strings.Contains(err.Error(), "2 probes") {
		t.Errorf("two probes: %v", err)
	}
	d, err = NewSysfs(dir, "28-000000000002")
	if err != nil {
		t.Fatal(err)
	}
	if ms, err := d.Read(context.Background()); err != nil || ms[0].Value != 25.0625 {
		t.Errorf("named probe: %v %v", ms, err)
	}
}
