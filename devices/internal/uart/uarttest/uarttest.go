// Package uarttest holds what the serial sensor drivers' tests share: a
// port modelled in time, a stepping clock and a frame-reader table check.
package uarttest

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/internal/uart"
)

// Port models a serial port in time: each ResetInputBuffer (one per
// sensor read) moves to the next burst of bytes, the ones that arrive after
// it; bytes of the previous burst that were not read are discarded, as the
// OS buffer is. After the last burst it either times out (0, nil forever,
// as a silent sensor) or returns EndErr (as an unplugged adapter).
type Port struct {
	Bursts [][]byte
	EndErr error
	// Resets counts the ResetInputBuffer calls; Closed says Close was called.
	Resets int
	Closed bool
	r      *bytes.Reader
}

var _ uart.Port = (*Port)(nil)

func (p *Port) Read(b []byte) (int, error) {
	if p.r != nil {
		if n, _ := p.r.Read(b); n > 0 {
			return n, nil
		}
	}
	return 0, p.EndErr
}

// ResetInputBuffer moves to the next burst.
func (p *Port) ResetInputBuffer() error {
	p.r = nil
	if p.Resets < len(p.Bursts) {
		p.r = bytes.NewReader(p.Bursts[p.Resets])
	}
	p.Resets++
	return nil
}

// Close records the call.
func (p *Port) Close() error { p.Closed = true; return nil }

// Clock advances 100 ms per call to Now, like a port's read timeout.
type Clock struct{ t time.Time }

// Now returns the next instant.
func (c *Clock) Now() time.Time { c.t = c.t.Add(100 * time.Millisecond); return c.t }

// CheckReader reads in to its end twice, through fresh readers from
// newReader to catch leaked state, and checks the frames, the errors (by
// errors.Is) and the count of skipped bytes. name names the case.
func CheckReader[F comparable](t testing.TB, newReader func(io.Reader) *uart.Reader[F], name string, in []byte, want []F, errs []error, skipped int) {
	t.Helper()
	for pass := 0; pass < 2; pass++ {
		r := newReader(bytes.NewReader(in))
		var got []F
		var gotErrs []error
		for {
			fr, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				gotErrs = append(gotErrs, err)
				if errors.Is(err, io.ErrUnexpectedEOF) {
					break
				}
				continue
			}
			got = append(got, fr)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: got %d frames %v, want %d", name, len(got), got, len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: frame %d = %+v, want %+v", name, i, got[i], want[i])
			}
		}
		if len(gotErrs) != len(errs) {
			t.Fatalf("%s: errors %v, want %v", name, gotErrs, errs)
		}
		for i := range errs {
			if !errors.Is(gotErrs[i], errs[i]) {
				t.Errorf("%s: error %d = %v, want %v", name, i, gotErrs[i], errs[i])
			}
		}
		if r.Skipped != skipped {
			t.Errorf("%s: skipped %d bytes, want %d", name, r.Skipped, skipped)
		}
	}
}

// CheckStream is the body of a reader fuzz target: it reads in to its end
// through newReader and fails on an error other than io.EOF,
// io.ErrUnexpectedEOF or devices.ErrChecksum, on a frame whose encoding
// (check code and all) is not in in, and when Next makes no progress.
func CheckStream[F any](t testing.TB, newReader func(io.Reader) *uart.Reader[F], encode func(F) []byte, in []byte) {
	t.Helper()
	r := newReader(bytes.NewReader(in))
	for i := 0; i <= len(in); i++ {
		fr, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return
			}
			if !errors.Is(err, devices.ErrChecksum) {
				t.Fatalf("unexpected error %v", err)
			}
			continue
		}
		if !bytes.Contains(in, encode(fr)) {
			t.Fatalf("frame %+v not in input", fr)
		}
	}
	t.Fatal("Next did not make progress")
}

// CountFrames reads stream to its first error through newReader and returns
// how many frames it held, for benchmarks.
func CountFrames[F any](newReader func(io.Reader) *uart.Reader[F], stream []byte) int {
	r := newReader(bytes.NewReader(stream))
	n := 0
	for {
		if _, err := r.Next(); err != nil {
			return n
		}
		n++
	}
}
