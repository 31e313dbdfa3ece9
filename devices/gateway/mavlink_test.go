package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/devices/gateway"
	bridge "github.com/cd06/smartdeal/firmware-bridge"
	"github.com/cd06/smartdeal/firmware-bridge/bridgetest"
	"github.com/cd06/smartdeal/firmware-bridge/drone"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestGatewayWithDrone runs a gateway with a simulated sensor and a mavlink
// section, and flies a simulated drone to it over UDP on loopback: the drone's
// readings (tagged with the mission of a retained set_mission on its cmd
// topic) and the sensor's both reach MQTT through the gateway's spool, the
// drone is in the status, and its commands are answered by the bridge.
func TestGatewayWithDrone(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	col := bridgetest.Collect(t, broker.URL(), "smartdeal/v1/#")
	pub := bridgetest.NewPublisher(t, broker.URL())
	// The mission is set before the gateway starts: the retained message
	// arrives as soon as the gateway subscribes.
	pub.PublishRetained(t, "smartdeal/v1/test-site/drone-alpha/cmd", `{"id":"m1","cmd":"set_mission","mission":"flood-2026-11"}`)
	port := bridgetest.FreeUDPPort(t)

	cfg := baseConfig(t, broker.URL(), sensors(1, 200*time.Millisecond))
	cfg.MAVLink = &bridge.Config{
		Endpoints: []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)},
		Devices:   map[string]string{"7": "drone-alpha"},
		Rates:     map[string]string{"position": "200ms"},
	}
	g, stop := start(t, cfg)
	if g.Bridge() == nil {
		t.Fatal("no bridge with a mavlink section")
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return g.Ready(t.Context()) == nil && g.Connected() }, "gateway not ready: %v", g.Ready(t.Context()))

	fleet := dronesim.Fleet{N: 1, FirstID: 7, Endpoint: fmt.Sprintf("udp-client:127.0.0.1:%d", port), TimeScale: 20,
		Vehicle: dronesim.Config{ArmAfter: time.Second, Speed: 30, Spacing: 100, Altitude: 20, Repeat: 2 * time.Second}}
	bridgetest.Fly(t, fleet)

	testenv.Eventually(t, 20*time.Second, func() bool {
		lat, ok1 := col.Latest(t, "test-site", "drone-alpha", drone.QLatitude)
		_, ok2 := col.Latest(t, "test-site", "drone-alpha", drone.QLongitude)
		return ok1 && ok2 && lat.Mission == "flood-2026-11"
	}, "no drone position with its mission on MQTT")
	lat, _ := col.Latest(t, "test-site", "drone-alpha", drone.QLatitude)
	lon, _ := col.Latest(t, "test-site", "drone-alpha", drone.QLongitude)
	home := dronesim.DefaultHome
	if lat.Unit != "lat" || lon.Unit != "lon" || abs(lat.Number-home.Lat) > 0.05 || abs(lon.Number-home.Lon) > 0.05 {
		t.Errorf("drone position %v %s, %v %s; want near %+v", lat.Number, lat.Unit, lon.Number, lon.Unit, home)
	}
	if sensor := col.Readings(t, "test-site", "dev0"); len(sensor) == 0 {
		t.Error("no sensor readings next to the drone's")
	}

	// Both went through the spool: the bridge published into it and the
	// forwarder had the broker acknowledge it.
	if st := g.Bridge().Stats(); st.Published == 0 || st.PublishErrors != 0 || st.PublishDropped != 0 {
		t.Errorf("bridge stats %+v", st)
	}
	if st := g.Stats(); st.Forward.Acked == 0 || st.Spool.Dropped != 0 {
		t.Errorf("gateway stats %+v", st)
	}

	// The status lists the drone.
	testenv.Eventually(t, 10*time.Second, func() bool {
		ms := col.Messages("/test-site/gateway/status")
		if len(ms) == 0 {
			return false
		}
		var st struct {
			State   string   `json:"state"`
			Devices []string `json:"devices"` // the API's registry follows the gateway's state for these
			Drones  map[string]struct {
				SystemID int    `json:"system_id"`
				Mission  string `json:"mission"`
				LinkUp   bool   `json:"link_up"`
			} `json:"drones"`
		}
		if err := json.Unmarshal(ms[len(ms)-1].Payload, &st); err != nil {
			t.Fatal(err)
		}
		d := st.Drones["drone-alpha"]
		return st.State == "online" && d.SystemID == 7 && d.LinkUp && d.Mission == "flood-2026-11" &&
			slices.Contains(st.Devices, "drone-alpha") && slices.Contains(st.Devices, "dev0")
	}, "drone-alpha not in the status")

	// A command on the drone's topic is the bridge's; one on the sensor's
	// topic stays the gateway's.
	pub.PublishRetained(t, "smartdeal/v1/test-site/drone-alpha/cmd", `{"id":"m2","cmd":"set_mission","mission":""}`)
	pub.PublishRetained(t, "smartdeal/v1/test-site/dev0/cmd", `{"id":"s1","cmd":"set_mission","mission":"sensor-m"}`)
	testenv.Eventually(t, 10*time.Second, func() bool {
		return cmdResult(t, col, "drone-alpha", "m2") && cmdResult(t, col, "dev0", "s1")
	}, "command results: drone %v, sensor %v", col.Events(t, "test-site", "drone-alpha"), col.Events(t, "test-site", "dev0"))
	testenv.Eventually(t, 10*time.Second, func() bool {
		r, ok := col.Latest(t, "test-site", "drone-alpha", drone.QLatitude)
		return ok && r.Mission == ""
	}, "mission not cleared on the drone's readings")

	stop()
	if st := g.Bridge().Stats(); st.PublishErrors != 0 {
		t.Errorf("after shutdown: %d drone messages refused by the spool", st.PublishErrors)
	}
}

func cmdResult(t *testing.T, col *bridgetest.Collector, device, id string) bool {
	for _, ev := range col.Events(t, "test-site", device) {
		if ev["type"] == "cmd_result" && ev["id"] == id && ev["ok"] == true {
			return true
		}
	}
	return false
}

// nopPublisher is a bridge Publisher that discards.
type nopPublisher struct{}

func (nopPublisher) Publish(context.Context, string, []byte) error { return nil }

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestMAVLinkEndpointBusy: a MAVLink endpoint that cannot be opened stops the
// gateway with an error naming it, after everything it started has stopped.
func TestMAVLinkEndpointBusy(t *testing.T) {
	port := bridgetest.FreeUDPPort(t)
	ep := fmt.Sprintf("udp-server:127.0.0.1:%d", port)
	first, err := bridge.New(bridge.Config{Site: "test-site", Endpoints: []string{ep}}, nopPublisher{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-first.Ready()

	cfg := baseConfig(t, "tcp://127.0.0.1:1", sensors(1, time.Second))
	cfg.MAVLink = &bridge.Config{Endpoints: []string{ep}}
	g, err := gateway.New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- g.Run(context.Background()) }()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "mavlink: mavlink endpoints") {
			t.Fatalf("gateway on a busy MAVLink port: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return on a busy MAVLink endpoint")
	}
}

// TestMAVLinkConfig: the mavlink section in YAML, its errors named by their
// path, and the drones' device ids kept apart from the sensors'.
func TestMAVLinkConfig(t *testing.T) {
	good := goodYAML + `mavlink:
  endpoints: [udp-server:0.0.0.0:14550, "serial:/dev/ttyACM0:57600"]
  gcs_endpoints: [udp-client:192.168.1.20:14550]
  devices: {"1": drone-alpha}
  signing_keys: {"1": correct horse battery staple}
  rates: {position: 1s, attitude: -1s}
  link_timeout: 8s
  low_battery: 30
`
	c, err := gateway.ParseConfig([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	m := c.MAVLink
	if m == nil || len(m.Endpoints) != 2 || m.Devices["1"] != "drone-alpha" || m.LinkTimeout != 8*time.Second ||
		m.Rates["attitude"] != "-1s" || m.LowBattery != 30 || len(m.GCSEndpoints) != 1 {
		t.Fatalf("mavlink section parsed as %+v", m)
	}
	if r := c.Redacted(); r.MAVLink.SigningKeys["1"] != "***" || c.MAVLink.SigningKeys["1"] == "***" {
		t.Error("Redacted must hide the signing keys without changing the original")
	}
	// A drone-only gateway needs no sensor.
	noSensors := good[:strings.Index(good, "sensors:")] + good[strings.Index(good, "mavlink:"):]
	if _, err := gateway.ParseConfig([]byte(noSensors)); err != nil {
		t.Errorf("mavlink without sensors: %v", err)
	}

	for _, tc := range []struct{ name, yaml, want string }{
		{"bad endpoint", strings.Replace(good, "udp-server:0.0.0.0:14550", "radio:/dev/ttyUSB0", 1), "mavlink.endpoints[0]"},
		{"client without port", strings.Replace(good, "udp-client:192.168.1.20:14550", "udp-client:192.168.1.20", 1), "mavlink.gcs_endpoints[0]"},
		{"bad system id", strings.Replace(good, `{"1": drone-alpha}`, `{"300": drone-alpha}`, 1), "mavlink.devices.300"},
		{"drone named as a sensor", strings.Replace(good, `{"1": drone-alpha}`, `{"1": weather-1}`, 1), "mavlink.devices.1: \"weather-1\" already used by sensors[0]"},
		{"drone named as the gateway", strings.Replace(good, `{"1": drone-alpha}`, `{"1": gw-1}`, 1), "mavlink.devices.1: \"gw-1\" is the gateway's own device id"},
		{"bad rate", strings.Replace(good, "position: 1s", "position: soon", 1), "mavlink.rates.position"},
		{"site in the section", strings.Replace(good, "mavlink:\n", "mavlink:\n  site: other\n", 1), "field site not found"},
		{"unknown key", strings.Replace(good, "mavlink:\n", "mavlink:\n  baud: 57600\n", 1), "field baud not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gateway.ParseConfig([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, gateway.ErrConfig) {
				t.Fatalf("err %v, want ErrConfig naming %q", err, tc.want)
			}
		})
	}
}

// TestDroneMessagesWaitForTheClock: while the system clock is not set, drone
// messages (stamped by the bridge when received) are dropped and counted,
// never spooled with a 1970 time.
func TestDroneMessagesWaitForTheClock(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	col := bridgetest.Collect(t, broker.URL(), "smartdeal/v1/+/+/telemetry")
	port := bridgetest.FreeUDPPort(t)
	cfg := baseConfig(t, broker.URL(), sensors(1, time.Second))
	cfg.MAVLink = &bridge.Config{Endpoints: []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)}}
	epoch := time.Date(1970, 1, 1, 0, 1, 0, 0, time.UTC)
	g, _ := start(t, cfg, gateway.WithClock(func() time.Time { return epoch }))
	testenv.Eventually(t, 10*time.Second, func() bool { return g.Ready(t.Context()) == nil }, "not ready")

	fleet := dronesim.Fleet{N: 1, FirstID: 3, Endpoint: fmt.Sprintf("udp-client:127.0.0.1:%d", port), TimeScale: 20}
	bridgetest.Fly(t, fleet)
	testenv.Eventually(t, 10*time.Second, func() bool { return g.Stats().DronesDropped > 0 }, "no drone message dropped")
	if n := len(col.Messages("/drone-3/telemetry")); n != 0 {
		t.Errorf("%d drone packs published with a clock that is not set", n)
	}
	if st := g.Bridge().Stats(); st.PublishErrors != 0 {
		t.Errorf("bridge stats %+v", st)
	}
}

// TestExampleMAVLinkSection: the commented mavlink section of the example
// configuration is valid once uncommented.
func TestExampleMAVLinkSection(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "gateway", "gateway.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	in := false
	for i, l := range lines {
		switch {
		case l == "# mavlink:":
			in = true
		case in && !strings.HasPrefix(l, "#   "):
			in = false
		}
		if in {
			lines[i] = strings.TrimPrefix(l, "# ")
		}
	}
	c, err := gateway.ParseConfig([]byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatalf("example with its mavlink section uncommented: %v", err)
	}
	if c.MAVLink == nil || len(c.MAVLink.Endpoints) != 2 || c.MAVLink.Devices["1"] != "drone-alpha" || c.MAVLink.Rates["position"] != "1s" {
		t.Fatalf("mavlink section of the example: %+v", c.MAVLink)
	}
}
