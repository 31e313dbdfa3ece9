package bridge_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	bridge "github.com/cd06/smartdeal/firmware-bridge"
	"github.com/cd06/smartdeal/firmware-bridge/bridgetest"
	"github.com/cd06/smartdeal/firmware-bridge/drone"
	"github.com/cd06/smartdeal/internal/testenv"
)

// rawSender sends frames serialised by bridgetest's independent encoder
// (not gomavlib) to a bridge over UDP, one datagram each.
type rawSender struct {
	t    *testing.T
	conn net.Conn
	seq  map[[2]uint8]uint8
}

func newRawSender(t *testing.T, port int) *rawSender {
	conn, err := net.Dial("udp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawSender{t: t, conn: conn, seq: map[[2]uint8]uint8{}}
}

func (s *rawSender) send(sys, comp uint8, id uint32, extra byte, payload []byte, v1 bool) {
	k := [2]uint8{sys, comp}
	r := bridgetest.Raw{Seq: s.seq[k], Sys: sys, Comp: comp, ID: id, CRCExtra: extra, Payload: payload}
	s.seq[k]++
	b := r.V2()
	if v1 {
		b = r.V1()
	}
	if _, err := s.conn.Write(b); err != nil {
		s.t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
}

// TestGCSBeforeHeartbeatAndRadioLive (issue 13, defect 1, live): a GCS that
// speaks before it beats and a radio that only sends RADIO_STATUS share the
// link with a drone. Only the drone is a vehicle: nothing is published for
// the other two, not even link_lost when they fall silent.
func TestGCSBeforeHeartbeatAndRadioLive(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	col := bridgetest.Collect(t, broker.URL(), "smartdeal/v1/#")
	pub := bridgetest.NewPublisher(t, broker.URL())
	port := bridgetest.FreeUDPPort(t)
	b := startBridge(t, bridge.Config{Site: "s", Endpoints: []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)},
		LinkTimeout: 500 * time.Millisecond, Rates: map[string]string{"position": "0s"}, NoStreamRequest: true}, pub)
	s := newRawSender(t, port)
	for i := range 5 {
		s.send(255, 190, bridgetest.IDStatustext, bridgetest.CRCStatustext, bridgetest.StatustextPayload(6, "Mission Planner"), false)
		s.send(255, 190, bridgetest.IDGlobalPositionInt, bridgetest.CRCGlobalPositionInt,
			bridgetest.GlobalPositionIntPayload(0, 436000000, 72000000, 10000, 0, 0, 0, 0, 0), false)
		s.send(51, 68, bridgetest.IDRadioStatus, bridgetest.CRCRadioStatus, bridgetest.RadioStatusPayload(200, 190, 95, 30, 31, 0, 0), true)
		s.send(3, 1, bridgetest.IDHeartbeat, bridgetest.CRCHeartbeat, bridgetest.HeartbeatPayload(2, 3, 129, 3, 4), false)
		s.send(3, 1, bridgetest.IDGlobalPositionInt, bridgetest.CRCGlobalPositionInt,
			bridgetest.GlobalPositionIntPayload(uint32(i), 437000000+int32(i), 72500000, 150000, 60000, 0, 0, 0, 0), false)
	}
	s.send(255, 190, bridgetest.IDHeartbeat, bridgetest.CRCHeartbeat, bridgetest.HeartbeatPayload(6, 8, 0, 0, 4), false)
	testenv.Eventually(t, 5*time.Second, func() bool {
		return len(col.Readings(t, "s", "drone-3")) >= 5
	}, "the drone's positions")
	// keep the drone alive while the GCS and the radio stay quiet past the link timeout
	for i := range 10 {
		s.send(3, 1, bridgetest.IDHeartbeat, bridgetest.CRCHeartbeat, bridgetest.HeartbeatPayload(2, 3, 129, 3, 4), false)
		_ = i
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	for _, m := range col.Messages("") {
		if m.Topic != "smartdeal/v1/s/drone-3/telemetry" && m.Topic != "smartdeal/v1/s/drone-3/event" {
			t.Fatalf("published for a non-vehicle: %s %s", m.Topic, m.Payload)
		}
	}
	if vs := b.Vehicles(context.Background()); len(vs) != 1 || vs[0].SystemID != 3 {
		t.Fatalf("vehicles %+v: want only system 3", vs)
	}
	if n := len(col.EventsOfType(t, "s", "drone-3", drone.EventVehicleSeen)); n != 1 {
		t.Fatalf("%d vehicle_seen for the drone", n)
	}
}

// TestMAVLink1ExtensionBytesLive (defect 7, live): SYS_STATUS in MAVLink 1
// frames of 43 bytes and BATTERY_STATUS of 54 are read, and a lossless link
// is reported as lossless.
func TestMAVLink1ExtensionBytesLive(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	col := bridgetest.Collect(t, broker.URL(), "smartdeal/v1/#")
	pub := bridgetest.NewPublisher(t, broker.URL())
	port := bridgetest.FreeUDPPort(t)
	b := startBridge(t, bridge.Config{Site: "s", Endpoints: []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)},
		Rates: map[string]string{"battery": "0s", "link": "200ms"}, NoStreamRequest: true}, pub)
	s := newRawSender(t, port)
	for i := range 20 {
		s.send(6, 1, bridgetest.IDHeartbeat, bridgetest.CRCHeartbeat, bridgetest.HeartbeatPayload(2, 3, 129, 3, 4), true)
		s.send(6, 1, bridgetest.IDSysStatus, bridgetest.CRCSysStatus, bridgetest.SysStatusPayload(16200, 1200, int8(95-i), true), true)
		s.send(6, 1, bridgetest.IDBatteryStatus, bridgetest.CRCBatteryStatus,
			bridgetest.BatteryStatusPayload(0, []uint16{4050, 4050, 4050, 4050}, 2500, 1200, int8(95-i), true), true)
		time.Sleep(20 * time.Millisecond)
	}
	testenv.Eventually(t, 5*time.Second, func() bool {
		r, ok := col.Latest(t, "s", "drone-6", drone.QBatteryRemaining)
		return ok && r.Number == 76
	}, "the last battery_remaining")
	if v, ok := col.Latest(t, "s", "drone-6", drone.QBatteryVoltage); !ok || v.Number != 16.2 {
		t.Fatalf("voltage %+v", v)
	}
	if c, ok := col.Latest(t, "s", "drone-6", drone.BatteryCellQuantity(4)); !ok || c.Number != 4.05 {
		t.Fatalf("fourth cell %+v", c)
	}
	st := b.Stats()
	if st.DecodeErrors != 0 || st.FramesLost != 0 {
		t.Fatalf("stats %+v: want no decode error, no frame lost", st)
	}
	for _, r := range col.Readings(t, "s", "drone-6") {
		if r.Quantity == drone.QLinkQuality && r.Number != 1 {
			t.Fatalf("link quality %v on a lossless link", r.Number)
		}
	}
}

// TestRadioStatusLive (issue 13, live): a SiK radio's RADIO_STATUS from its
// own system id (51) is published as the link of the only vehicle on its
// channel, never under drone-51; once a second vehicle shares the channel,
// the radio's status is nobody's.
func TestRadioStatusLive(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	col := bridgetest.Collect(t, broker.URL(), "smartdeal/v1/#")
	pub := bridgetest.NewPublisher(t, broker.URL())
	port := bridgetest.FreeUDPPort(t)
	startBridge(t, bridge.Config{Site: "s", Endpoints: []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)},
		Rates: map[string]string{"radio": "0s"}, NoStreamRequest: true}, pub)
	s := newRawSender(t, port)
	radio := func(rssi uint8) {
		s.send(51, 68, bridgetest.IDRadioStatus, bridgetest.CRCRadioStatus, bridgetest.RadioStatusPayload(rssi, 190, 95, 30, 31, 12, 4), true)
	}
	radio(77) // no vehicle yet: nobody's
	for range 5 {
		s.send(3, 1, bridgetest.IDHeartbeat, bridgetest.CRCHeartbeat, bridgetest.HeartbeatPayload(2, 3, 129, 3, 4), false)
		radio(200)
	}
	testenv.Eventually(t, 5*time.Second, func() bool {
		_, ok := col.Latest(t, "s", "drone-3", drone.QRadioFixed)
		return ok
	}, "the radio's status under the drone")
	for q, v := range map[string]float64{drone.QRadioRSSI: 200, drone.QRadioRemoteRSSI: 190, drone.QRadioNoise: 30,
		drone.QRadioRemoteNoise: 31, drone.QRadioRxErrors: 12, drone.QRadioFixed: 4} {
		if r, ok := col.Latest(t, "s", "drone-3", q); !ok || r.Number != v {
			t.Fatalf("%s %+v, want %v", q, r, v)
		}
	}
	// a second vehicle on the same channel: the radio serves which? neither
	for range 5 {
		s.send(4, 1, bridgetest.IDHeartbeat, bridgetest.CRCHeartbeat, bridgetest.HeartbeatPayload(2, 3, 129, 3, 4), false)
		s.send(3, 1, bridgetest.IDHeartbeat, bridgetest.CRCHeartbeat, bridgetest.HeartbeatPayload(2, 3, 129, 3, 4), false)
		radio(111)
	}
	testenv.Eventually(t, 5*time.Second, func() bool {
		return len(col.EventsOfType(t, "s", "drone-4", drone.EventVehicleSeen)) == 1
	}, "the second vehicle")
	time.Sleep(300 * time.Millisecond)
	for _, m := range col.Messages("") {
		if m.Topic != "smartdeal/v1/s/drone-3/telemetry" && m.Topic != "smartdeal/v1/s/drone-3/event" &&
			m.Topic != "smartdeal/v1/s/drone-4/telemetry" && m.Topic != "smartdeal/v1/s/drone-4/event" {
			t.Fatalf("published for a non-vehicle: %s %s", m.Topic, m.Payload)
		}
	}
	for _, dev := range []string{"drone-3", "drone-4"} {
		for _, r := range col.Readings(t, "s", dev) {
			if r.Quantity == drone.QRadioRSSI && r.Number != 200 {
				t.Fatalf("%s: rssi %v attributed with two vehicles on the channel (or before any)", dev, r.Number)
			}
		}
	}
}
