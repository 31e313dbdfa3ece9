package bridge_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/cd06/smartdeal"
	bridge "github.com/cd06/smartdeal/firmware-bridge"
	"github.com/cd06/smartdeal/firmware-bridge/drone"
)

var t0 = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

type feeder struct {
	tr  *bridge.Tracker
	enc map[uint8]*bridge.Encoder
	out bridge.Output
}

func newFeeder(cfg bridge.TrackerConfig) *feeder {
	if cfg.Site == "" {
		cfg.Site = "s"
	}
	return &feeder{tr: bridge.NewTracker(cfg), enc: map[uint8]*bridge.Encoder{}}
}

// feed sends msg from sysid at t and returns what came out.
func (f *feeder) feed(t *testing.T, at time.Time, sysid uint8, msg message.Message) bridge.Output {
	t.Helper()
	e := f.enc[sysid]
	if e == nil {
		e = &bridge.Encoder{SystemID: sysid, ComponentID: 1}
		f.enc[sysid] = e
	}
	fr, err := e.Frame(msg, true, nil, at)
	if err != nil {
		t.Fatal(err)
	}
	f.out.Reset()
	if f.tr.Seen(at, fr, &f.out) {
		f.tr.Handle(at, sysid, 1, msg, &f.out)
	}
	return bridge.Output{Readings: append([]smartdeal.Reading(nil), f.out.Readings...), Events: append([]drone.Event(nil), f.out.Events...)}
}

func find(rs []smartdeal.Reading, q string) (smartdeal.Reading, bool) {
	for _, r := range rs {
		if r.Quantity == q {
			return r, true
		}
	}
	return smartdeal.Reading{}, false
}

func TestTrackerValuesAndSentinels(t *testing.T) {
	every := map[string]time.Duration{}
	for _, g := range bridge.Groups {
		every[g] = 0
	}
	cases := []struct {
		name string
		msg  message.Message
		want map[string]float64 // quantity → value; NaN: must be absent
		unit map[string]string
	}{
		{"position", &ardupilotmega.MessageGlobalPositionInt{Lat: 436584000, Lon: 71960000, Alt: 65500, RelativeAlt: 60000,
			Vx: 300, Vy: 400, Vz: -150, Hdg: 9000},
			map[string]float64{"latitude": 43.6584, "longitude": 7.196, "altitude": 65.5, "relative_altitude": 60,
				"ground_speed": 5, "climb_rate": 1.5, "heading": math.Pi / 2},
			map[string]string{"latitude": "lat", "longitude": "lon", "altitude": "m", "ground_speed": "m/s", "heading": "rad"}},
		{"position without heading", &ardupilotmega.MessageGlobalPositionInt{Lat: 436584000, Lon: 71960000, Hdg: math.MaxUint16},
			map[string]float64{"latitude": 43.6584, "heading": math.NaN()}, nil},
		{"no position yet (0,0)", &ardupilotmega.MessageGlobalPositionInt{Hdg: 100},
			map[string]float64{"latitude": math.NaN(), "longitude": math.NaN(), "altitude": math.NaN()}, nil},
		{"battery", &ardupilotmega.MessageSysStatus{VoltageBattery: 12150, CurrentBattery: 1234, BatteryRemaining: 67},
			map[string]float64{"battery_voltage": 12.15, "battery_current": 12.34, "battery_remaining": 67},
			map[string]string{"battery_voltage": "V", "battery_current": "A", "battery_remaining": "%EL"}},
		{"no battery monitor (PX4 sentinels)", &ardupilotmega.MessageSysStatus{VoltageBattery: math.MaxUint16, CurrentBattery: -1, BatteryRemaining: -1},
			map[string]float64{"battery_voltage": math.NaN(), "battery_current": math.NaN(), "battery_remaining": math.NaN()}, nil},
		{"no battery monitor (ArduPilot zero volts)", &ardupilotmega.MessageSysStatus{VoltageBattery: 0, CurrentBattery: -1, BatteryRemaining: -1},
			map[string]float64{"battery_voltage": math.NaN()}, nil},
		{"gps", &ardupilotmega.MessageGpsRawInt{FixType: 3, SatellitesVisible: 12, Eph: 120},
			map[string]float64{"gps_fix_type": 3, "satellites": 12, "gps_hdop": 1.2}, map[string]string{"satellites": "count"}},
		{"gps unknown", &ardupilotmega.MessageGpsRawInt{FixType: 0, SatellitesVisible: 255, Eph: math.MaxUint16},
			map[string]float64{"gps_fix_type": 0, "satellites": math.NaN(), "gps_hdop": math.NaN()}, nil},
		{"attitude", &ardupilotmega.MessageAttitude{Roll: 0.1, Pitch: -0.2, Yaw: 3},
			map[string]float64{"roll": 0.1, "pitch": -0.2, "yaw": 3}, map[string]string{"roll": "rad"}},
		{"battery status", &ardupilotmega.MessageBatteryStatus{Voltages: [10]uint16{4100, 4050, 4000, 65535, 65535, 65535, 65535, 65535, 65535, 65535},
			Temperature: -520, CurrentBattery: 830, BatteryRemaining: 42},
			map[string]float64{"battery_cell_1": 4.1, "battery_cell_2": 4.05, "battery_cell_3": 4, "battery_cell_4": math.NaN(),
				"battery_temperature": -5.2, "battery_voltage": 12.15, "battery_current": 8.3, "battery_remaining": 42},
			map[string]string{"battery_cell_1": "V", "battery_temperature": "Cel", "battery_voltage": "V"}},
		{"battery status without cells nor temperature", &ardupilotmega.MessageBatteryStatus{Voltages: [10]uint16{11800, 65535, 65535, 65535, 65535, 65535, 65535, 65535, 65535, 65535},
			Temperature: math.MaxInt16, CurrentBattery: -1, BatteryRemaining: -1},
			map[string]float64{"battery_voltage": 11.8, "battery_cell_1": math.NaN(), "battery_temperature": math.NaN(),
				"battery_current": math.NaN(), "battery_remaining": math.NaN()}, nil},
		{"battery status with 12 cells", &ardupilotmega.MessageBatteryStatus{Voltages: [10]uint16{3700, 3700, 3700, 3700, 3700, 3700, 3700, 3700, 3700, 3700},
			VoltagesExt: [4]uint16{3710, 3720, 0, 0}, Temperature: math.MaxInt16, CurrentBattery: -1, BatteryRemaining: -1},
			map[string]float64{"battery_cell_10": 3.7, "battery_cell_11": 3.71, "battery_cell_12": 3.72, "battery_cell_13": math.NaN(), "battery_voltage": 44.43}, nil},
		{"mission item", &ardupilotmega.MessageMissionCurrent{Seq: 7},
			map[string]float64{"mission_item": 7}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFeeder(bridge.TrackerConfig{Rates: every})
			f.feed(t, t0, 1, &ardupilotmega.MessageHeartbeat{Type: 2, Autopilot: 3}) // a vehicle: its autopilot beats
			out := f.feed(t, t0, 1, c.msg)
			for q, want := range c.want {
				r, ok := find(out.Readings, q)
				if math.IsNaN(want) {
					if ok {
						t.Fatalf("%s: sentinel became a reading %+v", q, r)
					}
					continue
				}
				if !ok || math.Abs(r.Number-want) > 1e-6 {
					t.Fatalf("%s = %+v (present %v), want %v", q, r, ok, want)
				}
				if u, ok := c.unit[q]; ok && r.Unit != u {
					t.Fatalf("%s unit %q, want %q", q, r.Unit, u)
				}
				if err := r.Validate(t0); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestTrackerEventsAndDecimation(t *testing.T) {
	f := newFeeder(bridge.TrackerConfig{Rates: map[string]time.Duration{"position": time.Second}, LowBattery: 30, CriticalBattery: 10})
	hb := func(mode uint32, armed bool) message.Message {
		base := ardupilotmega.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
		if armed {
			base |= ardupilotmega.MAV_MODE_FLAG_SAFETY_ARMED
		}
		return &ardupilotmega.MessageHeartbeat{Type: 2, Autopilot: 3, BaseMode: base, CustomMode: mode}
	}
	types := func(o bridge.Output) string {
		var s []string
		for _, e := range o.Events {
			s = append(s, e.Type)
		}
		return strings.Join(s, ",")
	}
	if got := types(f.feed(t, t0, 1, hb(0, false))); got != "vehicle_seen" {
		t.Fatalf("first heartbeat: %q", got)
	}
	if got := types(f.feed(t, t0.Add(time.Second), 1, hb(0, false))); got != "" {
		t.Fatalf("same heartbeat: %q", got)
	}
	out := f.feed(t, t0.Add(2*time.Second), 1, hb(3, true))
	if got := types(out); got != "mode_changed,armed" {
		t.Fatalf("mode and arming: %q", got)
	}
	if out.Events[0].Message != "mode STABILIZE → AUTO" {
		t.Fatalf("mode message %q", out.Events[0].Message)
	}
	if m, ok := find(out.Readings, "flight_mode"); !ok || m.Text != "AUTO" || m.Kind != smartdeal.KindString {
		t.Fatalf("flight_mode reading on change: %+v", m)
	}
	// 10 positions in one second: one reading set goes out
	pos := &ardupilotmega.MessageGlobalPositionInt{Lat: 436584000, Lon: 71960000}
	n := 0
	for i := range 10 {
		if _, ok := find(f.feed(t, t0.Add(3*time.Second+time.Duration(i)*100*time.Millisecond), 1, pos).Readings, "latitude"); ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d position readings in 1 s at a 1 s rate", n)
	}
	// battery: warning once, critical once, re-armed by a fresh battery
	var got []string
	for _, pct := range []int8{50, 29, 28, 9, 8, 90, 20} {
		for _, e := range f.feed(t, t0.Add(5*time.Second), 1, &ardupilotmega.MessageSysStatus{VoltageBattery: 11000, BatteryRemaining: pct}).Events {
			got = append(got, e.Severity)
		}
	}
	if strings.Join(got, ",") != "warning,critical,warning" {
		t.Fatalf("battery events %v", got)
	}
	out = f.feed(t, t0.Add(6*time.Second), 1, &ardupilotmega.MessageStatustext{Severity: 2, Text: "PreArm: GPS not healthy"})
	if len(out.Events) != 1 || out.Events[0].Severity != "critical" || out.Events[0].Message != "PreArm: GPS not healthy" {
		t.Fatalf("statustext %+v", out.Events)
	}
	// a ground station's heartbeat does not make it a vehicle
	f.feed(t, t0, 255, &ardupilotmega.MessageHeartbeat{Type: 6, Autopilot: 8})
	if vs := f.tr.Vehicles(); len(vs) != 1 {
		t.Fatalf("vehicles %+v", vs)
	}
	// mission tagging
	f.tr.SetMission("drone-1", "m-42")
	out = f.feed(t, t0.Add(10*time.Second), 1, pos)
	if r, _ := find(out.Readings, "latitude"); r.Mission != "m-42" {
		t.Fatalf("mission not tagged: %+v", r)
	}
	f.tr.SetMission("drone-1", "")
	out = f.feed(t, t0.Add(12*time.Second), 1, pos)
	if r, _ := find(out.Readings, "latitude"); r.Mission != "" {
		t.Fatalf("mission not cleared: %+v", r)
	}
}

func TestTrackerSequenceGaps(t *testing.T) {
	tr := bridge.NewTracker(bridge.TrackerConfig{Site: "s"})
	var out bridge.Output
	hb := &ardupilotmega.MessageHeartbeat{Type: 2, Autopilot: 3}
	seqs := []uint8{250, 251, 252, 255, 0, 1, 1, 5} // 253,254 lost; wrap; duplicate 1; 2,3,4 lost
	for i, s := range seqs {
		enc := bridge.Encoder{SystemID: 1, ComponentID: 1}
		for range s {
			_, _ = enc.Frame(hb, true, nil, t0)
		}
		fr, _ := enc.Frame(hb, true, nil, t0)
		tr.Seen(t0.Add(time.Duration(i)*10*time.Millisecond), fr, &out)
		if i == 0 {
			tr.Handle(t0, 1, 1, hb, &out) // the autopilot's heartbeat makes system 1 a vehicle
		}
	}
	// another component has its own sequence
	cam := bridge.Encoder{SystemID: 1, ComponentID: 100}
	fr, _ := cam.Frame(hb, true, nil, t0)
	tr.Seen(t0.Add(time.Second), fr, &out)
	st, _ := tr.Vehicle(1)
	if st.FramesLost != 5 || st.FramesReceived != 9 {
		t.Fatalf("lost %d received %d, want 5 and 9", st.FramesLost, st.FramesReceived)
	}
	// silence longer than the link timeout, seen only when the next frame arrives (a log)
	out.Reset()
	fr, _ = cam.Frame(hb, true, nil, t0)
	tr.Seen(t0.Add(time.Minute), fr, &out)
	if len(out.Events) != 2 || out.Events[0].Type != drone.EventLinkLost || out.Events[1].Type != drone.EventLinkRegained ||
		!out.Events[0].Time.Equal(t0.Add(time.Second+5*time.Second)) {
		t.Fatalf("events %+v", out.Events)
	}
}

func TestDecoderChecksAndSigning(t *testing.T) {
	key, _ := bridge.ParseKey("k")
	other, _ := bridge.ParseKey("other")
	d := bridge.NewDecoder(map[uint8]*frame.V2Key{7: key})
	hb := &ardupilotmega.MessageHeartbeat{Type: 2, Autopilot: 3}
	enc := bridge.Encoder{SystemID: 7, ComponentID: 1, LinkID: 3}
	now := time.Now()
	signed, _ := enc.Frame(hb, true, key, now)
	if err := d.Verify(signed); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Decode(signed); err != nil {
		t.Fatal(err)
	}
	unsigned, _ := enc.Frame(hb, true, nil, now)
	v1, _ := enc.Frame(hb, false, nil, now)
	wrong, _ := enc.Frame(hb, true, other, now)
	old, _ := enc.Frame(hb, true, key, now.Add(-time.Minute))
	for name, c := range map[string]struct {
		fr   frame.Frame
		want error
	}{"unsigned": {unsigned, bridge.ErrUnsigned}, "mavlink1": {v1, bridge.ErrUnsigned},
		"wrong key": {wrong, bridge.ErrBadSignature}} {
		if err := d.Verify(c.fr); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// the encoder keeps signature times increasing; a replay from a minute ago is refused
	old.(*frame.V2Frame).SignatureTimestamp = signed.(*frame.V2Frame).SignatureTimestamp - 6_000_000
	old.(*frame.V2Frame).Signature = old.(*frame.V2Frame).GenerateSignature(key)
	if err := d.Verify(old); !errors.Is(err, bridge.ErrReplay) {
		t.Errorf("replay: %v", err)
	}
	// unkeyed vehicles pass unsigned; a flipped CRC is caught
	free := bridge.Encoder{SystemID: 8, ComponentID: 1}
	fr, _ := free.Frame(hb, true, nil, now)
	if err := d.Verify(fr); err != nil {
		t.Fatal(err)
	}
	fr.(*frame.V2Frame).Checksum ^= 1
	if _, err := d.Decode(fr); !errors.Is(err, bridge.ErrChecksum) {
		t.Fatalf("checksum: %v", err)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bridge.Endpoint
		err  bool
	}{
		{in: "udp-server:0.0.0.0:14550", want: bridge.Endpoint{Kind: "udp-server", Address: "0.0.0.0:14550"}},
		{in: "tcp-client:sitl.local:5760", want: bridge.Endpoint{Kind: "tcp-client", Address: "sitl.local:5760"}},
		{in: "serial:/dev/ttyACM0:57600", want: bridge.Endpoint{Kind: "serial", Address: "/dev/ttyACM0", Baud: 57600}},
		{in: "udp-client:10.0.0.2:14550", want: bridge.Endpoint{Kind: "udp-client", Address: "10.0.0.2:14550"}},
		{in: "udp-client::14550", err: true},
		{in: "serial:/dev/ttyACM0", err: true},
		{in: "serial:/dev/ttyACM0:fast", err: true},
		{in: "carrier-pigeon:home", err: true},
		{in: "udp-server:0.0.0.0:99999", err: true},
	} {
		got, err := bridge.ParseEndpoint(c.in)
		if (err != nil) != c.err || !c.err && got != c.want {
			t.Errorf("%q: %+v, %v", c.in, got, err)
		}
	}
	err := bridge.Config{Site: "Nice", Endpoints: []string{"udp-server:0.0.0.0:14550", "bogus"},
		Devices:     map[string]string{"1": "drone-a", "2": "drone-a", "300": "x"},
		SigningKeys: map[string]string{"0": "k"}, Rates: map[string]string{"position": "fast", "wind": "1s"}}.Validate()
	for _, want := range []string{"mavlink.site", "mavlink.endpoints[1]", "mavlink.devices.2: device \"drone-a\" already used",
		"mavlink.devices.300", "mavlink.signing_keys.0", "mavlink.rates.position", "mavlink.rates.wind"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate: %v, want it to name %s", err, want)
		}
	}
	if err := (bridge.Config{Site: "nice"}).Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestModeNames(t *testing.T) {
	for _, c := range []struct {
		ap, typ, base uint8
		custom        uint32
		want          string
	}{
		{3, 2, 1, 3, "AUTO"}, {3, 2, 1, 6, "RTL"}, {3, 1, 1, 10, "AUTO"}, {3, 1, 1, 11, "RTL"},
		{3, 10, 1, 4, "HOLD"}, {3, 20, 1, 21, "QRTL"}, {12, 2, 1, 4<<16 | 4<<24, "AUTO_MISSION"},
		{12, 2, 1, 3 << 16, "POSCTL"}, {12, 2, 1, 4<<16 | 5<<24, "AUTO_RTL"}, {3, 2, 1, 99, "MODE_99"},
		{0, 2, 0x50, 0, "BASE_80"},
	} {
		if got := drone.ModeName(c.ap, c.typ, c.base, c.custom); got != c.want {
			t.Errorf("ModeName(%d,%d,%d,%d) = %q, want %q", c.ap, c.typ, c.base, c.custom, got, c.want)
		}
	}
}

// TestTrackerRadioStatus: a RADIO_STATUS sent with the vehicle's own system
// id is its link; RadioStatus attributes a radio's to a vehicle, never to a
// system that is not one (the radio itself, a GCS, an unknown id), and the
// radio group keeps its own rate.
func TestTrackerRadioStatus(t *testing.T) {
	f := newFeeder(bridge.TrackerConfig{Rates: map[string]time.Duration{bridge.GroupRadio: 2 * time.Second}})
	f.feed(t, t0, 1, &ardupilotmega.MessageHeartbeat{Type: 2, Autopilot: 3, BaseMode: 129, CustomMode: 3})
	rs := &ardupilotmega.MessageRadioStatus{Rssi: 150, Remrssi: 255, Noise: 20, Remnoise: 21, Rxerrors: 5, Fixed: 1}
	out := f.feed(t, t0.Add(time.Second), 1, rs)
	if r, ok := find(out.Readings, drone.QRadioRSSI); !ok || r.Number != 150 || r.Device != "drone-1" || r.Unit != "" {
		t.Fatalf("own RADIO_STATUS: %+v", out.Readings)
	}
	if _, ok := find(out.Readings, drone.QRadioRemoteRSSI); ok {
		t.Error("remrssi 255 (unknown) published")
	}
	if r, ok := find(out.Readings, drone.QRadioRxErrors); !ok || r.Unit != drone.UnitCount || r.Number != 5 {
		t.Errorf("rx errors %+v", r)
	}
	var o bridge.Output
	if !f.tr.RadioStatus(t0.Add(1500*time.Millisecond), 1, rs, &o) || len(o.Readings) != 0 {
		t.Errorf("radio group rate not kept: %+v", o.Readings)
	}
	if !f.tr.RadioStatus(t0.Add(3*time.Second), 1, rs, &o) || len(o.Readings) == 0 {
		t.Error("RADIO_STATUS after the interval not published")
	}
	f.feed(t, t0, 51, rs) // the radio itself: known to the tracker, not a vehicle
	f.feed(t, t0, 255, &ardupilotmega.MessageHeartbeat{Type: 6, Autopilot: 8})
	for _, id := range []uint8{51, 255, 99} {
		o.Reset()
		if f.tr.RadioStatus(t0.Add(10*time.Second), id, rs, &o) || len(o.Readings) != 0 {
			t.Errorf("RADIO_STATUS attributed to system %d", id)
		}
	}
	if id, ok := f.tr.SoleVehicle(); !ok || id != 1 {
		t.Errorf("sole vehicle %d %v", id, ok)
	}
	f.feed(t, t0, 2, &ardupilotmega.MessageHeartbeat{Type: 2, Autopilot: 3})
	if _, ok := f.tr.SoleVehicle(); ok {
		t.Error("a sole vehicle among two")
	}
}
