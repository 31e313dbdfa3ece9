package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/cd06/smartdeal/influxschema"
)

// count returns how many readings (field value) the bucket holds.
func (f *fluxClient) count(ctx context.Context) (int, error) {
	body, err := f.query(ctx, fmt.Sprintf(`from(bucket: %q)
  |> range(start: 2000-01-01T00:00:00Z)
  |> filter(fn: (r) => r._field == %q)
  |> group()
  |> count()`, f.bucket, influxschema.FieldValue))
	if err != nil {
		return 0, err
	}
	vals := csvColumn(body, "_value")
	if len(vals) == 0 {
		return 0, nil
	}
	return strconv.Atoi(vals[0])
}

// probeValues returns the message indexes of the probes InfluxDB holds.
func (f *fluxClient) probeValues(ctx context.Context) ([]int, error) {
	body, err := f.query(ctx, fmt.Sprintf(`from(bucket: %q)
  |> range(start: 2000-01-01T00:00:00Z)
  |> filter(fn: (r) => r.%s == %q and r._field == %q)
  |> keep(columns: ["_value"])`, f.bucket, influxschema.TagDevice, probeDevice, influxschema.FieldValue))
	if err != nil {
		return nil, err
	}
	var out []int
	for _, v := range csvColumn(body, "_value") {
		if x, err := strconv.ParseFloat(v, 64); err == nil {
			out = append(out, int(x))
		}
	}
	return out, nil
}

// csvColumn extracts one column from Flux annotated CSV.
func csvColumn(body, col string) []string {
	r := csv.NewReader(strings.NewReader(body))
	r.FieldsPerRecord = -1
	idx := -1
	var out []string
	for {
		rec, err := r.Read()
		if err != nil {
			return out
		}
		if len(rec) == 0 || strings.HasPrefix(rec[0], "#") || (len(rec) == 1 && rec[0] == "") {
			idx = -1
			continue
		}
		if idx < 0 {
			for i, h := range rec {
				if h == col {
					idx = i
				}
			}
			continue
		}
		if idx < len(rec) {
			out = append(out, rec[idx])
		}
	}
}

// supervised is the ingest process under test.
type supervised struct {
	args []string
	env  []string
	cmd  *exec.Cmd
	done chan struct{}
	// resources of earlier runs of the process (drain mode restarts it)
	lastCPU time.Duration
	lastRSS int64
}

func (s *supervised) start() error {
	logf, err := os.OpenFile("loadgen-ingest.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.args[0], s.args[1:]...)
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start ingest %q: %w", s.args[0], err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	done := s.done
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	return nil
}

// stop sends SIGTERM (a graceful ingest flushes and acks) and waits.
func (s *supervised) stop() {
	if s.cmd == nil {
		return
	}
	s.lastCPU, s.lastRSS = s.cpu(), s.peakRSS()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// cpu is the user+system CPU time of the running process (/proc/pid/stat,
// clock ticks of 10 ms as on every Linux this runs on).
func (s *supervised) cpu() time.Duration {
	if s.cmd == nil {
		return s.lastCPU
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return s.lastCPU
	}
	// Fields after the parenthesised command name; utime and stime are 14 and 15.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// peakRSS is VmHWM, the process's peak resident set size.
func (s *supervised) peakRSS() int64 {
	if s.cmd == nil {
		return s.lastRSS
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return s.lastRSS
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return s.lastRSS
}

// brokerOnly measures the broker's own QoS 1 rate: publishers → one subscriber.
func brokerOnly(ctx context.Context, cfg config, log *slog.Logger) (report, error) {
	var got atomic.Int64
	all := make(chan struct{})
	o := mqtt.NewClientOptions().AddBroker(cfg.mqttURL).SetClientID(fmt.Sprintf("loadgen-sub-%d", os.Getpid())).SetCleanSession(true)
	o.SetDefaultPublishHandler(func(mqtt.Client, mqtt.Message) {
		if got.Add(1) == int64(cfg.n) {
			close(all)
		}
	})
	sub := mqtt.NewClient(o)
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return report{}, fmt.Errorf("connect subscriber: %v", tok.Error())
	}
	defer sub.Disconnect(250)
	filter := cfg.topicPrefix + "/" + cfg.site + "/+/telemetry"
	if tok := sub.Subscribe(filter, 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return report{}, fmt.Errorf("subscribe: %v", tok.Error())
	}
	pubs, err := connectPublishers(cfg)
	if err != nil {
		return report{}, err
	}
	defer func() {
		for _, p := range pubs {
			p.Disconnect(250)
		}
	}()
	log.Info("broker-only QoS 1 run", "n", cfg.n)
	start := time.Now()
	if err := publishAll(ctx, pubs, cfg, time.Now().Add(-10*time.Minute), nil); err != nil {
		return report{}, err
	}
	select {
	case <-all:
	case <-time.After(cfg.timeout):
	case <-ctx.Done():
	}
	d := time.Since(start)
	n := int(got.Load())
	return report{Mode: "broker", Format: cfg.format, Messages: cfg.n, Stored: n, Lost: cfg.n - n, Duration: d, PerSecond: float64(n) / d.Seconds()}, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
