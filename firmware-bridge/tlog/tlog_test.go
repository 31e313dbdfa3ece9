package tlog_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/cd06/smartdeal"
	bridge "github.com/cd06/smartdeal/firmware-bridge"
	"github.com/cd06/smartdeal/firmware-bridge/bridgetest"
	"github.com/cd06/smartdeal/firmware-bridge/drone"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
	"github.com/cd06/smartdeal/firmware-bridge/tlog"
)

var start = time.Date(2026, 7, 14, 9, 30, 0, 0, time.UTC)

// flight writes a simulated flight of d to a .tlog.
func flight(t testing.TB, cfg dronesim.Config, d time.Duration) ([]byte, []dronesim.TlogEntry, *dronesim.Sim) {
	t.Helper()
	sim, err := dronesim.NewSim(cfg, start)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	entries, err := dronesim.WriteTlog(&buf, sim, d)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), entries, sim
}

// expected feeds the simulator's messages straight into a Tracker.
func expected(entries []dronesim.TlogEntry, sysid uint8, rates map[string]time.Duration) []smartdeal.Reading {
	tr := bridge.NewTracker(bridge.TrackerConfig{Site: "nice", Rates: rates})
	var all []smartdeal.Reading
	var out bridge.Output
	enc := bridge.Encoder{SystemID: sysid, ComponentID: 1}
	for _, e := range entries {
		fr, _ := enc.Frame(e.Message, true, nil, e.Time)
		out.Reset()
		tr.Seen(e.Time, fr, &out)
		tr.Handle(e.Time, sysid, 1, e.Message, &out)
		all = append(all, out.Readings...)
	}
	return all
}

func TestRoundTripFromSimulator(t *testing.T) {
	data, entries, sim := flight(t, dronesim.Config{SystemID: 3, GPSNoise: -1}, 3*time.Minute)
	readings, st, err := tlog.Import(context.Background(), bytes.NewReader(data), tlog.Options{Site: "nice"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Frames != len(entries) || st.SkippedBytes != 0 || st.Bytes != int64(len(data)) {
		t.Fatalf("stats %+v, want %d frames, no skip, %d bytes", st, len(entries), len(data))
	}
	want := expected(entries, 3, tlog.ImportRates) // every message: an upload is not decimated
	if len(readings) != len(want) || len(readings) == 0 {
		t.Fatalf("got %d readings, want %d", len(readings), len(want))
	}
	for i := range want {
		if readings[i] != want[i] {
			t.Fatalf("reading %d: got %+v, want %+v", i, readings[i], want[i])
		}
	}
	// the last position matches the simulator's truth (no GPS noise): same readings, same timestamps
	truth := sim.State()
	var lat, lon smartdeal.Reading
	for _, r := range readings {
		switch r.Quantity {
		case drone.QLatitude:
			lat = r
		case drone.QLongitude:
			lon = r
		}
	}
	if lat.Unit != "lat" || lon.Unit != "lon" || math.Abs(lat.Number-truth.Lat) > 3e-4 || math.Abs(lon.Number-truth.Lon) > 3e-4 {
		t.Fatalf("last position %v %v, truth %v %v", lat, lon, truth.Lat, truth.Lon)
	}
	if lat.Time.Before(start) || lat.Time.After(start.Add(3*time.Minute)) || lat.Device != "drone-3" {
		t.Fatalf("reading time/device %v %s: want the log's times", lat.Time, lat.Device)
	}
	if st.Start.Before(start) || st.End.After(start.Add(3*time.Minute)) {
		t.Fatalf("log span %v…%v", st.Start, st.End)
	}
}

func TestTruncatedLog(t *testing.T) {
	data, _, _ := flight(t, dronesim.Config{SystemID: 1}, 30*time.Second)
	full, _, err := tlog.Import(context.Background(), bytes.NewReader(data), tlog.Options{Site: "nice", Rates: zeroRates()})
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{len(data) - 1, len(data) - 20, len(data) / 2, 13} {
		t.Run("", func(t *testing.T) {
			got, st, err := tlog.Import(context.Background(), bytes.NewReader(data[:cut]), tlog.Options{Site: "nice", Rates: zeroRates()})
			var te *tlog.Error
			if !errors.As(err, &te) || !errors.Is(err, tlog.ErrTruncated) {
				t.Fatalf("cut at %d: err %v, want a truncation *tlog.Error", cut, err)
			}
			if te.Offset != st.Bytes || te.Offset > int64(cut) || int64(cut)-te.Offset >= 8+280 {
				t.Fatalf("cut at %d: offset %d, stats bytes %d", cut, te.Offset, st.Bytes)
			}
			if len(got) > len(full) {
				t.Fatalf("more readings than the full log")
			}
			for i := range got {
				if got[i] != full[i] {
					t.Fatalf("reading %d differs from the full import", i)
				}
			}
			if cut > 1000 && len(got) == 0 {
				t.Fatal("nothing read before the damage")
			}
		})
	}
}

func zeroRates() map[string]time.Duration {
	m := map[string]time.Duration{}
	for _, g := range bridge.Groups {
		m[g] = 0
	}
	return m
}

// entry encodes one tlog entry with the given encoder.
func entry(t testing.TB, enc *bridge.Encoder, at time.Time, msg message.Message, v2 bool, key *frame.V2Key) []byte {
	t.Helper()
	fr, err := enc.Frame(msg, v2, key, at)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_ = binary.Write(&buf, binary.BigEndian, uint64(at.UnixMicro()))
	w := &frame.Writer{ByteWriter: &buf}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(fr); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestMessyLog(t *testing.T) {
	key, _ := bridge.ParseKey("secret")
	v1 := &bridge.Encoder{SystemID: 1, ComponentID: 1}
	v2 := &bridge.Encoder{SystemID: 2, ComponentID: 1}
	cam := &bridge.Encoder{SystemID: 2, ComponentID: 100} // camera component of vehicle 2
	var log bytes.Buffer
	log.WriteString("QGC tlog v1\x00\xfe\xfd garbage \xff\xff") // bytes before the first frame
	pos := func(lat float64) message.Message {
		return &ardupilotmega.MessageGlobalPositionInt{Lat: int32(lat * 1e7), Lon: 72000000, Alt: 100000, RelativeAlt: 50000, Hdg: 9000}
	}
	hb := &ardupilotmega.MessageHeartbeat{Type: 2, Autopilot: 3, BaseMode: 129, CustomMode: 3}
	good := 0
	for i := range 20 {
		at := start.Add(time.Duration(i) * time.Second)
		log.Write(entry(t, v1, at, hb, false, nil)) // MAVLink 1
		log.Write(entry(t, v1, at, pos(43.6+float64(i)*1e-4), false, nil))
		log.Write(entry(t, v2, at, hb, true, key)) // MAVLink 2, signed
		log.Write(entry(t, v2, at, pos(44+float64(i)*1e-4), true, key))
		log.Write(entry(t, cam, at, &ardupilotmega.MessageHeartbeat{Type: 30, Autopilot: 8}, true, key))
		good += 5
		if i == 10 {
			// an unknown id is kept right after a checked frame (its CRC
			// cannot be checked, so never after skipped bytes)
			unknown := entry(t, &bridge.Encoder{SystemID: 5, ComponentID: 1}, at, hb, true, nil)
			unknown[8+8] = 0x7f // message id 0x7f00 (32512) is in no dialect
			log.Write(unknown)
			good++
			bad := entry(t, v1, at, pos(1), false, nil)
			bad[len(bad)-1] ^= 0xff // wrong CRC
			log.Write(bad)
			log.WriteString("\x00\x01noise") // a corrupted stretch
			log.Write(unknown)               // after skipped bytes: not an entry
		}
	}
	var events []drone.Event
	rs, st, err := tlog.Import(context.Background(), bytes.NewReader(log.Bytes()), tlog.Options{
		Site: "nice", Rates: zeroRates(), Keys: map[uint8]*frame.V2Key{2: key}, Mission: "crue-var-2026",
		OnEvent: func(e drone.Event) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	if st.Frames != good || st.MAVLink1 != 40 || st.Signed != 60 || st.Unknown != 1 || st.BadChecksum < 1 ||
		st.FirstSkip != 0 || st.SkippedBytes < 20 {
		t.Fatalf("stats %+v, want %d frames (40 v1, 60 signed, 1 unknown)", st, good)
	}
	lats := map[string]int{}
	for _, r := range rs {
		if r.Mission != "crue-var-2026" {
			t.Fatalf("reading without the mission: %+v", r)
		}
		if r.Quantity == drone.QLatitude {
			lats[r.Device]++
			if r.Device == "drone-1" && r.Number > 43.7 || r.Device == "drone-2" && r.Number < 44 {
				t.Fatalf("positions mixed up: %+v", r)
			}
		}
	}
	if lats["drone-1"] != 20 || lats["drone-2"] != 20 {
		t.Fatalf("latitudes per device %v, want 20 each (no good frame lost)", lats)
	}
	seen := 0
	for _, e := range events {
		if e.Type == drone.EventVehicleSeen {
			seen++
		}
	}
	if seen != 2 {
		t.Fatalf("vehicle_seen events %d, want 2 (the camera is not a vehicle)", seen)
	}

	// the same log with the wrong key for vehicle 2: its frames are refused, vehicle 1's kept
	wrong, _ := bridge.ParseKey("not the secret")
	rs, st, err = tlog.Import(context.Background(), bytes.NewReader(log.Bytes()), tlog.Options{
		Site: "nice", Rates: zeroRates(), Keys: map[uint8]*frame.V2Key{2: wrong}})
	if err != nil {
		t.Fatal(err)
	}
	if st.SigningRefused != 60 { // every frame of system 2, camera included
		t.Fatalf("signing refused %d, want 60", st.SigningRefused)
	}
	for _, r := range rs {
		if r.Device == "drone-2" {
			t.Fatalf("reading of a refused vehicle: %+v", r)
		}
	}
}

func TestNotALog(t *testing.T) {
	_, _, err := tlog.Import(context.Background(), bytes.NewReader([]byte("just some text, not MAVLink at all")), tlog.Options{Site: "nice"})
	if !errors.Is(err, tlog.ErrNoFrames) {
		t.Fatalf("err %v, want ErrNoFrames", err)
	}
	if _, _, err := tlog.Import(context.Background(), bytes.NewReader(nil), tlog.Options{Site: "Bad Site"}); !errors.Is(err, smartdeal.ErrInvalidID) {
		t.Fatalf("err %v, want ErrInvalidID", err)
	}
}

func FuzzImport(f *testing.F) {
	data, _, _ := flight(f, dronesim.Config{SystemID: 1, ArmAfter: time.Second}, 5*time.Second)
	f.Add(data[:2000])
	f.Add(data[:len(data)/3])
	f.Add(append([]byte("garbage\xfd\xfe"), data[:500]...))
	f.Add([]byte{})
	// hand-serialised frames (bridgetest): MAVLink 1 with extension bytes,
	// BATTERY_STATUS, a GCS and a radio, a raw stream without timestamps
	var l rawLog
	l.heartbeat(start, 4, true)
	l.add(start, 4, 1, bridgetest.IDSysStatus, bridgetest.CRCSysStatus, bridgetest.SysStatusPayload(12400, 1650, 90, true), true)
	l.add(start, 4, 1, bridgetest.IDBatteryStatus, bridgetest.CRCBatteryStatus, bridgetest.BatteryStatusPayload(0, []uint16{4100, 4100}, 2500, 100, 90, true), false)
	l.add(start, 51, 68, bridgetest.IDRadioStatus, bridgetest.CRCRadioStatus, bridgetest.RadioStatusPayload(1, 2, 3, 4, 5, 6, 7), false)
	l.add(start, 255, 190, bridgetest.IDHeartbeat, bridgetest.CRCHeartbeat, bridgetest.HeartbeatPayload(6, 8, 0, 0, 4), false)
	f.Add(l.Bytes())
	raw := rawLog{stream: true}
	raw.heartbeat(start, 1, false)
	raw.position(start, 1, 43.7, true)
	f.Add(raw.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, st, err := tlog.Import(context.Background(), bytes.NewReader(b), tlog.Options{Site: "nice", Rates: zeroRates()})
		if st.Bytes > int64(len(b)) || st.SkippedBytes > int64(len(b)) {
			t.Fatalf("stats beyond input: %+v", st)
		}
		var te *tlog.Error
		if err != nil && !errors.As(err, &te) {
			t.Fatalf("error without offset: %v", err)
		}
		if te != nil && (te.Offset < 0 || te.Offset > int64(len(b))) {
			t.Fatalf("offset %d outside input of %d", te.Offset, len(b))
		}
		for _, r := range rs {
			if err := r.Validate(time.Date(2100, 1, 2, 0, 0, 0, 0, time.UTC)); err != nil {
				t.Fatalf("invalid reading %+v: %v", r, err)
			}
		}
		if st.Readings != len(rs) {
			t.Fatalf("stats.readings %d for %d readings", st.Readings, len(rs))
		}
		if st.Truncated != nil && (te == nil || st.Truncated.Offset != te.Offset) {
			t.Fatalf("truncation %+v without its error %v", st.Truncated, err)
		}
		if errors.Is(err, tlog.ErrNotTlog) && len(rs) != 0 {
			t.Fatalf("refused as not a tlog, yet %d readings", len(rs))
		}
	})
}

func BenchmarkImportRandom(b *testing.B) {
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i*7919 + i>>3)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_, _, _ = tlog.Import(context.Background(), bytes.NewReader(data), tlog.Options{Site: "nice"})
	}
}

func BenchmarkImportFlight(b *testing.B) {
	data, _, _ := flight(b, dronesim.Config{SystemID: 1}, 10*time.Minute)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := tlog.Import(context.Background(), bytes.NewReader(data), tlog.Options{Site: "nice"}); err != nil {
			b.Fatal(err)
		}
	}
}
