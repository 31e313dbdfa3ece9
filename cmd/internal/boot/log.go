package boot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Log configures the program's slog logger.
type Log struct {
	// Level is debug, info, warn or error; defaults to info.
	Level string `koanf:"level"`
	// Format is text or json; defaults to text.
	Format string `koanf:"format"`
}

// DefaultLog is the logging configuration of a local run.
func DefaultLog() Log { return Log{Level: "info", Format: "text"} }

// Validate checks the level and format; errors name the key under prefix
// (normally "log").
func (c Log) Validate(prefix string) error {
	if _, err := parseLevel(c.Level); err != nil {
		return fmt.Errorf("%s.level: %w", prefix, err)
	}
	switch c.Format {
	case "", "text", "json":
	default:
		return fmt.Errorf("%s.format: want text or json, got %q", prefix, c.Format)
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if s == "" {
		return slog.LevelInfo, nil
	}
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("want debug, info, warn or error, got %q", s)
	}
	return l, nil
}

// NewLogger builds the logger described by c, writing to w.
func NewLogger(c Log, w io.Writer) (*slog.Logger, error) {
	level, err := parseLevel(c.Level)
	if err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.Format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("log.format: want text or json, got %q", c.Format)
	}
}

// SignalContext returns a context cancelled by SIGINT or SIGTERM (or when
// parent ends). A second signal is not caught: it kills the program the
// default way, which is what an operator pressing Ctrl-C twice expects.
func SignalContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // restore default handling so a second signal terminates
	}()
	return ctx, stop
}
