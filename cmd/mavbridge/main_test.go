package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/firmware-bridge/bridgetest"
	"github.com/cd06/smartdeal/firmware-bridge/drone"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestMainEndToEnd runs the real program (spool + forwarder) configured only
// by environment variables, flies a simulated drone to it, and reads the
// drone's readings, mission and events back from Mosquitto.
func TestMainEndToEnd(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	col := bridgetest.Collect(t, broker.URL(), "smartdeal/v1/#")
	pub := bridgetest.NewPublisher(t, broker.URL())
	pub.PublishRetained(t, "smartdeal/v1/var/drone-alpha/cmd", `{"id":"m","cmd":"set_mission","mission":"feux-2026-07"}`)
	port := bridgetest.FreeUDPPort(t)
	env := map[string]string{
		"SMARTDEAL_SITE":              "var",
		"SMARTDEAL_MQTT_URL":          broker.URL(),
		"SMARTDEAL_SPOOL_DIR":         t.TempDir(),
		"SMARTDEAL_MAVLINK_ENDPOINTS": fmt.Sprintf("udp-server:127.0.0.1:%d", port),
		"SMARTDEAL_MAVLINK_DEVICES":   "7=drone-alpha",
		"SMARTDEAL_MAVLINK_RATES":     "position=200ms",
		"SMARTDEAL_HTTP_ADDR":         "127.0.0.1:0",
	}
	var logs testenv.LogBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, &logs) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	sim, err := dronesim.NewSim(dronesim.Config{SystemID: 7, ArmAfter: time.Second}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	vctx, vcancel := context.WithCancel(context.Background())
	defer vcancel()
	go func() {
		_ = (&dronesim.Vehicle{Sim: sim, Endpoint: gomavlib.EndpointUDPClient{Address: fmt.Sprintf("127.0.0.1:%d", port)}, TimeScale: 5}).Run(vctx)
	}()
	testenv.Eventually(t, 20*time.Second, func() bool {
		r, ok := col.Latest(t, "var", "drone-alpha", drone.QLatitude)
		return ok && r.Mission == "feux-2026-07"
	}, "positions with the mission through spool and forwarder; log:\n%s", logs.String())
	testenv.Eventually(t, 5*time.Second, func() bool {
		return len(col.EventsOfType(t, "var", "drone-alpha", drone.EventVehicleSeen)) == 1
	}, "vehicle_seen event")
	testenv.Eventually(t, 5*time.Second, func() bool {
		for _, m := range col.Messages("/var/mavbridge/status") {
			if strings.Contains(string(m.Payload), `"online"`) {
				return true
			}
		}
		return false
	}, "online status")
	_ = smartdeal.Topics{}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"SMARTDEAL_MAVLINK_RATES": "position"}, "SMARTDEAL_MAVLINK_RATES"},
		{map[string]string{"SMARTDEAL_MAVLINK_RATES": "position=soon"}, "mavlink.rates.position"},
		{map[string]string{"SMARTDEAL_MAVLINK_ENDPOINTS": "udp-server:0.0.0.0:14550,radio:/dev/x"}, "mavlink.endpoints[1]"},
		{map[string]string{"SMARTDEAL_MAVLINK_DEVICES": "1=Drone A"}, "mavlink.devices.1"},
		{map[string]string{"SMARTDEAL_SITE": "Var"}, "site"},
	} {
		var logs bytes.Buffer
		err := run(context.Background(), nil, func(k string) string { return c.env[k] }, &logs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want it to name %s", c.env, err, c.want)
		}
	}
}
