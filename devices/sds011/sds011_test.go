package sds011

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

// The example frame of the SDS011 datasheet (V1.3): PM2.5 = 0x04D4/10 =
// 123.6, PM10 = 0x0A3A/10 = 261.8, id 0xA160, check-sum 0x1D.
var datasheetFrame = []byte{0xAA, 0xC0, 0xD4, 0x04, 0x3A, 0x0A, 0xA1, 0x60, 0x1D, 0xAB}

var datasheetWant = Frame{PM2_5x10: 1236, PM10x10: 2618, ID: 0xA160}

func frame(pm25, pm10 uint16) []byte {
	b := Frame{PM2_5x10: pm25, PM10x10: pm10, ID: 0x1234}.Encode()
	return b[:]
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestDatasheetFrame(t *testing.T) {
	if enc := datasheetWant.Encode(); !bytes.Equal(enc[:], datasheetFrame) {
		t.Fatalf("Encode % x\nwant   % x", enc, datasheetFrame)
	}
	if datasheetWant.PM2_5() != 123.6 || datasheetWant.PM10() != 261.8 {
		t.Fatal(datasheetWant.PM2_5(), datasheetWant.PM10())
	}
}

func TestReader(t *testing.T) {
	corrupt := bytes.Clone(datasheetFrame)
	corrupt[3] ^= 0x01
	// A reply to a "set working period" command: 0xAA 0xC5 …, not data.
	reply := []byte{0xAA, 0xC5, 0x08, 0x01, 0x01, 0x00, 0xA1, 0x60, 0x0B, 0xAB}
	f := func(name string, in []byte, want []Frame, errs []error, skipped int) {
		t.Helper()
		uarttest.CheckReader(t, NewReader, name, in, want, errs, skipped)
	}
	f1, f2 := frame(35, 120), frame(0, 9999)
	w1, w2 := Frame{PM2_5x10: 35, PM10x10: 120, ID: 0x1234}, Frame{PM2_5x10: 0, PM10x10: 9999, ID: 0x1234}
	f("datasheet frame", datasheetFrame, []Frame{datasheetWant}, nil, 0)
	f("two frames", cat(f1, f2), []Frame{w1, w2}, nil, 0)
	f("garbage before", cat([]byte{0x00, 0xAB, 0xC0, 0xAA}, f1), []Frame{w1}, nil, 4)
	f("partial frame at start", cat(f1[4:], f2), []Frame{w2}, nil, 6)
	f("command reply skipped", cat(reply, f1), []Frame{w1}, nil, 10)
	f("checksum error then good frame", cat(corrupt, f1), []Frame{w1}, []error{devices.ErrChecksum}, 10)
	f("truncated frame", f1[:7], nil, []error{io.ErrUnexpectedEOF}, 0)
	f("empty", nil, nil, nil, 0)
	f("frame inside a false start", cat([]byte{0xAA}, f1), []Frame{w1}, nil, 1)
}

func TestSensor(t *testing.T) {
	port := &uarttest.Port{Bursts: [][]byte{cat(datasheetFrame[3:], datasheetFrame, frame(1, 1)), cat([]byte{0x00}, frame(35, 120))}}
	s := New(port, Options{Name: "/dev/ttyUSB0", Now: (&uarttest.Clock{}).Now})
	for _, want := range [][2]float64{{123.6, 261.8}, {3.5, 12}} {
		ms, err := s.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 2 || ms[0].Quantity != "pm2_5" || ms[1].Quantity != "pm10" || ms[0].Unit != "ug/m3" || ms[0].Value != want[0] || ms[1].Value != want[1] {
			t.Errorf("read %v, want %v", ms, want)
		}
	}
	_, err := s.Read(context.Background())
	if !errors.Is(err, devices.ErrNotFound) || !strings.Contains(err.Error(), "sds011 on /dev/ttyUSB0: no frame in 3s") {
		t.Errorf("silent sensor: %v", err)
	}
	if err := s.Close(); err != nil || !port.Closed {
		t.Errorf("close: %v", err)
	}
}

func TestSensorErrors(t *testing.T) {
	corrupt := bytes.Clone(datasheetFrame)
	corrupt[8] = 0x1E
	errEIO := errors.New("read /dev/ttyUSB0: input/output error")
	for _, tc := range []struct {
		name   string
		stream []byte
		endErr error
		want   error
		msg    string
	}{
		{"checksum", corrupt, nil, devices.ErrChecksum, "check-sum 0x1e, computed 0x1d"},
		{"unplugged mid-frame", datasheetFrame[:6], io.EOF, io.ErrUnexpectedEOF, "unplugged"},
		{"unplugged", nil, io.EOF, io.EOF, "unplugged"},
		{"I/O error", []byte{0xAA}, errEIO, errEIO, "input/output error"},
		{"only garbage", bytes.Repeat([]byte{0xAA, 0xC0, 0x00}, 100), nil, devices.ErrNotFound, "no frame"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(&uarttest.Port{Bursts: [][]byte{tc.stream, datasheetFrame}, EndErr: tc.endErr}, Options{Now: (&uarttest.Clock{}).Now})
			ms, err := s.Read(context.Background())
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) || ms != nil {
				t.Fatalf("%v %v, want %v mentioning %q", ms, err, tc.want, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "sds011 on serial port: ") {
				t.Errorf("error does not name the sensor: %v", err)
			}
			// The error does not stick: the next read gets the next frame.
			if ms, err := s.Read(context.Background()); err != nil || ms[0].Value != 123.6 {
				t.Errorf("next read: %v %v", ms, err)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(&uarttest.Port{}, Options{}).Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

func FuzzReader(f *testing.F) {
	f.Add(datasheetFrame)
	f.Add(cat(frame(1, 2), []byte{0xAA, 0xC0}, frame(3, 4)))
	f.Add([]byte{0xAA, 0xAA, 0xC0, 0xAB})
	// Every frame returned is in the input, check code and all.
	encode := func(fr Frame) []byte { b := fr.Encode(); return b[:] }
	f.Fuzz(func(t *testing.T, in []byte) {
		uarttest.CheckStream(t, NewReader, encode, in)
	})
}

// BenchmarkReader parses a stream of frames with a little garbage between them.
func BenchmarkReader(b *testing.B) {
	stream := bytes.Repeat(cat(frame(35, 120), []byte{0x00, 0xAA}), 1000)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		if n := uarttest.CountFrames(NewReader, stream); n != 1000 {
			b.Fatalf("%d frames", n)
		}
	}
}
