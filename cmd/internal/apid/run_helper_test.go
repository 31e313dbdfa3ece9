package apid

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal/internal/testenv"
)

// runApp builds the service from cfg and runs it until the test ends, when
// it cancels Run and fails the test unless Run returns nil within 20 s. It
// returns the service's base URL, the service and its log.
func runApp(t *testing.T, cfg Config) (string, *App, *testenv.LogBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := new(testenv.LogBuffer)
	app, err := New(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)), prometheus.NewRegistry())
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("Run did not return after cancel; log:\n%s", logs.String())
		}
	})
	return "http://" + app.Addr(), app, logs
}
