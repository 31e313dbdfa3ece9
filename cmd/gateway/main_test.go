package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cd06/smartdeal/devices/spool"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestLeanDependencies fails if the gateway links the web server, the InfluxDB
// client, SQL drivers or the GeoJSON library of mission areas (and the BSON
// package it brings).
func TestLeanDependencies(t *testing.T) {
	out, err := exec.Command(goTool(), "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, forbidden := range []string{"github.com/gofiber", "influxdb-client-go", "database/sql", "modernc.org/sqlite", "github.com/jackc/pgx", "github.com/valyala/fasthttp", "github.com/paulmach/orb", "go.mongodb.org/mongo-driver"} {
		for _, dep := range strings.Fields(string(out)) {
			if strings.Contains(dep, forbidden) {
				t.Errorf("cmd/gateway links %s (via %s): the gateway must stay lean", forbidden, dep)
			}
		}
	}
}

// goTool finds the go command: PATH, else the toolchain that runs the test.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// buildGateway builds the binary once per test process.
func buildGateway(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "smartdeal-gateway-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "smartdeal-gateway")
		cmd := exec.Command(goTool(), "build", "-o", binPath,
			"-ldflags", "-X github.com/cd06/smartdeal/devices/gateway.version=test -X github.com/cd06/smartdeal/devices/gateway.buildTime="+time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func writeConfig(t testing.TB, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func simConfig(broker, spoolDir, clientID string, sensors int, interval string, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "site: kill-site\nbroker:\n  url: %s\n  client_id: %s\nspool:\n  dir: %s\nforward:\n  backoff_min: 100ms\n  backoff_max: 500ms\n%s\nsensors:\n", broker, clientID, spoolDir, extra)
	for i := range sensors {
		profile := []string{"weather", "air", "river", "rain"}[i%4]
		fmt.Fprintf(&b, "  - driver: sim\n    device: sim-%d\n    profile: %s\n    interval: %s\n", i, profile, interval)
	}
	return b.String()
}

// TestRunBadConfig: one clear error naming the field, through run() and
// through the binary's exit code.
func TestRunBadConfig(t *testing.T) {
	good := simConfig("tcp://127.0.0.1:1883", "/tmp/x", "gw", 2, "1s", "")
	tests := []struct {
		name, body string
		env        map[string]string
		want       string
	}{
		{"bad address", strings.Replace(good, "  - driver: sim\n    device: sim-0\n    profile: weather\n", "  - driver: bme280\n    device: sim-0\n    address: 0x10\n", 1), nil, "sensors[0].address: 0x10: want 0x76 or 0x77"},
		{"bad interval", strings.Replace(good, "interval: 1s", "interval: 5ms", 1), nil, "sensors[0].interval"},
		{"unknown key", good + "colour: blue\n", nil, "colour"},
		{"bad url from env", good, map[string]string{"SMARTDEAL_MQTT_URL": "ftp://x:1"}, "broker.url: scheme"},
		{"bad site from env", good, map[string]string{"SMARTDEAL_SITE": "Nice!"}, "site:"},
		{"bad mavlink endpoint", good + "mavlink:\n  endpoints: [radio:/dev/x]\n", nil, "mavlink.endpoints[0]"},
		{"bad mavlink endpoint from env", good, map[string]string{"SMARTDEAL_MAVLINK_ENDPOINTS": "udp-server:127.0.0.1:14550,udp-client:nowhere"}, "mavlink.endpoints[1]"},
		{"bad mavlink devices from env", good, map[string]string{"SMARTDEAL_MAVLINK_DEVICES": "1"}, "SMARTDEAL_MAVLINK_DEVICES"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.body)
			var stderr bytes.Buffer
			err := run(context.Background(), []string{"-config", path}, func(k string) string { return tc.env[k] }, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run: %v, want an error containing %q", err, tc.want)
			}
			// The binary exits non-zero with that one error.
			cmd := exec.Command(buildGateway(t), "-config", path)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
			for k, v := range tc.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("binary: %v, want exit status 1; output:\n%s", err, out)
			}
			if !strings.Contains(string(out), tc.want) || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
				t.Fatalf("binary output %q: want one line containing %q", out, tc.want)
			}
		})
	}
	if err := run(context.Background(), nil, func(string) string { return "" }, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "-config") {
		t.Fatalf("no config: %v", err)
	}
	if err := run(context.Background(), []string{"-config", "/nonexistent.yaml"}, func(string) string { return "" }, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "/nonexistent.yaml") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestVersionAndCheck(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-version"}, os.Getenv, &out); err != nil || !strings.Contains(out.String(), "smartdeal gateway") {
		t.Fatalf("-version: %v %q", err, out.String())
	}
	out.Reset()
	path := writeConfig(t, simConfig("tcp://127.0.0.1:1883", t.TempDir(), "gw", 3, "1s", ""))
	if err := run(context.Background(), []string{"-config", path, "-check"}, func(string) string { return "" }, &out); err != nil || !strings.Contains(out.String(), "3 sensors") {
		t.Fatalf("-check: %v %q", err, out.String())
	}
	out.Reset()
	env := map[string]string{"SMARTDEAL_MAVLINK_ENDPOINTS": "udp-server:127.0.0.1:14550", "SMARTDEAL_MAVLINK_DEVICES": "1=drone-alpha"}
	if err := run(context.Background(), []string{"-config", path, "-check"}, func(k string) string { return env[k] }, &out); err != nil ||
		!strings.Contains(out.String(), "mavlink on udp-server:127.0.0.1:14550") {
		t.Fatalf("-check with SMARTDEAL_MAVLINK_ENDPOINTS: %v %q", err, out.String())
	}
	b, err := exec.Command(buildGateway(t), "-version").CombinedOutput()
	if err != nil || !strings.Contains(string(b), "smartdeal gateway test") {
		t.Fatalf("binary -version: %v %q", err, b)
	}
}

// startProc starts the gateway binary; its log goes to a file shown on failure.
func startProc(t testing.TB, config string) *exec.Cmd {
	t.Helper()
	logf, err := os.CreateTemp(t.TempDir(), "gateway-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(buildGateway(t), "-config", config)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("gateway log:\n%s", b)
		}
	})
	return cmd
}

// TestSIGKILLMidBacklog kills the gateway with SIGKILL while it drains a
// backlog, then restarts it: every entry that was in the spool at the kill
// reaches the subscriber, byte for byte (same timestamps; duplicates allowed).
func TestSIGKILLMidBacklog(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	rec := mqtttest.Subscribe(t, broker.URL(), "rec-kill", "smartdeal/v1/kill-site/+/telemetry")
	status := mqtttest.Subscribe(t, broker.URL(), "rec-kill-status", "smartdeal/v1/kill-site/gateway/status")
	broker.Stop()
	spoolDir := t.TempDir()
	config := writeConfig(t, simConfig(broker.URL(), spoolDir, "gw-kill", 5, "100ms", "  drain_rate: 40"))

	gw := startProc(t, config)
	time.Sleep(4 * time.Second) // offline: about 200 packs accumulate
	broker.Start(t)
	testenv.Eventually(t, 20*time.Second, func() bool { return rec.Len() >= 40 }, "backlog not draining (%d received)", rec.Len())
	if err := gw.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = gw.Wait()
	receivedAtKill := rec.Len()
	// The kernel closed the socket without DISCONNECT: the broker sends the
	// last will, the retained offline status.
	lastState := func() string {
		var st struct{ State string }
		msgs := status.Messages()
		if len(msgs) == 0 {
			return ""
		}
		_ = json.Unmarshal(msgs[len(msgs)-1].Payload, &st)
		return st.State
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return lastState() == "offline" }, "no offline last will after SIGKILL (last state %q)", lastState())

	sp, err := spool.Open(filepath.Join(spoolDir, "spool.db"), spool.Options{})
	if err != nil {
		t.Fatalf("spool after SIGKILL: %v", err)
	}
	inSpool, err := sp.Peek(0, 1_000_000)
	sp.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, e := range inSpool {
		if strings.HasSuffix(e.Topic, "/telemetry") {
			want[e.Topic+" "+string(e.Payload)] = true
		}
	}
	if len(want) < 50 {
		t.Fatalf("only %d telemetry entries in the spool at the kill: not the middle of a backlog", len(want))
	}

	gw2 := startProc(t, config)
	testenv.Eventually(t, 20*time.Second, func() bool { return lastState() == "online" }, "no online status after the restart")
	missing := func() []string {
		got := map[string]bool{}
		for _, m := range rec.Messages() {
			got[m.Topic+" "+string(m.Payload)] = true
		}
		var out []string
		for k := range want {
			if !got[k] {
				out = append(out, k)
			}
		}
		return out
	}
	testenv.Eventually(t, 60*time.Second, func() bool { return len(missing()) == 0 },
		"%d of %d spooled entries never arrived after the restart, e.g. %v", len(missing()), len(want), first(missing()))
	if err := gw2.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := gw2.Wait(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	t.Logf("%d received before the kill, %d telemetry entries in the spool at the kill, all delivered after the restart (%d messages in total)",
		receivedAtKill, len(want), rec.Len())
}

func first(s []string) []string {
	if len(s) > 2 {
		return s[:2]
	}
	return s
}
