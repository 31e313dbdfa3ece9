package ds18b20

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/onewire"
	"periph.io/x/conn/v3/onewire/onewiretest"

	"github.com/cd06/smartdeal/devices"
)

// The probe of periph's ds18b20 recording (ds18b20_test.go TestSense).
const addr = 0x740000070e41ac28

var periphSpad30C = []byte{0xe0, 0x1, 0x0, 0x0, 0x3f, 0xff, 0x10, 0x10, 0x3f} // 30 °C, 10 bits

func match(a uint64, cmd ...byte) []byte {
	w := make([]byte, 9, 9+len(cmd))
	w[0] = 0x55
	binary.LittleEndian.PutUint64(w[1:], a)
	return append(w, cmd...)
}

func readSpad(spad []byte) onewiretest.IO {
	return onewiretest.IO{W: match(addr, 0xBE), R: spad}
}

var convert = onewiretest.IO{W: match(addr, 0x44), Pull: onewire.StrongPullup}

// spad builds a valid scratchpad for a raw temperature at 12 bits.
func spad(raw int16) []byte {
	b := []byte{byte(raw), byte(uint16(raw) >> 8), 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0}
	b[8] = onewire.CalcCRC(b[:8])
	return b
}

type sleeps []time.Duration

func (s *sleeps) sleep(_ context.Context, d time.Duration) error { *s = append(*s, d); return nil }

func TestPeriphRecording(t *testing.T) {
	bus := &onewiretest.Playback{Ops: []onewiretest.IO{readSpad(periphSpad30C), convert, readSpad(periphSpad30C)}}
	var sl sleeps
	d, err := New(context.Background(), bus, addr, Options{Resolution: 10, Sleep: sl.sleep})
	if err != nil {
		t.Fatal(err)
	}
	if d.String() != "ds18b20 28-0000070e41ac" {
		t.Errorf("name %s", d)
	}
	ms, err := d.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0] != (devices.Measurement{Quantity: "temperature", Unit: "Cel", Value: 30}) {
		t.Errorf("read %v", ms)
	}
	if len(sl) != 1 || sl[0] != 188*time.Millisecond {
		t.Errorf("waited %v, want 188ms for 10 bits", sl)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSetsResolutionAndDecodes(t *testing.T) {
	// The probe is at 10 bits; asking for 12 writes the configuration,
	// keeping TH/TL, and copies it to EEPROM under strong pull-up.
	ops := []onewiretest.IO{
		readSpad(periphSpad30C),
		{W: match(addr, 0x4E, 0x00, 0x00, 0x7F)},
		{W: match(addr, 0x48), Pull: onewire.StrongPullup},
	}
	cases := []struct {
		raw  int16
		want float64
	}{{0x07D0, 125}, {0x0191, 25.0625}, {0x00A2, 10.125}, {0x0008, 0.5}, {0, 0}, {-8, -0.5}, {-162, -10.125}, {-401, -25.0625}, {-880, -55}}
	for _, c := range cases {
		ops = append(ops, convert, readSpad(spad(c.raw)))
	}
	bus := &onewiretest.Playback{Ops: ops}
	var sl sleeps
	d, err := New(context.Background(), bus, addr, Options{Sleep: sl.sleep})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		ms, err := d.Read(context.Background())
		if err != nil || len(ms) != 1 || ms[0].Value != c.want {
			t.Errorf("raw %#04x: %v %v, want %v", uint16(c.raw), ms, err, c.want)
		}
	}
	if sl[0] != 10*time.Millisecond || sl[1] != 752*time.Millisecond {
		t.Errorf("sleeps %v", sl[:2])
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

// withCRC sets the ROM CRC (top byte) of a 1-Wire address.
func withCRC(a uint64) uint64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], a)
	return a&0x00FFFFFFFFFFFFFF | uint64(onewire.CalcCRC(b[:7]))<<56
}

func TestSearch(t *testing.T) {
	other := withCRC(0x0000000012345a10) // a DS18S20 (family 0x10): ignored
	search := onewiretest.IO{W: []byte{0xF0}}
	bus := &onewiretest.Playback{
		Devices: []onewire.Address{onewire.Address(other), addr},
		Ops:     []onewiretest.IO{search, search, readSpad(spad(0x0191))},
	}
	d, err := New(context.Background(), bus, 0, Options{Sleep: (&sleeps{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	if uint64(d.d.Addr) != addr {
		t.Errorf("found %#x", uint64(d.d.Addr))
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	two := &onewiretest.Playback{Devices: []onewire.Address{addr, onewire.Address(withCRC(addr + 0x100))}, Ops: []onewiretest.IO{search, search}}
	if _, err := New(context.Background(), two, 0, Options{}); !errors.Is(err, devices.ErrNotFound) || !strings.Contains(err.Error(), "2 probes") {
		t.Errorf("two probes: %v", err)
	}
	none := &onewiretest.Playback{Ops: []onewiretest.IO{search}}
	if _, err := New(context.Background(), none, 0, Options{}); !errors.Is(err, devices.ErrNotFound) {
		t.Errorf("no probe: %v", err)
	}
	if _, err := New(context.Background(), none, other, Options{}); err == nil || !strings.Contains(err.Error(), "not a DS18B20") {
		t.Errorf("DS18S20 address: %v", err)
	}
}

// errPresence is what a 1-Wire master reports when no device answers the reset.
var errPresence = errors.New("onewire: no device present")

// failBus fails every Tx after the first n with err.
type failBus struct {
	onewiretest.Playback
	n   int
	err error
}

func (b *failBus) Tx(w, r []byte, p onewire.Pullup) error {
	if b.n == 0 {
		return b.err
	}
	b.n--
	return b.Playback.Tx(w, r, p)
}

func TestSensorErrors(t *testing.T) {
	corrupt := spad(0x0191)
	corrupt[0] ^= 0x04 // one flipped bit on the wire
	ff := []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
	zero := make([]byte, 9)
	notDS := spad(0x0191)
	notDS[4] = 0x00
	notDS[8] = onewire.CalcCRC(notDS[:8])
	for _, tc := range []struct {
		name  string
		spad  []byte
		want  error
		msg   string
		atNew bool
	}{
		{name: "CRC error", spad: corrupt, want: devices.ErrChecksum, msg: "CRC"},
		{name: "power-on 85 °C", spad: spad(powerOnRaw), want: devices.ErrNoData, msg: "85 °C"},
		{name: "disconnected (all ones)", spad: ff, want: devices.ErrNotFound, msg: "disconnected"},
		{name: "bus shorted (all zeros)", spad: zero, want: devices.ErrNotFound, msg: "shorted"},
		{name: "not a DS18B20 scratchpad", spad: notDS, want: devices.ErrNotFound, msg: "configuration byte"},
		{name: "out of range", spad: spad(0x7FF0), want: devices.ErrNoData, msg: "outside"},
		{name: "disconnected at open", spad: ff, want: devices.ErrNotFound, msg: "disconnected", atNew: true},
		{name: "CRC error at open", spad: corrupt, want: devices.ErrChecksum, msg: "CRC", atNew: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.atNew {
				bus := &onewiretest.Playback{Ops: []onewiretest.IO{readSpad(tc.spad)}}
				_, err := New(context.Background(), bus, addr, Options{})
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("New: %v, want %v mentioning %q", err, tc.want, tc.msg)
				}
				return
			}
			// A bad read, then a good one: the error does not stick.
			bus := &onewiretest.Playback{Ops: []onewiretest.IO{readSpad(spad(0x0191)), convert, readSpad(tc.spad), convert, readSpad(spad(0x0191))}}
			d, err := New(context.Background(), bus, addr, Options{Sleep: (&sleeps{}).sleep})
			if err != nil {
				t.Fatal(err)
			}
			ms, err := d.Read(context.Background())
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) || ms != nil {
				t.Fatalf("Read: %v %v, want %v mentioning %q", ms, err, tc.want, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "ds18b20 28-0000070e41ac: ") {
				t.Errorf("error does not name the probe: %v", err)
			}
			if ms, err := d.Read(context.Background()); err != nil || ms[0].Value != 25.0625 {
				t.Fatalf("next read: %v %v", ms, err)
			}
			if err := bus.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBusErrors(t *testing.T) {
	for n, msg := range []string{"read scratchpad", "start conversion", "read scratchpad"} {
		bus := &failBus{Playback: onewiretest.Playback{Ops: []onewiretest.IO{readSpad(spad(0x0191)), convert}}, n: n, err: errPresence}
		d, err := New(context.Background(), bus, addr, Options{Sleep: (&sleeps{}).sleep})
		if n == 0 {
			if !errors.Is(err, errPresence) || !strings.Contains(err.Error(), msg) {
				t.Errorf("New: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Read(context.Background()); !errors.Is(err, errPresence) || !strings.Contains(err.Error(), msg) {
			t.Errorf("fail after %d: %v, want %q", n, err, msg)
		}
	}
}

func TestReadCanceled(t *testing.T) {
	bus := &onewiretest.Playback{Ops: []onewiretest.IO{readSpad(spad(0x0191)), convert}}
	d, err := New(context.Background(), bus, addr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), bus, addr, Options{Resolution: 8}); err == nil {
		t.Error("8-bit resolution accepted")
	}
}
