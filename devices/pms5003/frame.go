package pms5003

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/internal/uart"
)

// Frame layout (Plantower PMS5003 data manual, "transport protocol active
// mode"): 0x42 0x4D, frame length (2×13+2 = 28), thirteen big-endian words,
// and a check code: the 16-bit sum of every byte before it.
const (
	FrameLen = 32
	start1   = 0x42
	start2   = 0x4D
	bodyLen  = 28
)

// Frame is one decoded PMS5003 data frame. Concentrations are in µg/m³,
// counts in particles per 0.1 L of air.
type Frame struct {
	// Standard particle (CF=1), for calibration in a factory environment.
	PM1_0CF1, PM2_5CF1, PM10CF1 uint16
	// Atmospheric environment: what the gateway reports.
	PM1_0, PM2_5, PM10 uint16
	// Particles beyond 0.3, 0.5, 1.0, 2.5, 5.0 and 10 µm.
	Counts [6]uint16
	// Reserved word (version and error code on some firmware).
	Reserved uint16
}

// Encode returns the frame's 32 bytes, check code included.
func (f Frame) Encode() [FrameLen]byte {
	var b [FrameLen]byte
	b[0], b[1] = start1, start2
	be := binary.BigEndian
	be.PutUint16(b[2:], bodyLen)
	words := []uint16{f.PM1_0CF1, f.PM2_5CF1, f.PM10CF1, f.PM1_0, f.PM2_5, f.PM10,
		f.Counts[0], f.Counts[1], f.Counts[2], f.Counts[3], f.Counts[4], f.Counts[5], f.Reserved}
	for i, w := range words {
		be.PutUint16(b[4+2*i:], w)
	}
	be.PutUint16(b[30:], checksum(b[:30]))
	return b
}

func checksum(b []byte) uint16 {
	var s uint16
	for _, c := range b {
		s += uint16(c)
	}
	return s
}

// ChecksumError is returned for a frame whose check code does not match.
type ChecksumError struct {
	Got, Want uint16
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("pms5003 frame check code %#04x, computed %#04x", e.Got, e.Want)
}

// Is makes errors.Is(err, devices.ErrChecksum) true.
func (e *ChecksumError) Is(target error) bool { return target == devices.ErrChecksum }

// Reader finds frames in a byte stream, skipping whatever is not a frame
// (a partial frame at start-up, line noise, other sensors' bytes on a shared
// adapter). A frame with a bad check code returns a *ChecksumError.
type Reader = uart.Reader[Frame]

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader { return uart.NewReader(r, format) }

var format = uart.Format[Frame]{Start: start1, Len: FrameLen, Parse: parse}

// parse decodes the 32 bytes of b.
func parse(b []byte) (Frame, bool, error) {
	be := binary.BigEndian
	if b[1] != start2 || be.Uint16(b[2:]) != bodyLen {
		return Frame{}, false, nil
	}
	if got, want := be.Uint16(b[FrameLen-2:]), checksum(b[:FrameLen-2]); got != want {
		return Frame{}, true, &ChecksumError{Got: got, Want: want}
	}
	var f Frame
	w := func(i int) uint16 { return be.Uint16(b[4+2*i:]) }
	f.PM1_0CF1, f.PM2_5CF1, f.PM10CF1 = w(0), w(1), w(2)
	f.PM1_0, f.PM2_5, f.PM10 = w(3), w(4), w(5)
	for i := range f.Counts {
		f.Counts[i] = w(6 + i)
	}
	f.Reserved = w(12)
	return f, true, nil
}
