package uart

import (
	"bufio"
	"errors"
	"io"
)

// Format describes a fixed-length frame format for a Reader.
type Format[F any] struct {
	// Start is the first byte of every frame.
	Start byte
	// Len is the frame length in bytes, Start included.
	Len int
	// Parse decodes frame, Len bytes that begin with Start. It returns ok
	// false when they are not a frame (another header, a command reply) and
	// an error (a checksum error) for a bad frame; either way the search
	// goes on from the byte after Start.
	Parse func(frame []byte) (f F, ok bool, err error)
}

// Reader finds frames in a byte stream, skipping whatever is not a frame
// (a partial frame at start-up, line noise, other sensors' bytes on a shared
// adapter).
type Reader[F any] struct {
	br     *bufio.Reader
	format Format[F]
	// Skipped counts the bytes discarded while looking for a frame.
	Skipped int
}

// NewReader returns a Reader of frames in format reading from r.
func NewReader[F any](r io.Reader, format Format[F]) *Reader[F] {
	return &Reader[F]{br: bufio.NewReaderSize(r, max(64, 2*format.Len)), format: format}
}

// Reset discards buffered bytes and reads from r from now on.
func (r *Reader[F]) Reset(rd io.Reader) { r.br.Reset(rd) }

// Next returns the next frame. A bad frame returns Parse's error; the
// search then goes on from the byte after its start, so a real frame hidden
// behind a false start is still found. Errors of the underlying reader are
// returned as they are (io.EOF only between frames; io.ErrUnexpectedEOF
// inside one).
func (r *Reader[F]) Next() (F, error) {
	var zero F
	for {
		c, err := r.br.ReadByte()
		if err != nil {
			return zero, err
		}
		if c != r.format.Start {
			r.Skipped++
			continue
		}
		_ = r.br.UnreadByte() // cannot fail right after ReadByte
		b, err := r.br.Peek(r.format.Len)
		if err != nil {
			_, _ = r.br.Discard(1) // the start byte, buffered
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return zero, err
		}
		f, ok, err := r.format.Parse(b)
		if !ok || err != nil {
			_, _ = r.br.Discard(1)
			r.Skipped++
			if err != nil {
				return zero, err
			}
			continue
		}
		if _, err := r.br.Discard(r.format.Len); err != nil {
			return zero, err
		}
		return f, nil
	}
}
