package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// BenchmarkFootprint runs the real gateway binary with 50 simulated sensors
// read at 1 Hz against a real Mosquitto, and reports its resident memory and
// CPU time. The run lasts $SMARTDEAL_FOOTPRINT_DURATION (default 20s so that CI
// keeps it working; the documented numbers use 5m):
//
//	SMARTDEAL_FOOTPRINT_DURATION=5m go test -run '^$' -bench Footprint -benchtime 1x ./cmd/gateway
func BenchmarkFootprint(b *testing.B) {
	dur := 20 * time.Second
	if s := os.Getenv("SMARTDEAL_FOOTPRINT_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			b.Fatalf("SMARTDEAL_FOOTPRINT_DURATION: %v", err)
		}
		dur = d
	}
	buildGateway(b) // before the clock starts
	broker := testenv.StartMosquitto(b, testenv.MosquittoOptions{})
	rec := mqtttest.Subscribe(b, broker.URL(), "rec-footprint", "smartdeal/v1/footprint/+/telemetry")
	dir := b.TempDir()
	cfg := strings.Replace(simConfig(broker.URL(), filepath.Join(dir, "spool"), "gw-footprint", 50, "1s", ""), "site: kill-site", "site: footprint", 1)
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	for range b.N {
		cmd := startProc(b, path)
		pid := cmd.Process.Pid
		time.Sleep(3 * time.Second) // start-up: connect, open sensors
		cpu0 := cpuTicks(b, pid)
		recv0 := rec.Len()
		b.ResetTimer()
		start := time.Now()
		var maxRSS int64
		for time.Since(start) < dur {
			time.Sleep(time.Second)
			maxRSS = max(maxRSS, statusKB(b, pid, "VmRSS"))
		}
		elapsed := time.Since(start)
		cpu1 := cpuTicks(b, pid)
		hwm := statusKB(b, pid, "VmHWM")
		b.StopTimer()
		recv := rec.Len() - recv0
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		cpuSec := float64(cpu1-cpu0) / 100 // USER_HZ
		b.ReportMetric(float64(maxRSS)/1024, "rss_max_MiB")
		b.ReportMetric(float64(hwm)/1024, "rss_peak_MiB")
		b.ReportMetric(100*cpuSec/elapsed.Seconds(), "cpu_%_of_core")
		b.ReportMetric(float64(recv)/elapsed.Seconds(), "packs_delivered/s")
		b.Logf("%s: RSS max %.1f MiB (peak %.1f MiB), CPU %.2f s = %.2f%% of one core, %d packs delivered (%.1f/s, want 50/s)",
			elapsed.Round(time.Second), float64(maxRSS)/1024, float64(hwm)/1024, cpuSec, 100*cpuSec/elapsed.Seconds(), recv, float64(recv)/elapsed.Seconds())
		if float64(recv)/elapsed.Seconds() < 45 {
			b.Fatalf("only %.1f packs/s delivered: the gateway is not keeping up with 50 sensors at 1 Hz", float64(recv)/elapsed.Seconds())
		}
	}
}

func cpuTicks(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) start after ')'.
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}

func statusKB(b *testing.B, pid int, key string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	b.Fatalf("%s not in /proc/%d/status", key, pid)
	return 0
}
