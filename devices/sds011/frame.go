package sds011

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cd06/smartdeal/devices"
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
// (partial frames, noise, replies to commands: 0xAA 0xC5 …).
type Reader struct {
	br *bufio.Reader
	// Skipped counts the bytes discarded while looking for a frame.
	Skipped int
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader { return &Reader{br: bufio.NewReaderSize(r, 32)} }

// Reset discards buffered bytes and reads from r from now on.
func (r *Reader) Reset(rd io.Reader) { r.br.Reset(rd) }

// Next returns the next data frame. A frame with a bad check-sum returns a
// *ChecksumError and the search goes on from the byte after its start.
// Errors of the underlying reader are returned as they are (io.EOF only
// between frames; io.ErrUnexpectedEOF inside one).
func (r *Reader) Next() (Frame, error) {
	for {
		c, err := r.br.ReadByte()
		if err != nil {
			return Frame{}, err
		}
		if c != head {
			r.Skipped++
			continue
		}
		b, err := r.br.Peek(FrameLen - 1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return Frame{}, err
		}
		if b[0] != cmdData || b[8] != tail {
			r.Skipped++
			continue
		}
		if want := checksum(b[1:7]); b[7] != want {
			r.Skipped++
			return Frame{}, &ChecksumError{Got: b[7], Want: want}
		}
		le := binary.LittleEndian
		f := Frame{PM2_5x10: le.Uint16(b[1:]), PM10x10: le.Uint16(b[3:]), ID: binary.BigEndian.Uint16(b[5:])}
		if _, err := r.br.Discard(FrameLen - 1); err != nil {
			return Frame{}, err
		}
		return f, nil
	}
}
