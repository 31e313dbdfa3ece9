package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strconv"
	"testing"

	"github.com/cd06/smartdeal/internal/testenv"
)

func noenv(string) string { return "" }

// TestBrokerMode runs the broker-only measurement against a real Mosquitto and
// checks the report accounts for every message.
func TestBrokerMode(t *testing.T) {
	m := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	var out bytes.Buffer
	err := run(context.Background(), []string{"-mode", "broker", "-n", "500", "-devices", "7", "-mqtt", m.URL(), "-json"}, noenv, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var r report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	if r.Messages != 500 || r.Stored != 500 || r.Lost != 0 || r.PerSecond <= 0 {
		t.Fatalf("report %+v, want 500 received, none lost", r)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-mode", "fast"},
		{"-format", "xml"},
		{"-n", "0"},
		{"-mode", "drain"}, // needs the ingest command
	} {
		err := run(context.Background(), args, noenv, io.Discard, io.Discard)
		var usage usageError
		if !errors.As(err, &usage) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}

// TestLiveWithIngest drives the real ingest binary through a live run and a
// drain run: the harness must count every message stored and read the ingest's
// resources.
func TestLiveWithIngest(t *testing.T) {
	bin := t.TempDir() + "/ingest"
	if out, err := exec.Command("go", "build", "-o", bin, "../ingest").CombinedOutput(); err != nil {
		t.Fatalf("build ingest: %v\n%s", err, out)
	}
	m := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(t)
	t.Setenv("SMARTDEAL_HTTP_ADDR", "127.0.0.1:"+strconv.Itoa(testenv.FreePort(t)))
	t.Setenv("SMARTDEAL_MQTT_CLIENT_ID", "loadgen-test-ingest")
	t.Chdir(t.TempDir()) // loadgen-ingest.log
	// 3,000 messages: enough ingest CPU (~45 ms) to span several of the
	// 10 ms ticks /proc/<pid>/stat counts in; 600 could read 0 on a fast run.
	const n = 3000
	for _, mode := range []string{"live", "drain"} {
		var out bytes.Buffer
		err := run(context.Background(), []string{"-mode", mode, "-n", strconv.Itoa(n), "-devices", "5", "-format", "senml",
			"-mqtt", m.URL(), "-influx", in.URL, "-json", "--", bin}, noenv, &out, io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		var r report
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("%s report %q: %v", mode, out.String(), err)
		}
		if r.Stored != n || r.Lost != 0 || r.IngestCPU <= 0 || r.PeakRSSBytes <= 0 {
			t.Fatalf("%s report %+v, want %d stored, none lost, resources read", mode, r, n)
		}
		if mode == "live" && r.LatencyP50 <= 0 {
			t.Errorf("live report %+v has no latency", r)
		}
	}
}
