package bridge_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	bridge "github.com/cd06/smartdeal/firmware-bridge"
	"github.com/cd06/smartdeal/firmware-bridge/bridgetest"
)

// countingPublisher stands for the spool: it keeps nothing, counts everything.
type countingPublisher struct{ n, bytes atomic.Int64 }

func (p *countingPublisher) Publish(_ context.Context, _ string, payload []byte) error {
	p.n.Add(1)
	p.bytes.Add(int64(len(payload)))
	return nil
}

// vehicleFrames pre-encodes 256 frames (one sequence cycle) of a vehicle
// sending 50 messages/s: 1 HEARTBEAT, 10 GLOBAL_POSITION_INT, 20 ATTITUDE,
// 5 VFR_HUD, 5 GPS_RAW_INT, 5 SYS_STATUS, 4 MISSION_CURRENT per second.
func vehicleFrames(b *testing.B, sysid uint8) [][]byte {
	var second []message.Message
	second = append(second, &ardupilotmega.MessageHeartbeat{Type: 2, Autopilot: 3, BaseMode: 129, CustomMode: 3})
	for i := range 49 {
		var m message.Message
		switch {
		case i < 10:
			m = &ardupilotmega.MessageGlobalPositionInt{Lat: 436584000 + int32(i)*100, Lon: 71960000 + int32(sysid)*1000,
				Alt: 65000, RelativeAlt: 60000, Vx: 1200, Hdg: 9000}
		case i < 30:
			m = &ardupilotmega.MessageAttitude{Roll: 0.01, Pitch: -0.1, Yaw: 1.5}
		case i < 35:
			m = &ardupilotmega.MessageVfrHud{Groundspeed: 12, Heading: 90, Alt: 65}
		case i < 40:
			m = &ardupilotmega.MessageGpsRawInt{FixType: 3, SatellitesVisible: 14, Eph: 90}
		case i < 45:
			m = &ardupilotmega.MessageSysStatus{VoltageBattery: 12000, CurrentBattery: 1700, BatteryRemaining: 80}
		default:
			m = &ardupilotmega.MessageMissionCurrent{Seq: 4}
		}
		second = append(second, m)
	}
	enc := bridge.Encoder{SystemID: sysid, ComponentID: 1}
	out := make([][]byte, 256)
	for i := range out {
		fr, err := enc.Frame(second[i%len(second)], true, nil, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		w := &frame.Writer{ByteWriter: &buf}
		_ = w.Initialize()
		if err := w.Write(fr); err != nil {
			b.Fatal(err)
		}
		out[i] = buf.Bytes()
	}
	return out
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBridge10x50 measures the bridge receiving 10 vehicles × 50
// messages/s over UDP on loopback; each iteration is one second of traffic.
// It reports the process's CPU use as % of one core (senders included, so an
// upper bound for the bridge), the frames dropped (sent but not received,
// plus sequence gaps) and the messages handed to the publisher per second.
// Run: go test -run XXX -bench Bridge10x50 -benchtime 20x ./firmware-bridge/
func BenchmarkBridge10x50(b *testing.B) {
	for _, c := range []struct {
		name  string
		rates map[string]string
	}{
		{"senders-only", nil}, // baseline: the same datagrams to a socket nobody reads
		{"default-rates", nil},
		{"every-message", map[string]string{"position": "0s", "attitude": "0s", "gps": "0s", "battery": "0s", "mission": "0s", "status": "0s", "link": "0s"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			const vehicles, rate = 10, 50
			if c.name == "senders-only" {
				sink, err := net.ListenPacket("udp4", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				defer sink.Close()
				cpu, wall := sendLoad(b, sink.LocalAddr().String(), vehicles, rate, 0)
				b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu%")
				return
			}
			pub := &countingPublisher{}
			port := bridgetest.FreeUDPPort(b)
			br, err := bridge.New(bridge.Config{Site: "bench", Endpoints: []string{fmt.Sprintf("udp-server:127.0.0.1:%d", port)},
				Rates: c.rates, NoStreamRequest: true}, pub, nil)
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- br.Run(ctx) }()
			defer func() { cancel(); <-done }()
			<-br.Ready()
			var sent int
			cpu, wall := sendLoad(b, fmt.Sprintf("127.0.0.1:%d", port), vehicles, rate, 200*time.Millisecond, func(n int) { sent = n })
			b.StopTimer()
			// let the last datagrams in
			deadline := time.Now().Add(2 * time.Second)
			total := uint64(sent + vehicles*rate) // with the warm-up second
			for br.Stats().Frames < total && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			st := br.Stats()
			drops := int64(total) - int64(st.Frames) + int64(st.FramesLost)
			b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu%")
			b.ReportMetric(float64(drops), "drops")
			b.ReportMetric(float64(sent)/wall.Seconds(), "frames/s")
			b.ReportMetric(float64(pub.n.Load())/(wall.Seconds()+1), "published/s")
			if st.ParseErrors+st.ChecksumErrors+st.PublishDropped != 0 {
				b.Errorf("errors under load: %+v", st)
			}
		})
	}
}

// sendLoad sends one second of traffic of vehicles×rate frames per b.N
// iteration to addr, after a one-second warm-up and a pause, and returns the
// process CPU time and wall time of the measured part.
func sendLoad(b *testing.B, addr string, vehicles, rate int, pause time.Duration, sentOut ...func(int)) (cpu, wall time.Duration) {
	conns := make([]net.Conn, vehicles)
	frames := make([][][]byte, vehicles)
	for i := range conns {
		c, err := net.Dial("udp4", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
		frames[i] = vehicleFrames(b, uint8(i+1))
	}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	sent := 0
	send := func(k int) {
		for i, c := range conns {
			if _, err := c.Write(frames[i][k%256]); err != nil {
				b.Fatal(err)
			}
			sent++
		}
	}
	for k := range rate { // warm up: channels open, vehicles known
		<-tick.C
		send(k)
	}
	time.Sleep(pause)
	sent = 0
	b.ResetTimer()
	cpu0, wall0 := cpuTime(), time.Now()
	k := rate
	for range b.N {
		for range rate {
			<-tick.C
			send(k)
			k++
		}
	}
	wall, cpu = time.Since(wall0), cpuTime()-cpu0
	b.StopTimer()
	for _, f := range sentOut {
		f(sent)
	}
	return cpu, wall
}
