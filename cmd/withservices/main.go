// Command withservices provides the real services the tests need, runs a
// command with them, and stops what it started. `make test` is
//
//	go run ./cmd/withservices -- go test -race ./...
//
// It makes sure Mosquitto answers on 127.0.0.1:1883 (starting or installing it
// where it can), builds and caches InfluxDB 1.8.10 on first use, starts it on a
// free port with a temporary data dir, the v2 write API and Flux, and passes its
// URL to the command as SMARTDEAL_TEST_INFLUX_URL (MQTT as SMARTDEAL_TEST_MQTT_URL),
// and does the same for mailpit, a real SMTP server with an HTTP API
// (SMARTDEAL_TEST_SMTP_ADDR, SMARTDEAL_TEST_MAILPIT_URL).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/cd06/smartdeal/internal/services"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code, err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "withservices:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("withservices", flag.ContinueOnError)
	fs.SetOutput(stderr)
	noMQTT := fs.Bool("no-mqtt", false, "do not check or start Mosquitto")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	cmdArgs := fs.Args()
	if len(cmdArgs) == 0 {
		return 2, errors.New("usage: withservices [-no-mqtt] -- command [args…]")
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	env := os.Environ()
	if !*noMQTT {
		if err := services.EnsureMosquitto(ctx, log); err != nil {
			return 1, err
		}
		env = append(env, "SMARTDEAL_TEST_MQTT_URL=tcp://127.0.0.1:1883")
	}
	bin, err := services.EnsureInfluxd(ctx, log)
	if err != nil {
		return 1, err
	}
	dir, err := os.MkdirTemp("", "smartdeal-influx-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(dir)
	logPath := filepath.Join(dir, "influxd.log")
	in, err := services.StartInfluxd(ctx, bin, filepath.Join(dir, "data"), 0, logPath)
	if err != nil {
		return 1, err
	}
	defer in.Stop()
	mailpitBin, err := services.EnsureMailpit(ctx, log)
	if err != nil {
		return 1, err
	}
	mp, err := services.StartMailpit(ctx, mailpitBin, filepath.Join(dir, "mailpit.log"))
	if err != nil {
		return 1, err
	}
	defer mp.Stop()
	log.Info("services ready", "influxdb", in.URL, "influxd", bin, "smtp", mp.SMTPAddr, "mailpit", mp.URL)
	env = append(env, "SMARTDEAL_TEST_INFLUX_URL="+in.URL, "SMARTDEAL_INFLUXD="+bin,
		"SMARTDEAL_TEST_SMTP_ADDR="+mp.SMTPAddr, "SMARTDEAL_TEST_MAILPIT_URL="+mp.URL, "SMARTDEAL_MAILPIT="+mailpitBin)

	cmd := exec.CommandContext(ctx, cmdArgs[0], cmdArgs[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 1, fmt.Errorf("run %s: %w", cmdArgs[0], err)
	}
	return 0, nil
}
