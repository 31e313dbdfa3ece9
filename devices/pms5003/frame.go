package pms5003

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cd06/smartdeal/devices"
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
// adapter).
type Reader struct {
	br *bufio.Reader
	// Skipped counts the bytes discarded while looking for a frame.
	Skipped int
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader { return &Reader{br: bufio.NewReaderSize(r, 64)} }

// Reset discards buffered bytes and reads from r from now on.
func (r *Reader) Reset(rd io.Reader) { r.br.Reset(rd) }

// Next returns the next frame. A frame with a bad check code returns a
// *ChecksumError; the search then goes on from the byte after its start, so
// a real frame hidden behind a false start is still found. Errors of the
// underlying reader are returned as they are (io.EOF only between frames;
// io.ErrUnexpectedEOF inside one).
func (r *Reader) Next() (Frame, error) {
	for {
		c, err := r.br.ReadByte()
		if err != nil {
			return Frame{}, err
		}
		if c != start1 {
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
		be := binary.BigEndian
		if b[0] != start2 || be.Uint16(b[1:]) != bodyLen {
			r.Skipped++
			continue
		}
		want := checksum(b[:FrameLen-3]) + start1
		if got := be.Uint16(b[FrameLen-3:]); got != want {
			r.Skipped++
			return Frame{}, &ChecksumError{Got: got, Want: want}
		}
		var f Frame
		w := func(i int) uint16 { return be.Uint16(b[3+2*i:]) }
		f.PM1_0CF1, f.PM2_5CF1, f.PM10CF1 = w(0), w(1), w(2)
		f.PM1_0, f.PM2_5, f.PM10 = w(3), w(4), w(5)
		for i := range f.Counts {
			f.Counts[i] = w(6 + i)
		}
		f.Reserved = w(12)
		if _, err := r.br.Discard(FrameLen - 1); err != nil {
			return Frame{}, err
		}
		return f, nil
	}
}
