package bridge_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	bridge "github.com/cd06/smartdeal/firmware-bridge"
	"github.com/cd06/smartdeal/firmware-bridge/bridgetest"
	"github.com/cd06/smartdeal/firmware-bridge/drone"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestLinkLossAndReturn fades a vehicle's link through a relay: a few lost
// datagrams are counted exactly from sequence gaps; a long cut gives
// link_lost, then link_regained, and the bridge goes on.
func TestLinkLossAndReturn(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	col := bridgetest.Collect(t, broker.URL(), "smartdeal/v1/#")
	pub := bridgetest.NewPublisher(t, broker.URL())
	port := bridgetest.FreeUDPPort(t)
	b := startBridge(t, bridge.Config{Site: "s", Endpoints: []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)},
		// 20+ frames/s: dropping 7 stays well under the link timeout
		LinkTimeout: time.Second, Rates: map[string]string{"link": "300ms", "position": "100ms", "attitude": "100ms"}}, pub)
	relay := bridgetest.NewRelay(t, fmt.Sprintf("127.0.0.1:%d", port))
	v := &dronesim.Vehicle{Sim: newSim(t, dronesim.Config{SystemID: 1}),
		Endpoint: gomavlib.EndpointUDPClient{Address: relay.Addr}}
	fly(t, v)
	vehicle := func() drone.State {
		vs := b.Vehicles(context.Background())
		if len(vs) != 1 {
			return drone.State{}
		}
		return vs[0]
	}
	testenv.Eventually(t, 10*time.Second, func() bool { return vehicle().FramesReceived > 30 }, "frames from the vehicle")

	relay.Drop(7)
	testenv.Eventually(t, 5*time.Second, func() bool { return relay.Dropped() == 7 && vehicle().FramesReceived > 60 }, "7 datagrams dropped")
	if st := vehicle(); st.FramesLost != 7 || b.Stats().FramesLost != 7 || !st.LinkUp {
		t.Fatalf("frames lost %d (stats %d), link up %v: want exactly 7", st.FramesLost, b.Stats().FramesLost, st.LinkUp)
	}
	testenv.Eventually(t, 5*time.Second, func() bool {
		for _, r := range col.Readings(t, "s", "drone-1") {
			if r.Quantity == drone.QLinkQuality && r.Unit == "/" && r.Number < 1 && r.Number > 0 {
				return true
			}
		}
		return false
	}, "a link_quality reading below 1 for the window with losses")

	relay.Pause()
	testenv.Eventually(t, 5*time.Second, func() bool {
		return len(col.EventsOfType(t, "s", "drone-1", drone.EventLinkLost)) == 1 && !vehicle().LinkUp
	}, "link_lost event")
	time.Sleep(500 * time.Millisecond) // stay cut a while longer
	received := vehicle().FramesReceived
	relay.Resume()
	testenv.Eventually(t, 5*time.Second, func() bool {
		return len(col.EventsOfType(t, "s", "drone-1", drone.EventLinkRegained)) == 1 && vehicle().FramesReceived > received+20
	}, "link_regained event")
	ev := col.EventsOfType(t, "s", "drone-1", drone.EventLinkRegained)[0]
	if data, _ := ev["data"].(map[string]any); data["down_s"].(float64) < 1 || ev["severity"] != "info" {
		t.Fatalf("link_regained %v", ev)
	}
	lost := col.EventsOfType(t, "s", "drone-1", drone.EventLinkLost)[0]
	if lost["severity"] != "warning" || lost["device"] != "drone-1" {
		t.Fatalf("link_lost %v", lost)
	}
	// an outage is reported by the events, not counted as a sequence gap
	// (sequence numbers wrap every 256 frames): the count is still exact
	if st := vehicle(); st.FramesLost != 7 {
		t.Fatalf("frames lost %d after the outage, want 7", st.FramesLost)
	}
}

// rawFrame encodes a frame as it would travel in a datagram.
func rawFrame(t *testing.T, fr frame.Frame) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := &frame.Writer{ByteWriter: &buf}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(fr); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBadFramesDroppedAndCounted sends corrupted, truncated, unknown and
// undecodable frames between good ones: each is dropped and counted, and the
// good frames after them still become readings.
func TestBadFramesDroppedAndCounted(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	col := bridgetest.Collect(t, broker.URL(), "smartdeal/v1/#")
	pub := bridgetest.NewPublisher(t, broker.URL())
	port := bridgetest.FreeUDPPort(t)
	b := startBridge(t, bridge.Config{Site: "s", Endpoints: []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)},
		Rates: map[string]string{"position": "0s"}, NoStreamRequest: true}, pub)
	conn, err := net.Dial("udp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	enc := &bridge.Encoder{SystemID: 8, ComponentID: 1}
	now := time.Now()
	mk := func(m message.Message, v2 bool) []byte {
		fr, err := enc.Frame(m, v2, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		return rawFrame(t, fr)
	}
	pos := func(lat float64) message.Message {
		return &ardupilotmega.MessageGlobalPositionInt{Lat: int32(lat * 1e7), Lon: 71960000, Alt: 70000, RelativeAlt: 65000, Hdg: 18000}
	}
	send := func(b []byte) {
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// the bridge's UDP server opens a channel on the first datagram: start clean
	send(mk(&ardupilotmega.MessageHeartbeat{Type: 2, Autopilot: 3, BaseMode: 1, CustomMode: 5}, true)) // seq 0
	testenv.Eventually(t, 5*time.Second, func() bool { return len(b.Vehicles(context.Background())) == 1 }, "vehicle seen")
	send(mk(pos(43.1), true)) // seq 1: good

	badCRC := mk(pos(43.2), true) // seq 2
	badCRC[len(badCRC)-1] ^= 0x55
	send(badCRC)
	trunc := mk(pos(43.3), true) // seq 3
	send(trunc[:len(trunc)/2])
	send([]byte("hello, not mavlink"))
	unknown := mk(pos(43.4), true) // seq 4
	unknown[8] = 0x7f              // message id 0x7f21: in no dialect
	send(unknown)
	rw := &dialect.ReadWriter{Dialect: ardupilotmega.Dialect}
	if err := rw.Initialize(); err != nil {
		t.Fatal(err)
	}
	short := &frame.V1Frame{SequenceNumber: 5, SystemID: 8, ComponentID: 1,
		Message: &message.MessageRaw{ID: 33, Payload: make([]byte, 10)}} // seq 5: right CRC, wrong size
	short.Checksum = short.GenerateChecksum(rw.GetMessage(33).CRCExtra())
	send(rawFrame(t, short))
	enc2 := &bridge.Encoder{SystemID: 8, ComponentID: 1}
	for range 6 { // resume the sequence after 5
		_, _ = enc2.Frame(pos(0), true, nil, now)
	}
	fr, _ := enc2.Frame(pos(43.5), true, nil, now) // seq 6: good
	send(rawFrame(t, fr))

	testenv.Eventually(t, 5*time.Second, func() bool {
		r, ok := col.Latest(t, "s", "drone-8", drone.QLatitude)
		return ok && r.Number == 43.5
	}, "the good frame after the bad ones arrives")
	st := b.Stats()
	if st.ChecksumErrors != 1 || st.UnknownMessages != 1 || st.DecodeErrors != 1 || st.ParseErrors < 2 {
		t.Fatalf("stats %+v: want 1 checksum, 1 unknown, 1 decode, ≥2 parse errors", st)
	}
	for _, r := range col.Readings(t, "s", "drone-8") {
		if r.Quantity == drone.QLatitude && r.Number != 43.1 && r.Number != 43.5 {
			t.Fatalf("a bad frame became a reading: %+v", r)
		}
	}
	// seq 2 (bad CRC), 3 (truncated) and 5 (undecodable) never counted as received
	if vs := b.Vehicles(context.Background()); vs[0].FramesLost != 3 || vs[0].FramesReceived != 4 {
		t.Fatalf("lost %d received %d, want 3 and 4", vs[0].FramesLost, vs[0].FramesReceived)
	}
}

// TestStreamRequestRetried: the first stream requests are lost on the way to
// a vehicle that streams only when asked; the bridge asks again.
func TestStreamRequestRetried(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	col := bridgetest.Collect(t, broker.URL(), "smartdeal/v1/#")
	pub := bridgetest.NewPublisher(t, broker.URL())
	port := bridgetest.FreeUDPPort(t)
	b := startBridge(t, bridge.Config{Site: "s", Endpoints: []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)},
		StreamRetry: time.Second}, pub)
	relay := bridgetest.NewRelay(t, fmt.Sprintf("127.0.0.1:%d", port))
	relay.Mute(true)
	v := &dronesim.Vehicle{Sim: newSim(t, dronesim.Config{SystemID: 2, WaitStreamRequest: true}),
		Endpoint: gomavlib.EndpointUDPClient{Address: relay.Addr}}
	fly(t, v)
	testenv.Eventually(t, 5*time.Second, func() bool { return b.Stats().StreamRequests > 0 }, "first stream request sent")
	time.Sleep(1500 * time.Millisecond)
	if v.StreamRequests() != 0 {
		t.Fatal("a request got through the muted relay")
	}
	if _, ok := col.Latest(t, "s", "drone-2", drone.QLatitude); ok {
		t.Fatal("positions without any request")
	}
	relay.Mute(false)
	testenv.Eventually(t, 10*time.Second, func() bool {
		_, ok := col.Latest(t, "s", "drone-2", drone.QLatitude)
		return ok && v.StreamRequests() > 0
	}, "positions after the retried request")
}
