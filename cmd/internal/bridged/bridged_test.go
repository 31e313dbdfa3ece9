package bridged_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal/cmd/internal/bridged"
	"github.com/cd06/smartdeal/firmware-bridge/bridgetest"
	"github.com/cd06/smartdeal/firmware-bridge/drone"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
	"github.com/cd06/smartdeal/internal/testenv"
)

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// lastStatus returns the newest payload on the bridge's status topic.
func lastStatus(col *bridgetest.Collector) string {
	ms := col.Messages("/var/mavbridge/status")
	if len(ms) == 0 {
		return ""
	}
	return string(ms[len(ms)-1].Payload)
}

// TestServiceWithFleet embeds the service as the all-in-one does, flies an
// in-process fleet that repeats its survey to it, and checks readings with
// the mission, readiness, gauges, both flights of a drone, the online status
// and, after shutdown, the retained offline status.
func TestServiceWithFleet(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	col := bridgetest.Collect(t, broker.URL(), "smartdeal/v1/#")
	pub := bridgetest.NewPublisher(t, broker.URL())
	pub.PublishRetained(t, "smartdeal/v1/var/drone-alpha/cmd", `{"id":"m","cmd":"set_mission","mission":"feux-2026-07"}`)
	port := bridgetest.FreeUDPPort(t)

	cfg := bridged.DefaultConfig()
	cfg.Site = "var"
	cfg.Device = "" // defaults to mavbridge
	cfg.MQTT.URL = broker.URL()
	cfg.Spool.Dir = t.TempDir() + "/spool" // created by Run
	cfg.MAVLink.Endpoints = []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)}
	cfg.MAVLink.Devices = map[string]string{"7": "drone-alpha"}
	cfg.MAVLink.Rates = map[string]string{"position": "200ms"}
	reg := prometheus.NewRegistry()
	svc, err := bridged.New(cfg, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	if got := svc.Config().MQTT.ClientID; got != "mavbridge-var" {
		t.Errorf("client id %q", got)
	}
	if _, err := bridged.New(cfg, nil, reg); err == nil {
		t.Error("second service on the same registry: no error")
	}
	if err := svc.Ready(t.Context()); err == nil {
		t.Error("ready before Run")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}
	defer stop()
	testenv.Eventually(t, 10*time.Second, func() bool { return svc.Ready(ctx) == nil }, "not ready")
	if err := svc.Run(ctx); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("second Run: %v", err)
	}

	fleet := dronesim.Fleet{N: 2, FirstID: 7, Endpoint: fmt.Sprintf("udp-client:127.0.0.1:%d", port), TimeScale: 20,
		Vehicle: dronesim.Config{ArmAfter: time.Second, Speed: 30, Spacing: 100, Altitude: 20, Repeat: 2 * time.Second}}
	bridgetest.Fly(t, fleet)

	testenv.Eventually(t, 20*time.Second, func() bool {
		r, ok := col.Latest(t, "var", "drone-alpha", drone.QLatitude)
		_, ok8 := col.Latest(t, "var", "drone-8", drone.QLatitude)
		return ok && ok8 && r.Mission == "feux-2026-07"
	}, "positions of both drones, drone-alpha with its mission")
	testenv.Eventually(t, 30*time.Second, func() bool {
		return len(col.EventsOfType(t, "var", "drone-alpha", drone.EventArmed)) >= 2
	}, "drone-alpha did not fly twice: events %v", col.Events(t, "var", "drone-alpha"))
	if !strings.Contains(lastStatus(col), `"online"`) {
		t.Errorf("status %s", lastStatus(col))
	}
	if f := gauge(t, reg, "smartdeal_mavbridge_frames_total"); f == 0 {
		t.Error("frames_total 0")
	}
	if st := svc.Bridge().Stats(); st.Published == 0 || st.PublishErrors != 0 {
		t.Errorf("bridge stats %+v", st)
	}

	stop()
	if !strings.Contains(lastStatus(col), `"offline"`) {
		t.Errorf("no offline status after shutdown: %s", lastStatus(col))
	}
	if err := svc.Ready(t.Context()); err == nil {
		t.Error("ready after Run returned")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		edit func(*bridged.Config)
		want string
	}{
		{func(c *bridged.Config) { c.Site = "Var" }, "site"},
		{func(c *bridged.Config) { c.Device = "Mav Bridge" }, "device"},
		{func(c *bridged.Config) { c.MQTT.URL = "" }, "mqtt.url"},
		{func(c *bridged.Config) { c.Spool.Dir = "" }, "spool.dir"},
		{func(c *bridged.Config) { c.Spool.MaxBytes = 10 }, "spool.max_bytes"},
		{func(c *bridged.Config) { c.MAVLink.Endpoints = []string{"radio:/dev/x"} }, "mavlink.endpoints[0]"},
		{func(c *bridged.Config) { c.MAVLink.Rates = map[string]string{"position": "soon"} }, "mavlink.rates.position"},
	} {
		cfg := bridged.DefaultConfig()
		c.edit(&cfg)
		_, err := bridged.New(cfg, nil, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err %v, want it to name %s", err, c.want)
		}
	}
	if err := bridged.DefaultConfig().Validate(); err != nil {
		t.Errorf("default config: %v", err)
	}
}

// TestEndpointInUse: a MAVLink endpoint that cannot be opened stops Run with
// an error, after everything it started has stopped.
func TestEndpointInUse(t *testing.T) {
	port := bridgetest.FreeUDPPort(t)
	cfg := bridged.DefaultConfig()
	cfg.MQTT.URL = "tcp://127.0.0.1:1" // nobody: the forwarder keeps retrying
	cfg.Spool.Dir = t.TempDir()
	cfg.MAVLink.Endpoints = []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)}
	a, err := bridged.New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	testenv.Eventually(t, 5*time.Second, func() bool {
		select {
		case <-a.Bridge().Ready():
			return true
		default:
			return false
		}
	}, "first service not listening")
	cfg.Spool.Dir = t.TempDir()
	b, err := bridged.New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- b.Run(context.Background()) }()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "bridge: mavlink endpoints") {
			t.Fatalf("second service on the same port: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return on a busy endpoint")
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
