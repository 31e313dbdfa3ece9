package pms5003

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/internal/uart/uarttest"
)

// A frame written byte by byte as the data manual lays it out (not through
// Encode): PM1.0/2.5/10 CF=1 of 5/8/9, atmospheric 5/8/9, counts
// 945/285/62/6/2/2, reserved 0x9700; check code 0x0288.
var manualFrame = []byte{
	0x42, 0x4d, 0x00, 0x1c,
	0x00, 0x05, 0x00, 0x08, 0x00, 0x09,
	0x00, 0x05, 0x00, 0x08, 0x00, 0x09,
	0x03, 0xb1, 0x01, 0x1d, 0x00, 0x3e, 0x00, 0x06, 0x00, 0x02, 0x00, 0x02,
	0x97, 0x00,
	0x02, 0x88,
}

var manualWant = Frame{PM1_0CF1: 5, PM2_5CF1: 8, PM10CF1: 9, PM1_0: 5, PM2_5: 8, PM10: 9,
	Counts: [6]uint16{945, 285, 62, 6, 2, 2}, Reserved: 0x9700}

func frame(pm1, pm25, pm10 uint16) []byte {
	b := Frame{PM1_0CF1: pm1, PM2_5CF1: pm25, PM10CF1: pm10, PM1_0: pm1, PM2_5: pm25, PM10: pm10}.Encode()
	return b[:]
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestManualFrame(t *testing.T) {
	// The check code is the plain 16-bit sum of the 30 bytes before it.
	var sum uint16
	for _, c := range manualFrame[:30] {
		sum += uint16(c)
	}
	if sum != 0x0288 {
		t.Fatalf("test frame sum %#04x", sum)
	}
	if enc := manualWant.Encode(); !bytes.Equal(enc[:], manualFrame) {
		t.Fatalf("Encode % x\nwant   % x", enc, manualFrame)
	}
}

// TestReader lists byte streams and the frames and errors they must give,
// reading each twice through fresh readers to catch leaked state.
func TestReader(t *testing.T) {
	corrupt := bytes.Clone(manualFrame)
	corrupt[7] ^= 0x10
	f := func(name string, in []byte, want []Frame, errs []error, skipped int) {
		t.Helper()
		uarttest.CheckReader(t, NewReader, name, in, want, errs, skipped)
	}
	f1, f2 := frame(3, 12, 20), frame(4, 13, 21)
	dec := func(b []byte) Frame { fr, _ := NewReader(bytes.NewReader(b)).Next(); return fr }
	f("one frame", manualFrame, []Frame{manualWant}, nil, 0)
	f("two frames", cat(f1, f2), []Frame{dec(f1), dec(f2)}, nil, 0)
	f("garbage before", cat([]byte{0x00, 0xff, 0x4d, 0x42, 0x00}, manualFrame), []Frame{manualWant}, nil, 5)
	f("partial frame at start", cat(f1[13:], f2), []Frame{dec(f2)}, nil, 19)
	f("false start 0x42 0x4d with wrong length", cat([]byte{0x42, 0x4d, 0x00, 0x14}, f1), []Frame{dec(f1)}, nil, 4)
	f("checksum error then good frame", cat(corrupt, f1), []Frame{dec(f1)}, []error{devices.ErrChecksum}, 32)
	f("truncated frame", f1[:20], nil, []error{io.ErrUnexpectedEOF}, 0)
	f("empty", nil, nil, nil, 0)
	// A frame hidden right after a false start that swallowed its header.
	f("frame inside a false start", cat([]byte{0x42}, f1), []Frame{dec(f1)}, nil, 1)
}

func TestSensor(t *testing.T) {
	port := &uarttest.Port{Bursts: [][]byte{
		cat(manualFrame[20:], frame(3, 12, 20), frame(9, 9, 9)), // a partial frame first
		cat([]byte{0x00, 0x11}, frame(4, 250, 380)),
	}}
	clk := &uarttest.Clock{}
	s := New(port, Options{Name: "/dev/ttyAMA0", Now: clk.Now})
	ctx := context.Background()
	for _, want := range [][3]float64{{3, 12, 20}, {4, 250, 380}} {
		ms, err := s.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := [3]float64{ms[0].Value, ms[1].Value, ms[2].Value}
		if got != want || ms[0].Quantity != "pm1_0" || ms[1].Quantity != "pm2_5" || ms[2].Quantity != "pm10" || ms[1].Unit != "ug/m3" {
			t.Errorf("read %v, want %v", ms, want)
		}
	}
	if port.Resets != 2 {
		t.Errorf("%d input resets, want one per read", port.Resets)
	}
	// Nothing more arrives: the read times out and says what to check.
	_, err := s.Read(ctx)
	if !errors.Is(err, devices.ErrNotFound) || !strings.Contains(err.Error(), "pms5003 on /dev/ttyAMA0: no frame in 3s") {
		t.Errorf("silent sensor: %v", err)
	}
	if err := s.Close(); err != nil || !port.Closed {
		t.Errorf("close: %v", err)
	}
}

func TestSensorErrors(t *testing.T) {
	corrupt := bytes.Clone(manualFrame)
	corrupt[10] ^= 0x01
	errEIO := errors.New("read /dev/ttyUSB0: input/output error")
	for _, tc := range []struct {
		name   string
		stream []byte
		endErr error
		want   error
		msg    string
	}{
		{"checksum", cat(corrupt, manualFrame), nil, devices.ErrChecksum, "check code"},
		{"unplugged mid-frame", manualFrame[:20], io.EOF, io.ErrUnexpectedEOF, "unplugged"},
		{"unplugged", nil, io.EOF, io.EOF, "unplugged"},
		{"I/O error", []byte{0x42, 0x4d}, errEIO, errEIO, "input/output error"},
		{"only garbage", bytes.Repeat([]byte{0x42, 0x00}, 100), nil, devices.ErrNotFound, "no frame"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(&uarttest.Port{Bursts: [][]byte{tc.stream}, EndErr: tc.endErr}, Options{Now: (&uarttest.Clock{}).Now})
			ms, err := s.Read(context.Background())
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) || ms != nil {
				t.Fatalf("%v %v, want %v mentioning %q", ms, err, tc.want, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "pms5003 on serial port: ") {
				t.Errorf("error does not name the sensor: %v", err)
			}
		})
	}
	// A checksum error does not stick: the next read gets the next frame.
	corrupt2 := bytes.Clone(manualFrame)
	corrupt2[10] ^= 0x01
	s := New(&uarttest.Port{Bursts: [][]byte{corrupt2, manualFrame}}, Options{Now: (&uarttest.Clock{}).Now})
	if _, err := s.Read(context.Background()); !errors.Is(err, devices.ErrChecksum) {
		t.Fatal(err)
	}
	if ms, err := s.Read(context.Background()); err != nil || ms[1].Value != 8 {
		t.Fatalf("after checksum error: %v %v", ms, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(&uarttest.Port{}, Options{}).Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

func FuzzReader(f *testing.F) {
	f.Add(manualFrame)
	f.Add(cat(frame(1, 2, 3), []byte{0x42, 0x4d}, frame(4, 5, 6)))
	f.Add(cat([]byte{0x42, 0x4d, 0x00, 0x1c}, manualFrame[4:31]))
	f.Add([]byte{0x42, 0x42, 0x4d, 0x4d})
	// Every frame returned is in the input, check code and all.
	encode := func(fr Frame) []byte { b := fr.Encode(); return b[:] }
	f.Fuzz(func(t *testing.T, in []byte) {
		uarttest.CheckStream(t, NewReader, encode, in)
	})
}

// BenchmarkReader parses a stream of frames with a little garbage between them.
func BenchmarkReader(b *testing.B) {
	stream := bytes.Repeat(cat(frame(3, 12, 20), []byte{0x00, 0x42}), 1000)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		if n := uarttest.CountFrames(NewReader, stream); n != 1000 {
			b.Fatalf("%d frames", n)
		}
	}
}
