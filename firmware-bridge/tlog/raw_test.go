package tlog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/firmware-bridge/bridgetest"
	"github.com/cd06/smartdeal/firmware-bridge/drone"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
	"github.com/cd06/smartdeal/firmware-bridge/tlog"
)

// rawLog builds a .tlog from frames serialised by hand (bridgetest's
// independent encoder), with a sequence number per system and component.
type rawLog struct {
	bytes.Buffer
	seq    map[[2]uint8]uint8
	stream bool // no tlog timestamps: a raw MAVLink stream
}

func (l *rawLog) add(at time.Time, sys, comp uint8, id uint32, extra byte, payload []byte, v1 bool) {
	if l.seq == nil {
		l.seq = map[[2]uint8]uint8{}
	}
	k := [2]uint8{sys, comp}
	r := bridgetest.Raw{Seq: l.seq[k], Sys: sys, Comp: comp, ID: id, CRCExtra: extra, Payload: payload}
	l.seq[k]++
	fr := r.V2()
	if v1 {
		fr = r.V1()
	}
	if l.stream {
		l.Write(fr)
		return
	}
	l.Write(bridgetest.TlogEntry(at, fr))
}

func (l *rawLog) heartbeat(at time.Time, sys uint8, v1 bool) {
	// ArduCopter quadrotor, armed, GUIDED
	l.add(at, sys, 1, bridgetest.IDHeartbeat, bridgetest.CRCHeartbeat, bridgetest.HeartbeatPayload(2, 3, 129, 4, 4), v1)
}

func (l *rawLog) position(at time.Time, sys uint8, lat float64, v1 bool) {
	l.add(at, sys, 1, bridgetest.IDGlobalPositionInt, bridgetest.CRCGlobalPositionInt,
		bridgetest.GlobalPositionIntPayload(1000, int32(lat*1e7), 72600000, 120000, 50000, 300, 400, -100, 9000), v1)
}

func byQuantity(rs []smartdeal.Reading, device, q string) []smartdeal.Reading {
	var out []smartdeal.Reading
	for _, r := range rs {
		if r.Device == device && r.Quantity == q {
			out = append(out, r)
		}
	}
	return out
}

// TestGCSAndRadioAreNotVehicles (issue 13, defect 1): a ground station that
// sends STATUSTEXT and its own position before its first heartbeat, and a
// SiK radio that only ever sends RADIO_STATUS from its own system id, are
// not vehicles: no readings, no events (no statustext, no link_lost), and
// only the autopilot is reported as a vehicle.
func TestGCSAndRadioAreNotVehicles(t *testing.T) {
	var l rawLog
	for i := range 30 {
		at := start.Add(time.Duration(i) * time.Second)
		l.heartbeat(at, 1, false)
		l.position(at, 1, 43.6+float64(i)*1e-4, false)
		if i < 10 || i > 20 { // the radio is quiet 10 s: a "link_lost" if it were a vehicle
			l.add(at, 51, 68, bridgetest.IDRadioStatus, bridgetest.CRCRadioStatus, bridgetest.RadioStatusPayload(180, 170, 90, 40, 38, 0, 0), false)
		}
		if i < 3 { // Mission Planner speaks before it beats
			l.add(at, 255, 190, bridgetest.IDStatustext, bridgetest.CRCStatustext, bridgetest.StatustextPayload(6, "GCS connected"), false)
			l.add(at, 255, 190, bridgetest.IDGlobalPositionInt, bridgetest.CRCGlobalPositionInt,
				bridgetest.GlobalPositionIntPayload(0, 436000000, 72000000, 10000, 0, 0, 0, 0, 0), false)
		} else if i < 12 {
			l.add(at, 255, 190, bridgetest.IDHeartbeat, bridgetest.CRCHeartbeat, bridgetest.HeartbeatPayload(6, 8, 0, 0, 4), false)
		}
	}
	var events []drone.Event
	rs, st, err := tlog.Import(context.Background(), bytes.NewReader(l.Bytes()), tlog.Options{Site: "nice",
		OnEvent: func(e drone.Event) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Device != "drone-1" {
			t.Fatalf("a reading of a non-vehicle: %+v", r)
		}
	}
	for _, e := range events {
		if e.SystemID != 1 {
			t.Fatalf("an event of a non-vehicle: %+v", e)
		}
	}
	if len(byQuantity(rs, "drone-1", drone.QLatitude)) != 30 {
		t.Fatalf("%d latitudes of the drone, want 30", len(byQuantity(rs, "drone-1", drone.QLatitude)))
	}
	if len(st.Vehicles) != 1 || st.Vehicles[0] != 1 || len(st.Systems) != 3 {
		t.Fatalf("vehicles %v systems %v: want vehicle 1 among systems 1, 51, 255", st.Vehicles, st.Systems)
	}
}

// TestMAVLink1ExtensionBytes (defect 7): a third-party sender serialises
// SYS_STATUS with 43 bytes and BATTERY_STATUS with 54 in MAVLink 1 frames.
// The base fields are read and no frame is lost.
func TestMAVLink1ExtensionBytes(t *testing.T) {
	var l rawLog
	for i := range 10 {
		at := start.Add(time.Duration(i) * time.Second)
		l.heartbeat(at, 4, true)
		l.add(at, 4, 1, bridgetest.IDSysStatus, bridgetest.CRCSysStatus, bridgetest.SysStatusPayload(12400, 1650, int8(90-i), true), true)
		l.add(at, 4, 1, bridgetest.IDBatteryStatus, bridgetest.CRCBatteryStatus,
			bridgetest.BatteryStatusPayload(0, []uint16{4130, 4120, 4150}, 2710, 1650, int8(90-i), true), true)
	}
	rs, st, err := tlog.Import(context.Background(), bytes.NewReader(l.Bytes()), tlog.Options{Site: "nice"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Undecodable != 0 || st.Frames != 30 || st.MAVLink1 != 30 {
		t.Fatalf("stats %+v: want 30 MAVLink 1 frames, none undecodable", st)
	}
	v := byQuantity(rs, "drone-4", drone.QBatteryVoltage)
	rem := byQuantity(rs, "drone-4", drone.QBatteryRemaining)
	if len(v) != 10 || v[0].Number != 12.4 || v[0].Unit != "V" || len(rem) != 10 || rem[9].Number != 81 {
		t.Fatalf("voltage %v remaining %v: want 10 each, 12.4 V, last 81 %%", v, rem)
	}
	if c := byQuantity(rs, "drone-4", drone.BatteryCellQuantity(3)); len(c) != 10 || c[0].Number != 4.15 {
		t.Fatalf("third cell %v", c)
	}
	for _, r := range byQuantity(rs, "drone-4", drone.QLinkQuality) {
		if r.Number != 1 {
			t.Fatalf("link quality %v on a lossless link", r.Number)
		}
	}
}

// TestBatteryStatus (defect 8): BATTERY_STATUS gives the cells, the
// temperature (INT16_MAX is "no data") and, where SYS_STATUS has none,
// current and remaining.
func TestBatteryStatus(t *testing.T) {
	var l rawLog
	for i := range 6 {
		at := start.Add(time.Duration(i) * time.Second)
		l.heartbeat(at, 2, false)
		// PX4 without a current sensor in SYS_STATUS: current -1, remaining -1
		l.add(at, 2, 1, bridgetest.IDSysStatus, bridgetest.CRCSysStatus, bridgetest.SysStatusPayload(15600, -1, -1, true), false)
		temp := int16(math.MaxInt16)
		if i >= 3 {
			temp = 3125
		}
		l.add(at.Add(100*time.Millisecond), 2, 1, bridgetest.IDBatteryStatus, bridgetest.CRCBatteryStatus,
			bridgetest.BatteryStatusPayload(0, []uint16{3900, 3910, 3890, 3900}, temp, 2150, int8(70-i), true), false)
	}
	rs, _, err := tlog.Import(context.Background(), bytes.NewReader(l.Bytes()), tlog.Options{Site: "nice"})
	if err != nil {
		t.Fatal(err)
	}
	cur := byQuantity(rs, "drone-2", drone.QBatteryCurrent)
	rem := byQuantity(rs, "drone-2", drone.QBatteryRemaining)
	if len(cur) == 0 || cur[len(cur)-1].Number != 21.5 || cur[0].Unit != "A" {
		t.Fatalf("current %v: want 21.5 A from BATTERY_STATUS", cur)
	}
	if len(rem) == 0 || rem[len(rem)-1].Number != 65 || rem[0].Unit != "%EL" {
		t.Fatalf("remaining %v: want 65 %% from BATTERY_STATUS", rem)
	}
	if v := byQuantity(rs, "drone-2", drone.QBatteryVoltage); len(v) == 0 || v[len(v)-1].Number != 15.6 {
		t.Fatalf("voltage %v: SYS_STATUS's 15.6 V", v)
	}
	for n := 1; n <= 4; n++ {
		c := byQuantity(rs, "drone-2", drone.BatteryCellQuantity(n))
		if len(c) == 0 || c[0].Unit != "V" || c[0].Number < 3.8 || c[0].Number > 4 {
			t.Fatalf("cell %d: %v", n, c)
		}
	}
	if c := byQuantity(rs, "drone-2", drone.BatteryCellQuantity(5)); len(c) != 0 {
		t.Fatalf("a fifth cell from UINT16_MAX: %v", c)
	}
	temps := byQuantity(rs, "drone-2", drone.QBatteryTemperature)
	if len(temps) != 3 || temps[0].Number != 31.25 || temps[0].Unit != "Cel" || !temps[0].Time.Equal(start.Add(3*time.Second+100*time.Millisecond)) {
		t.Fatalf("temperatures %v: want 3 readings of 31.25 Cel, none for INT16_MAX", temps)
	}
}

// TestRawStreamRefused (defect 4): a raw MAVLink stream (what a telemetry
// radio or `mavproxy --master` writes, without tlog timestamps) is not a
// tlog: refused, not imported with times made of frame bytes.
func TestRawStreamRefused(t *testing.T) {
	l := rawLog{stream: true}
	for range 2000 {
		l.heartbeat(start, 1, true)
		// vy 1024 cm/s, vz 25667 cm/s, hdg 0: the last 6 payload bytes and the
		// CRC read as a big-endian timestamp in 2008, right before a magic byte
		l.add(start, 1, 1, bridgetest.IDGlobalPositionInt, bridgetest.CRCGlobalPositionInt,
			bridgetest.GlobalPositionIntPayload(1000, 436000000, 72600000, 120000, 50000, 300, 0x0400, 0x6443, 0), true)
		l.add(start, 1, 1, bridgetest.IDSysStatus, bridgetest.CRCSysStatus, bridgetest.SysStatusPayload(12000, 500, 80, false), true)
	}
	rs, st, err := tlog.Import(context.Background(), bytes.NewReader(l.Bytes()), tlog.Options{Site: "nice"})
	if !errors.Is(err, tlog.ErrNotTlog) || len(rs) != 0 {
		t.Fatalf("err %v, %d readings (stats %+v): want ErrNotTlog and nothing", err, len(rs), st)
	}
}

// TestBinaryWithMagicBytesRefused (defect 4): a file whose bytes happen to
// form "entries" — plausible timestamps, a magic byte, a length — of message
// ids no dialect knows (their CRC cannot be checked) is not a flight log.
func TestBinaryWithMagicBytesRefused(t *testing.T) {
	var b bytes.Buffer
	for i := range 500 {
		at := start.Add(time.Duration(i) * time.Millisecond)
		fr := bridgetest.Raw{Seq: uint8(i), Sys: uint8(i * 7), Comp: 3, ID: 0xABCD00 + uint32(i%200), CRCExtra: byte(i), Payload: []byte("firmware blob")}.V2()
		b.Write(bridgetest.TlogEntry(at, fr))
		b.WriteString("\x00\x13\x37")
	}
	rs, st, err := tlog.Import(context.Background(), bytes.NewReader(b.Bytes()), tlog.Options{Site: "nice"})
	if err == nil || len(rs) != 0 || st.Frames != 0 {
		t.Fatalf("err %v, %d readings, %d frames: a binary was taken for a log", err, len(rs), st.Frames)
	}
}

// TestCutLogCountsWhatWasRead (defect 5): a cut log reports the truncation
// with its offset, and stats.readings is the number of readings returned.
func TestCutLogCountsWhatWasRead(t *testing.T) {
	data, _, _ := flight(t, dronesim.Config{SystemID: 1}, time.Minute)
	cut := len(data)*2/3 + 5
	rs, st, err := tlog.Import(context.Background(), bytes.NewReader(data[:cut]), tlog.Options{Site: "nice"})
	var te *tlog.Error
	if !errors.As(err, &te) || !errors.Is(err, tlog.ErrTruncated) {
		t.Fatalf("err %v, want a truncation", err)
	}
	if len(rs) == 0 || st.Readings != len(rs) {
		t.Fatalf("stats.readings %d for %d readings returned", st.Readings, len(rs))
	}
	if st.Truncated == nil || st.Truncated.Offset != te.Offset || st.Truncated.Offset > int64(cut) || st.Truncated.Offset < int64(cut)-300 {
		t.Fatalf("truncation %+v, error offset %d, cut at %d", st.Truncated, te.Offset, cut)
	}
}

// TestSystemsAreNumbers (defect 6): stats.systems is a JSON list of numbers.
func TestSystemsAreNumbers(t *testing.T) {
	var l rawLog
	l.heartbeat(start, 1, false)
	l.heartbeat(start, 2, false)
	l.position(start.Add(time.Second), 2, 43.7, false)
	_, st, err := tlog.Import(context.Background(), bytes.NewReader(l.Bytes()), tlog.Options{Site: "nice"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(st)
	if !strings.Contains(string(b), `"systems":[1,2]`) || !strings.Contains(string(b), `"vehicles":[1,2]`) {
		t.Fatalf("stats JSON %s", b)
	}
}

// TestEveryFixImported (defect 9): an upload keeps every position of the
// log (the simulator sends GLOBAL_POSITION_INT at 10 Hz), not one a second.
func TestEveryFixImported(t *testing.T) {
	data, entries, _ := flight(t, dronesim.Config{SystemID: 1}, time.Minute)
	fixes := 0
	for _, e := range entries {
		if e.Message.GetID() == 33 {
			fixes++
		}
	}
	rs, _, err := tlog.Import(context.Background(), bytes.NewReader(data), tlog.Options{Site: "nice"})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(byQuantity(rs, "drone-1", drone.QLongitude)); got < fixes*9/10 || fixes < 500 {
		t.Fatalf("%d longitudes for %d GLOBAL_POSITION_INT", got, fixes)
	}
}

// TestSimulatorBatteryCells: the simulator's BATTERY_STATUS (a 3S pack)
// gives three cells and a temperature; without a battery monitor, none.
func TestSimulatorBatteryCells(t *testing.T) {
	data, _, _ := flight(t, dronesim.Config{SystemID: 1}, 20*time.Second)
	rs, _, err := tlog.Import(context.Background(), bytes.NewReader(data), tlog.Options{Site: "nice"})
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 3; n++ {
		c := byQuantity(rs, "drone-1", drone.BatteryCellQuantity(n))
		if len(c) == 0 || c[0].Unit != "V" || c[0].Number < 3.5 || c[0].Number > 4.2 {
			t.Fatalf("cell %d: %v", n, c)
		}
	}
	if c := byQuantity(rs, "drone-1", drone.BatteryCellQuantity(4)); len(c) != 0 {
		t.Fatalf("a fourth cell: %v", c)
	}
	if temp := byQuantity(rs, "drone-1", drone.QBatteryTemperature); len(temp) == 0 || temp[0].Number != 25 {
		t.Fatalf("temperature %v", temp)
	}
	data, _, _ = flight(t, dronesim.Config{SystemID: 1, NoBattery: true}, 10*time.Second)
	rs, _, err = tlog.Import(context.Background(), bytes.NewReader(data), tlog.Options{Site: "nice"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if strings.HasPrefix(r.Quantity, "battery_") {
			t.Fatalf("a battery reading without a monitor: %+v", r)
		}
	}
}

// TestRadioStatusIsTheVehicleLink (issue 13): a SiK radio's RADIO_STATUS,
// from its own system id, is published under the vehicle it serves, the only
// vehicle of the log; never under the radio's id, not before the vehicle is
// known, and nobody's when the log has two vehicles. UINT8_MAX is "unknown".
func TestRadioStatusIsTheVehicleLink(t *testing.T) {
	var l rawLog
	radio := func(at time.Time, rssi uint8) {
		l.add(at, 51, 68, bridgetest.IDRadioStatus, bridgetest.CRCRadioStatus,
			bridgetest.RadioStatusPayload(rssi, 170, 90, 40, 255, 3, 7), false)
	}
	radio(start, 99) // before any vehicle: nobody's
	for i := range 10 {
		at := start.Add(time.Duration(i+1) * time.Second)
		l.heartbeat(at, 1, false)
		radio(at, uint8(180+i))
	}
	rs, _, err := tlog.Import(context.Background(), bytes.NewReader(l.Bytes()), tlog.Options{Site: "nice"})
	if err != nil {
		t.Fatal(err)
	}
	rssi := byQuantity(rs, "drone-1", drone.QRadioRSSI)
	if len(rssi) != 10 || rssi[0].Number != 180 || rssi[9].Number != 189 || !rssi[0].Time.Equal(start.Add(time.Second)) {
		t.Fatalf("rssi %+v: want 180…189 from the vehicle's first heartbeat on", rssi)
	}
	want := map[string]float64{drone.QRadioRemoteRSSI: 170, drone.QRadioNoise: 40, drone.QRadioRxErrors: 3, drone.QRadioFixed: 7}
	for q, v := range want {
		got := byQuantity(rs, "drone-1", q)
		if len(got) != 10 || got[0].Number != v {
			t.Fatalf("%s %+v: want 10 of %v", q, got, v)
		}
	}
	if got := byQuantity(rs, "drone-1", drone.QRadioRemoteNoise); len(got) != 0 {
		t.Fatalf("remote noise 255 (unknown) published: %+v", got)
	}
	for _, r := range rs {
		if r.Device != "drone-1" {
			t.Fatalf("a reading of a non-vehicle: %+v", r)
		}
	}

	// two vehicles behind one radio link: whose link it is cannot be told
	var two rawLog
	for i := range 5 {
		at := start.Add(time.Duration(i) * time.Second)
		two.heartbeat(at, 1, false)
		two.heartbeat(at, 2, false)
		two.add(at, 51, 68, bridgetest.IDRadioStatus, bridgetest.CRCRadioStatus,
			bridgetest.RadioStatusPayload(200, 170, 90, 40, 38, 0, 0), false)
	}
	rs, _, err = tlog.Import(context.Background(), bytes.NewReader(two.Bytes()), tlog.Options{Site: "nice"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if strings.HasPrefix(r.Quantity, "radio_") {
			t.Fatalf("a radio reading with two vehicles: %+v", r)
		}
	}
}
