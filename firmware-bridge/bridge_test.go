package bridge_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"

	"github.com/cd06/smartdeal"
	bridge "github.com/cd06/smartdeal/firmware-bridge"
	"github.com/cd06/smartdeal/firmware-bridge/bridgetest"
	"github.com/cd06/smartdeal/firmware-bridge/drone"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
	"github.com/cd06/smartdeal/internal/testenv"
)

func logger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startBridge runs a bridge until the test ends.
func startBridge(t *testing.T, cfg bridge.Config, pub bridge.Publisher) *bridge.Bridge {
	t.Helper()
	b, err := bridge.New(cfg, pub, logger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("bridge run: %v", err)
		}
	})
	select {
	case <-b.Ready():
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("bridge run ended before ready: %v", err)
	}
	return b
}

// fly runs a simulated vehicle until the test ends.
func fly(t *testing.T, v *dronesim.Vehicle) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := v.Run(ctx); err != nil {
			t.Errorf("vehicle: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func newSim(t *testing.T, cfg dronesim.Config) *dronesim.Sim {
	t.Helper()
	s, err := dronesim.NewSim(cfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// commands wires the bridge to its cmd topics, as cmd/mavbridge does.
func commands(t *testing.T, url, site string, b *bridge.Bridge) {
	t.Helper()
	col := bridgetest.Collect(t, url, smartdeal.Topics{}.Device(site, "+", smartdeal.ChannelCmd))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		handled := 0
		for ctx.Err() == nil {
			msgs := col.Messages("/cmd")
			for _, m := range msgs[handled:] {
				_ = b.HandleCommand(ctx, m.Topic, m.Payload)
			}
			handled = len(msgs)
			time.Sleep(10 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// TestSimulatorToMQTT flies two simulated vehicles (MAVLink 2 and MAVLink 1,
// one that streams only when asked) through the bridge over UDP to a real
// Mosquitto, and checks values, units, modes, events and missions per drone.
func TestSimulatorToMQTT(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	const site = "nice-var"
	col := bridgetest.Collect(t, broker.URL(), "smartdeal/v1/#")
	pub := bridgetest.NewPublisher(t, broker.URL())
	// the API set the mission of drone-alpha before the bridge started
	pub.PublishRetained(t, smartdeal.Topics{}.Device(site, "drone-alpha", "cmd"),
		`{"id":"r1","cmd":"set_mission","mission":"crue-var-2026"}`)

	port := bridgetest.FreeUDPPort(t)
	b := startBridge(t, bridge.Config{
		Site:      site,
		Endpoints: []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)},
		Devices:   map[string]string{"1": "drone-alpha"},
		Rates:     map[string]string{"position": "200ms", "battery": "500ms", "status": "500ms", "gps": "500ms"},
	}, pub)
	commands(t, broker.URL(), site, b)
	// The retained set_mission must be handled before the drone flies, or its
	// first readings rightly go out without a mission.
	testenv.Eventually(t, 5*time.Second, func() bool { return b.Stats().Commands >= 1 }, "retained set_mission not handled")

	ep := gomavlib.EndpointUDPClient{Address: fmt.Sprintf("127.0.0.1:%d", port)}
	v1 := &dronesim.Vehicle{Sim: newSim(t, dronesim.Config{SystemID: 1, WaitStreamRequest: true, ArmAfter: time.Second}),
		Endpoint: ep, TimeScale: 10}
	other := []dronesim.Point{{Lat: 43.70, Lon: 7.25}, {Lat: 43.70, Lon: 7.256}, {Lat: 43.703, Lon: 7.256}, {Lat: 43.703, Lon: 7.25}}
	v2 := &dronesim.Vehicle{Sim: newSim(t, dronesim.Config{SystemID: 2, Version: 1, Home: dronesim.Point{Lat: 43.699, Lon: 7.249},
		Polygon: other, ArmAfter: time.Second, BatteryStart: 80}), Endpoint: ep, TimeScale: 10}
	fly(t, v1)
	fly(t, v2)

	// both drones reach the survey (AUTO) and report positions
	testenv.Eventually(t, 30*time.Second, func() bool {
		m1, ok1 := col.Latest(t, site, "drone-alpha", drone.QFlightMode)
		m2, ok2 := col.Latest(t, site, "drone-2", drone.QFlightMode)
		a1, _ := col.Latest(t, site, "drone-alpha", drone.QRelativeAltitude)
		a2, _ := col.Latest(t, site, "drone-2", drone.QRelativeAltitude)
		return ok1 && ok2 && m1.Text == "AUTO" && m2.Text == "AUTO" && a1.Number > 59 && a2.Number > 59
	}, "both drones in AUTO; events %v", col.Events(t, site, "drone-alpha"))

	if v1.StreamRequests() == 0 || b.Stats().CommandAcks == 0 {
		t.Fatalf("vehicle 1 streams only on request: requests %d, acks %d", v1.StreamRequests(), b.Stats().CommandAcks)
	}
	for _, c := range []struct {
		device string
		v      *dronesim.Vehicle
	}{{"drone-alpha", v1}, {"drone-2", v2}} {
		truth := c.v.State()
		lat, ok := col.Latest(t, site, c.device, drone.QLatitude)
		lon, ok2 := col.Latest(t, site, c.device, drone.QLongitude)
		if !ok || !ok2 || lat.Unit != "lat" || lon.Unit != "lon" {
			t.Fatalf("%s: position readings %+v %+v", c.device, lat, lon)
		}
		// within what a 12 m/s drone (time ×10) flies between a reading and now, plus GPS noise
		if !near(lat.Number, truth.Lat, 0.004) || !near(lon.Number, truth.Lon, 0.005) {
			t.Fatalf("%s: position %.6f,%.6f far from the simulator's %.6f,%.6f", c.device, lat.Number, lon.Number, truth.Lat, truth.Lon)
		}
		alt, _ := col.Latest(t, site, c.device, drone.QRelativeAltitude)
		if alt.Unit != "m" || !near(alt.Number, 60, 2) {
			t.Fatalf("%s: relative altitude %+v, want 60 m", c.device, alt)
		}
		amsl, _ := col.Latest(t, site, c.device, drone.QAltitude)
		if !near(amsl.Number, 65, 2) {
			t.Fatalf("%s: altitude AMSL %+v, want 65 m", c.device, amsl)
		}
		for q, unit := range map[string]string{drone.QBatteryVoltage: "V", drone.QBatteryCurrent: "A",
			drone.QBatteryRemaining: "%EL", drone.QGroundSpeed: "m/s", drone.QHeading: "rad", drone.QSatellites: "count"} {
			r, ok := col.Latest(t, site, c.device, q)
			if !ok || r.Unit != unit {
				t.Fatalf("%s: %s = %+v, want unit %q", c.device, q, r, unit)
			}
		}
		v, _ := col.Latest(t, site, c.device, drone.QBatteryVoltage)
		pct, _ := col.Latest(t, site, c.device, drone.QBatteryRemaining)
		if !near(v.Number, 10.5+2.1*pct.Number/100, 0.05) || pct.Number > 100 || pct.Number < 50 {
			t.Fatalf("%s: battery %v V at %v %%", c.device, v.Number, pct.Number)
		}
		armed, _ := col.Latest(t, site, c.device, drone.QArmed)
		if armed.Kind != smartdeal.KindBool || !armed.Bool {
			t.Fatalf("%s: armed %+v", c.device, armed)
		}
		for _, typ := range []string{drone.EventVehicleSeen, drone.EventArmed, drone.EventModeChanged, drone.EventStatusText} {
			if len(col.EventsOfType(t, site, c.device, typ)) == 0 {
				t.Fatalf("%s: no %s event in %v", c.device, typ, col.Events(t, site, c.device))
			}
		}
	}
	// kept apart: drone-2 flies 5 km away from drone-alpha, none of its positions leaks over
	for _, r := range col.Readings(t, site, "drone-alpha") {
		if r.Quantity == drone.QLatitude && r.Number > 43.68 {
			t.Fatalf("drone-alpha got drone-2's position %+v", r)
		}
		if r.Mission != "crue-var-2026" {
			t.Fatalf("drone-alpha reading without its mission: %+v", r)
		}
	}
	for _, r := range col.Readings(t, site, "drone-2") {
		if r.Quantity == drone.QLatitude && r.Number < 43.68 {
			t.Fatalf("drone-2 got drone-alpha's position %+v", r)
		}
		if r.Mission != "" {
			t.Fatalf("drone-2 reading with a mission: %+v", r)
		}
	}
	st := b.Stats()
	if st.ChecksumErrors+st.ParseErrors+st.SigningRefused+st.PublishDropped+st.PublishErrors != 0 || st.FramesLost != 0 {
		t.Fatalf("a clean loopback flight had errors: %+v", st)
	}

	// the mission ends: the API clears it; later readings carry none
	pub.PublishRetained(t, smartdeal.Topics{}.Device(site, "drone-alpha", "cmd"), `{"id":"r2","cmd":"set_mission","mission":""}`)
	testenv.Eventually(t, 10*time.Second, func() bool {
		return len(col.EventsOfType(t, site, "drone-alpha", "cmd_result")) >= 2
	}, "set_mission results")
	n := len(col.Readings(t, site, "drone-alpha"))
	testenv.Eventually(t, 10*time.Second, func() bool {
		rs := col.Readings(t, site, "drone-alpha")
		return len(rs) > n+5 && rs[len(rs)-1].Mission == ""
	}, "readings without mission after clearing it")
	vs := b.Vehicles(context.Background())
	if len(vs) != 2 || vs[0].Device != "drone-alpha" || vs[1].Device != "drone-2" || vs[1].MAVLinkVersion != 1 {
		t.Fatalf("vehicles %+v", vs)
	}
}

// TestCommands checks read_now, set_interval, report_config and bad commands.
func TestCommands(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	const site = "cmd-site"
	col := bridgetest.Collect(t, broker.URL(), "smartdeal/v1/#")
	pub := bridgetest.NewPublisher(t, broker.URL())
	port := bridgetest.FreeUDPPort(t)
	b := startBridge(t, bridge.Config{Site: site, Endpoints: []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)},
		Rates: map[string]string{"position": "-1s"}}, pub) // positions only on demand
	commands(t, broker.URL(), site, b)
	fly(t, &dronesim.Vehicle{Sim: newSim(t, dronesim.Config{SystemID: 9, ArmAfter: time.Second}),
		Endpoint: gomavlib.EndpointUDPClient{Address: fmt.Sprintf("127.0.0.1:%d", port)}, TimeScale: 5})
	testenv.Eventually(t, 10*time.Second, func() bool { return len(b.Vehicles(context.Background())) == 1 }, "vehicle seen")
	if _, ok := col.Latest(t, site, "drone-9", drone.QLatitude); ok {
		t.Fatal("position published although its group is off")
	}
	topic := smartdeal.Topics{}.Device(site, "drone-9", "cmd")
	pub.PublishRetained(t, topic, `{"id":"a","cmd":"read_now"}`)
	testenv.Eventually(t, 10*time.Second, func() bool {
		_, ok := col.Latest(t, site, "drone-9", drone.QLatitude)
		return ok
	}, "read_now publishes the position")
	for _, c := range []string{
		`{"id":"b","cmd":"set_interval","sensor":"position","interval":"100ms"}`,
		`{"id":"c","cmd":"set_interval","sensor":"nope","interval":"1s"}`,
		`{"id":"d","cmd":"set_interval","interval":"soon"}`,
		`{"id":"e","cmd":"report_config"}`,
		`{"id":"f","cmd":"fly_to_the_moon"}`,
		`{"id":"g","cmd":"set_mission","mission":"Not An Id"}`,
		`not json`,
	} {
		if err := pub.Publish(context.Background(), topic, []byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	results := map[string]map[string]any{}
	testenv.Eventually(t, 10*time.Second, func() bool {
		for _, e := range col.EventsOfType(t, site, "drone-9", "cmd_result") {
			results[fmt.Sprint(e["id"])] = e
		}
		return len(results) == 8
	}, "8 command results, got %v", results)
	for id, ok := range map[string]bool{"a": true, "b": true, "c": false, "d": false, "e": true, "f": false, "g": false, "": false} {
		if results[id]["ok"] != ok {
			t.Errorf("command %q: result %v, want ok=%v", id, results[id], ok)
		}
	}
	if data, _ := results["e"]["data"].(map[string]any); data["site"] != site {
		t.Errorf("report_config data %v", results["e"]["data"])
	}
	// after set_interval position=100ms, positions flow again
	n := len(col.Readings(t, site, "drone-9"))
	testenv.Eventually(t, 10*time.Second, func() bool {
		c := 0
		for _, r := range col.Readings(t, site, "drone-9")[n:] {
			if r.Quantity == drone.QLatitude {
				c++
			}
		}
		return c >= 3
	}, "positions after set_interval")
	if err := b.HandleCommand(context.Background(), smartdeal.Topics{}.Device(site, "weather-1", "cmd"), []byte(`{}`)); err == nil {
		t.Error("a command for a non-drone device was accepted")
	}
}

// TestUnknownSentinels: a vehicle without battery monitor nor GPS fix sends
// UINT16_MAX / -1 / 255 / 0,0 — none of it becomes a number.
func TestUnknownSentinels(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	col := bridgetest.Collect(t, broker.URL(), "smartdeal/v1/#")
	pub := bridgetest.NewPublisher(t, broker.URL())
	port := bridgetest.FreeUDPPort(t)
	b := startBridge(t, bridge.Config{Site: "s", Endpoints: []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)},
		Rates: map[string]string{"battery": "0s", "gps": "0s", "position": "0s"}}, pub)
	fly(t, &dronesim.Vehicle{Sim: newSim(t, dronesim.Config{SystemID: 4, NoBattery: true, NoGPS: true}),
		Endpoint: gomavlib.EndpointUDPClient{Address: fmt.Sprintf("127.0.0.1:%d", port)}, TimeScale: 5})
	testenv.Eventually(t, 10*time.Second, func() bool {
		_, ok := col.Latest(t, "s", "drone-4", drone.QGPSFixType)
		return ok && b.Stats().Frames > 60
	}, "gps fix type published")
	fix, _ := col.Latest(t, "s", "drone-4", drone.QGPSFixType)
	if fix.Number != 0 {
		t.Fatalf("gps_fix_type %v, want 0 (no GPS) as an explicit state", fix.Number)
	}
	for _, r := range col.Readings(t, "s", "drone-4") {
		switch r.Quantity {
		case drone.QBatteryVoltage, drone.QBatteryCurrent, drone.QBatteryRemaining, drone.QSatellites,
			drone.QLatitude, drone.QLongitude, drone.QGPSHDOP, drone.QHeading:
			t.Fatalf("sentinel stored as a number: %+v", r)
		}
	}
	st, _ := b.Vehicles(context.Background())[0], 0
	if st.BatteryVoltage.Valid || st.Satellites.Valid || st.Latitude.Valid {
		t.Fatalf("state holds sentinels as values: %+v", st)
	}
}

// TestSignedVehicle: a vehicle with a key is heard when it signs with it;
// the bridge's own frames to it are signed (the simulator refuses others).
func TestSignedVehicle(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	col := bridgetest.Collect(t, broker.URL(), "smartdeal/v1/#")
	pub := bridgetest.NewPublisher(t, broker.URL())
	port := bridgetest.FreeUDPPort(t)
	b := startBridge(t, bridge.Config{Site: "s", Endpoints: []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)},
		SigningKeys: map[string]string{"5": "drone five secret", "6": "drone six secret"}}, pub)
	good, _ := bridge.ParseKey("drone five secret")
	bad, _ := bridge.ParseKey("a stolen drone")
	ep := gomavlib.EndpointUDPClient{Address: fmt.Sprintf("127.0.0.1:%d", port)}
	v5 := &dronesim.Vehicle{Sim: newSim(t, dronesim.Config{SystemID: 5, Key: good, WaitStreamRequest: true}), Endpoint: ep, TimeScale: 5}
	fly(t, v5)
	fly(t, &dronesim.Vehicle{Sim: newSim(t, dronesim.Config{SystemID: 6, Key: bad}), Endpoint: ep, TimeScale: 5})
	fly(t, &dronesim.Vehicle{Sim: newSim(t, dronesim.Config{SystemID: 6, Version: 1, Seed: 99}), Endpoint: ep, TimeScale: 5})
	testenv.Eventually(t, 15*time.Second, func() bool {
		_, ok := col.Latest(t, "s", "drone-5", drone.QLatitude)
		return ok && b.Stats().SigningRefused > 20
	}, "signed vehicle heard (it streams only after a signed request), others refused: %+v", b.Stats())
	if v5.StreamRequests() == 0 {
		t.Fatal("the signed vehicle obeyed no (signed) stream request")
	}
	if rs := col.Readings(t, "s", "drone-6"); len(rs) != 0 || len(col.Events(t, "s", "drone-6")) != 0 {
		t.Fatalf("refused vehicle published: %v", rs)
	}
}

// TestGCSForwarding: the bridge relays vehicle frames to a ground station and
// the station's commands to the vehicle.
func TestGCSForwarding(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	pub := bridgetest.NewPublisher(t, broker.URL())
	port, gcsPort := bridgetest.FreeUDPPort(t), bridgetest.FreeUDPPort(t)
	gcs := &gomavlib.Node{Endpoints: []gomavlib.EndpointConf{gomavlib.EndpointUDPServer{Address: fmt.Sprintf("127.0.0.1:%d", gcsPort)}},
		Dialect: ardupilotmega.Dialect, OutVersion: gomavlib.V2, OutSystemID: 255, HeartbeatDisable: true}
	if err := gcs.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer gcs.Close()
	b := startBridge(t, bridge.Config{Site: "s", Endpoints: []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)},
		GCSEndpoints: []string{fmt.Sprintf("udp-client:127.0.0.1:%d", gcsPort)}, NoStreamRequest: true}, pub)
	v := &dronesim.Vehicle{Sim: newSim(t, dronesim.Config{SystemID: 3}),
		Endpoint: gomavlib.EndpointUDPClient{Address: fmt.Sprintf("127.0.0.1:%d", port)}, TimeScale: 5}
	fly(t, v)
	deadline := time.After(15 * time.Second)
	positions, acked := 0, false
	for positions < 5 || !acked {
		select {
		case ev := <-gcs.Events():
			f, ok := ev.(*gomavlib.EventFrame)
			if !ok {
				continue
			}
			switch m := f.Message().(type) {
			case *ardupilotmega.MessageGlobalPositionInt:
				if f.SystemID() == 3 {
					positions++
					if positions == 1 {
						_ = gcs.WriteMessageTo(f.Channel, &ardupilotmega.MessageCommandLong{TargetSystem: 3, TargetComponent: 1,
							Command: common.MAV_CMD_SET_MESSAGE_INTERVAL, Param1: 33, Param2: 50000})
					}
				}
			case *ardupilotmega.MessageCommandAck:
				acked = acked || m.Command == common.MAV_CMD_SET_MESSAGE_INTERVAL && m.Result == common.MAV_RESULT_ACCEPTED
			}
		case <-deadline:
			t.Fatalf("gcs got %d positions, ack %v; stats %+v", positions, acked, b.Stats())
		}
	}
	if v.StreamRequests() != 1 || b.Stats().FromGCS == 0 || b.Stats().ToGCS == 0 {
		t.Fatalf("requests %d, stats %+v", v.StreamRequests(), b.Stats())
	}
}
