package uart

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// silent returns (0, nil) like a serial port whose read timeout expired.
type silent struct{ reads int }

func (s *silent) Read([]byte) (int, error) { s.reads++; return 0, nil }

func TestDeadlineReader(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(100 * time.Millisecond); return now }
	src := &silent{}
	d := &DeadlineReader{R: src, Ctx: context.Background(), Deadline: now.Add(time.Second), Now: clock}
	if _, err := d.Read(make([]byte, 4)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("silent port: %v", err)
	}
	if src.reads < 8 || src.reads > 10 {
		t.Errorf("%d polls before a 1 s deadline at 100 ms each", src.reads)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d = &DeadlineReader{R: src, Ctx: ctx}
	if _, err := d.Read(make([]byte, 4)); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
	d = &DeadlineReader{R: strings.NewReader("ab"), Ctx: context.Background(), Deadline: time.Now().Add(time.Second)}
	b, err := io.ReadAll(d)
	if string(b) != "ab" || err != nil {
		t.Fatalf("pass-through: %q %v", b, err)
	}
}

func TestOpenMissingPort(t *testing.T) {
	_, err := Open("/dev/ttyDOESNOTEXIST", 9600)
	if err == nil || !strings.Contains(err.Error(), "serial port /dev/ttyDOESNOTEXIST not found") {
		t.Fatalf("%v", err)
	}
}
