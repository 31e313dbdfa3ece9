package sds011

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/internal/uart"
)

// Frame layout (Nova Fitness SDS011 datasheet V1.3, "UART communication
// protocol"): 0xAA 0xC0, PM2.5 low/high, PM10 low/high (both ×10, µg/m³),
// device id (2 bytes), check-sum (low byte of the sum of the six data
// bytes), 0xAB.
const (
	FrameLen = 10
	head     = 0xAA
	cmdData  = 0xC0
	tail     = 0xAB
)

// Frame is one decoded SDS011 data frame.
type Frame struct {
	PM2_5x10, PM10x10 uint16 // concentration ×10 in µg/m³
	ID                uint16 // device id
}

// PM2_5 returns the PM2.5 concentration in µg/m³.
func (f Frame) PM2_5() float64 { return float64(f.PM2_5x10) / 10 }

// PM10 returns the PM10 concentration in µg/m³.
func (f Frame) PM10() float64 { return float64(f.PM10x10) / 10 }

// Encode returns the frame's 10 bytes.
func (f Frame) Encode() [FrameLen]byte {
	var b [FrameLen]byte
	b[0], b[1] = head, cmdData
	le := binary.LittleEndian
	le.PutUint16(b[2:], f.PM2_5x10)
	le.PutUint16(b[4:], f.PM10x10)
	binary.BigEndian.PutUint16(b[6:], f.ID)
	b[8] = checksum(b[2:8])
	b[9] = tail
	return b
}

func checksum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}

// ChecksumError is returned for a frame whose check-sum does not match.
type ChecksumError struct {
	Got, Want byte
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("sds011 frame check-sum %#02x, computed %#02x", e.Got, e.Want)
}

// Is makes errors.Is(err, devices.ErrChecksum) true.
func (e *ChecksumError) Is(target error) bool { return target == devices.ErrChecksum }

// Reader finds data frames in a byte stream, skipping whatever is not one
// (partial frames, noise, replies to commands: 0xAA 0xC5 …). A frame with a
// bad check-sum returns a *ChecksumError.
type Reader = uart.Reader[Frame]

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader { return uart.NewReader(r, format) }

var format = uart.Format[Frame]{Start: head, Len: FrameLen, Parse: parse}

// parse decodes the 10 bytes of b.
func parse(b []byte) (Frame, bool, error) {
	if b[1] != cmdData || b[9] != tail {
		return Frame{}, false, nil
	}
	if want := checksum(b[2:8]); b[8] != want {
		return Frame{}, true, &ChecksumError{Got: b[8], Want: want}
	}
	le := binary.LittleEndian
	return Frame{PM2_5x10: le.Uint16(b[2:]), PM10x10: le.Uint16(b[4:]), ID: binary.BigEndian.Uint16(b[6:])}, true, nil
}
