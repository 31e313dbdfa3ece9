package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/internal/testenv"
)

// TestAllInOne runs the platform as `make run` does (embedded broker, ingest,
// simulated gateways with the AtmoSud replay) against a real InfluxDB, and
// checks that every site's readings land, that readiness and metrics answer,
// that the demo proposals are listed with live series, and that shutdown is
// clean; then starts again on the same data: the demo data is not duplicated.
func TestAllInOne(t *testing.T) {
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	brokerPort, opsPort, apiPort := testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t)
	env := map[string]string{
		"SMARTDEAL_DATA_DIR":           t.TempDir(),
		"SMARTDEAL_BROKER_LISTEN":      "127.0.0.1:" + strconv.Itoa(brokerPort),
		"SMARTDEAL_INFLUX_URL":         in.URL,
		"SMARTDEAL_INFLUX_BUCKET":      db + "/autogen",
		"SMARTDEAL_HTTP_OPS":           "127.0.0.1:" + strconv.Itoa(opsPort),
		"SMARTDEAL_API_ADDR":           "127.0.0.1:" + strconv.Itoa(apiPort),
		"SMARTDEAL_SIM_INTERVAL":       "200ms",
		"SMARTDEAL_SIM_REPLAY_SPEEDUP": "3600",
		"SMARTDEAL_LOG_LEVEL":          "warn",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &testenv.LogBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, logs) }()

	sites := defaultConfig().Sim.Sites
	testenv.Eventually(t, 60*time.Second, func() bool {
		rows, err := in.Flux(context.Background(), fmt.Sprintf(`from(bucket: "%s/autogen")
  |> range(start: -1h)
  |> filter(fn: (r) => r._measurement == "telemetry" and r._field == "value")
  |> group(columns: ["site", "device"])
  |> count()`, db))
		if err != nil {
			return false
		}
		seen := map[string]bool{}
		for _, r := range rows {
			seen[r["site"]+"/"+r["device"]] = true
		}
		for _, s := range sites {
			if !seen[s+"/"+s+"-atmosud"] || !seen[s+"/"+s+"-weather-1"] {
				return false
			}
		}
		// the embedded MAVLink bridge forwards the simulated drones
		return seen[sites[0]+"/drone-1"] && seen[sites[0]+"/drone-2"]
	}, "readings of every simulated site (sim and AtmoSud replay) in InfluxDB; log:\n%s", logs)

	ops := "http://127.0.0.1:" + strconv.Itoa(opsPort)
	testenv.Eventually(t, 20*time.Second, func() bool {
		resp, err := http.Get(ops + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "/readyz never answered 200")
	resp, err := http.Get(ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"smartdeal_ingest_", `site="nice-port"`, "smartdeal_alerts_readings_total"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// The demo data: proposals listed, and a linked series with points once
	// readings have flowed (a page's range ends on the current minute).
	api := "http://127.0.0.1:" + strconv.Itoa(apiPort) + "/api/v1"
	var ideas []struct {
		ID, Title string
	}
	getJSON(t, api+"/ideas", &ideas)
	if len(ideas) != len(demoProposals) {
		t.Fatalf("%d ideas listed, want the %d demo proposals", len(ideas), len(demoProposals))
	}
	testenv.Eventually(t, 150*time.Second, func() bool {
		for _, idea := range ideas {
			var page struct {
				Series []struct {
					Device, Quantity string
					Points           []any
				}
			}
			if !tryJSON(api+"/ideas/"+idea.ID+"/page", &page) {
				continue
			}
			for _, s := range page.Series {
				if len(s.Points) > 0 {
					return true
				}
			}
		}
		return false
	}, "no demo proposal page has a series with points; log:\n%s", logs)

	stop := func(cancel context.CancelFunc, done chan error) {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run returned %v; log:\n%s", err, logs)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("platform did not stop within 30 s of cancellation")
		}
	}
	stop(cancel, done)

	// Second start on the same data: the demo is not seeded again.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	done2 := make(chan error, 1)
	go func() { done2 <- run(ctx2, nil, func(k string) string { return env[k] }, logs) }()
	var registry []struct{ ID string }
	testenv.Eventually(t, 30*time.Second, func() bool { return tryJSON(api+"/sites", &registry) }, "API not back; log:\n%s", logs)
	getJSON(t, api+"/ideas", &ideas)
	if len(registry) != len(sites) || len(ideas) != len(demoProposals) {
		t.Errorf("after a restart: %d sites, %d ideas; want %d and %d", len(registry), len(ideas), len(sites), len(demoProposals))
	}
	stop(cancel2, done2)
}

// tryJSON GETs url and decodes a 200 answer into v.
func tryJSON(url string, v any) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(v) == nil
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	if !tryJSON(url, v) {
		t.Fatalf("GET %s failed", url)
	}
}

func TestBadConfig(t *testing.T) {
	env := map[string]string{"SMARTDEAL_SIM_SITES": "Nice Port", "SMARTDEAL_SIM_INTERVAL": "1ms"}
	err := run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard)
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"sim.sites[0]", "sim.interval"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
