package bridge

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/firmware-bridge/drone"
)

// Message groups: each is decimated to its own rate before readings go out.
const (
	GroupPosition = "position" // GLOBAL_POSITION_INT: latitude … heading
	GroupAttitude = "attitude" // ATTITUDE: roll, pitch, yaw
	GroupGPS      = "gps"      // GPS_RAW_INT: gps_fix_type, satellites, gps_hdop
	GroupBattery  = "battery"  // SYS_STATUS, BATTERY_STATUS: battery_voltage, battery_current, battery_remaining, battery_temperature, battery_cell_N
	GroupMission  = "mission"  // MISSION_CURRENT: mission_item (also on every change)
	GroupStatus   = "status"   // HEARTBEAT: armed, flight_mode (also on every change)
	GroupLink     = "link"     // link_quality, packets_lost over the window
	GroupRadio    = "radio"    // RADIO_STATUS of the vehicle's telemetry radio: radio_rssi … radio_fixed
)

// Groups lists the message groups in a stable order.
var Groups = []string{GroupPosition, GroupAttitude, GroupGPS, GroupBattery, GroupMission, GroupStatus, GroupLink, GroupRadio}

// DefaultRates are the publication intervals per group.
var DefaultRates = map[string]time.Duration{
	GroupPosition: time.Second,
	GroupAttitude: time.Second,
	GroupGPS:      5 * time.Second,
	GroupBattery:  5 * time.Second,
	GroupMission:  5 * time.Second,
	GroupStatus:   5 * time.Second,
	GroupLink:     5 * time.Second,
	GroupRadio:    5 * time.Second,
}

// TrackerConfig configures a Tracker.
type TrackerConfig struct {
	// Site of every reading.
	Site string
	// (optional) device id per system id; defaults to "drone-<sysid>".
	Devices map[uint8]string
	// (optional) publication interval per group (see Groups); a missing group
	// uses DefaultRates, 0 publishes every message, a negative value never.
	Rates map[string]time.Duration
	// (optional) silence after which a vehicle's link is lost; defaults to 5 s.
	LinkTimeout time.Duration
	// (optional) battery percentage below which a warning event is sent; defaults to 25.
	LowBattery float64
	// (optional) battery percentage below which a critical event is sent; defaults to 10.
	CriticalBattery float64
	// (optional) system ids that are never tracked (e.g. the bridge's own).
	Ignore []uint8
}

// Output collects what one frame (or one tick) produced.
type Output struct {
	Readings []smartdeal.Reading
	Events   []drone.Event
}

// Reset empties the output, keeping its storage.
func (o *Output) Reset() {
	o.Readings = o.Readings[:0]
	o.Events = o.Events[:0]
}

// Tracker turns decoded MAVLink messages into vehicle state, readings and
// events. It does no I/O: the live bridge and the flight-log import share it.
// It is not safe for concurrent use.
type Tracker struct {
	cfg      TrackerConfig
	vehicles map[uint8]*vehicle
	missions map[string]string // device → mission
	ignore   map[uint8]bool
}

type vehicle struct {
	drone.State
	seq          map[uint8]uint8 // last sequence number per component
	seqKnown     map[uint8]bool
	lastOut      map[string]time.Time
	windowRx     uint64
	windowLost   uint64
	batteryLevel int // 0 ok, 1 low sent, 2 critical sent
	missionItem  int // last published, -1 none
	// confirmed: an autopilot heartbeat was seen. Until then the system id is
	// not a vehicle (a GCS that speaks before it beats, a telemetry radio):
	// no readings, no events, not listed.
	confirmed bool
	gcs       bool // it beat as a ground station: never a vehicle
	// the battery as each message reports it; the state takes SYS_STATUS's
	// values and BATTERY_STATUS's where SYS_STATUS has none
	sys, bat  batteryValues
	batteryID int // the BATTERY_STATUS id read (the lowest seen), -1 none yet
	hasGPI    bool
	lastGPI   time.Time
}

// NewTracker returns a Tracker with cfg's defaults filled in.
func NewTracker(cfg TrackerConfig) *Tracker {
	if cfg.LinkTimeout <= 0 {
		cfg.LinkTimeout = 5 * time.Second
	}
	if cfg.LowBattery == 0 {
		cfg.LowBattery = 25
	}
	if cfg.CriticalBattery == 0 {
		cfg.CriticalBattery = 10
	}
	t := &Tracker{cfg: cfg, vehicles: make(map[uint8]*vehicle), missions: make(map[string]string),
		ignore: make(map[uint8]bool)}
	for _, id := range cfg.Ignore {
		t.ignore[id] = true
	}
	return t
}

// DeviceOf returns the device id of a system id.
func (t *Tracker) DeviceOf(sysid uint8) string {
	if d, ok := t.cfg.Devices[sysid]; ok {
		return d
	}
	return drone.DeviceID(sysid)
}

func (t *Tracker) rate(group string) time.Duration {
	if r, ok := t.cfg.Rates[group]; ok {
		return r
	}
	return DefaultRates[group]
}

// SetRate changes the publication interval of one group, or of all when group is "".
func (t *Tracker) SetRate(group string, d time.Duration) error {
	if group == "" {
		if t.cfg.Rates == nil {
			t.cfg.Rates = make(map[string]time.Duration)
		}
		for _, g := range Groups {
			t.cfg.Rates[g] = d
		}
		return nil
	}
	if _, ok := DefaultRates[group]; !ok {
		return fmt.Errorf("unknown group %q (want one of %s)", group, strings.Join(Groups, ", "))
	}
	rates := make(map[string]time.Duration, len(t.cfg.Rates)+1)
	for k, v := range t.cfg.Rates {
		rates[k] = v
	}
	rates[group] = d
	t.cfg.Rates = rates
	return nil
}

// Rates returns the effective publication interval of every group.
func (t *Tracker) Rates() map[string]time.Duration {
	out := make(map[string]time.Duration, len(Groups))
	for _, g := range Groups {
		out[g] = t.rate(g)
	}
	return out
}

// SetMission sets (or, with "", clears) the mission a device is flying; every
// later reading of that device carries it.
func (t *Tracker) SetMission(device, mission string) {
	if mission == "" {
		delete(t.missions, device)
	} else {
		t.missions[device] = mission
	}
	for _, v := range t.vehicles {
		if v.Device == device {
			v.Mission = mission
		}
	}
}

// Mission returns the active mission of a device.
func (t *Tracker) Mission(device string) string { return t.missions[device] }

// Vehicles returns a copy of every tracked vehicle's state, by system id.
func (t *Tracker) Vehicles() []drone.State {
	out := make([]drone.State, 0, len(t.vehicles))
	for _, v := range t.vehicles {
		if v.confirmed {
			out = append(out, v.State)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SystemID < out[j].SystemID })
	return out
}

// Vehicle returns the state of one system id.
func (t *Tracker) Vehicle(sysid uint8) (drone.State, bool) {
	v, ok := t.vehicles[sysid]
	if !ok || !v.confirmed {
		return drone.State{}, false
	}
	return v.State, true
}

func (t *Tracker) vehicle(sysid uint8, now time.Time) *vehicle {
	v, ok := t.vehicles[sysid]
	if !ok {
		dev := t.DeviceOf(sysid)
		v = &vehicle{
			State: drone.State{SystemID: sysid, Device: dev, FirstSeen: now, LinkUp: true,
				Mission: t.missions[dev]},
			seq: make(map[uint8]uint8), seqKnown: make(map[uint8]bool),
			lastOut: make(map[string]time.Time), missionItem: -1, batteryID: -1,
		}
		t.vehicles[sysid] = v
	}
	return v
}

// Starved returns the vehicles whose autopilot beats but which sent no
// GLOBAL_POSITION_INT for the last d: their stream request was lost or refused.
func (t *Tracker) Starved(now time.Time, d time.Duration) []uint8 {
	var out []uint8
	for id, v := range t.vehicles {
		if !v.confirmed || !v.LinkUp || now.Sub(v.LastHeartbeat) > d {
			continue
		}
		if now.Sub(v.lastGPI) > d && now.Sub(v.FirstSeen) > d {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Tick checks link timeouts at now and emits link_lost events.
func (t *Tracker) Tick(now time.Time, out *Output) {
	for _, v := range t.vehicles {
		if !v.confirmed || !v.LinkUp || now.Sub(v.LastSeen) <= t.cfg.LinkTimeout {
			continue
		}
		t.linkLost(v, now, out)
	}
}

func (t *Tracker) linkLost(v *vehicle, at time.Time, out *Output) {
	v.LinkUp = false
	v.LinkQuality.Clear()
	clear(v.seqKnown) // sequence numbers wrap every 256 frames: an outage cannot be counted
	out.Events = append(out.Events, t.event(v, at, drone.EventLinkLost, drone.SeverityWarning,
		fmt.Sprintf("no MAVLink frame for %s", t.cfg.LinkTimeout), map[string]any{
			"last_seen": v.LastSeen.UTC().Format(time.RFC3339Nano),
		}))
}

func (t *Tracker) event(v *vehicle, at time.Time, typ, sev, msg string, data map[string]any) drone.Event {
	return drone.Event{Type: typ, Time: at.UTC(), Severity: sev, Message: msg,
		SystemID: v.SystemID, Device: v.Device, Mission: v.Mission, Data: data}
}

// Seen records a frame's arrival for link accounting without decoding it
// (frames with unknown message ids still prove the link is up). It returns
// false for a system that is not tracked (ignored, or a ground station);
// Handle then has nothing to do. A system id is a vehicle only once Handle
// has seen its autopilot's heartbeat (IsVehicle).
func (t *Tracker) Seen(now time.Time, fr frame.Frame, out *Output) bool {
	sysid := fr.GetSystemID()
	if t.ignore[sysid] {
		return false
	}
	v := t.vehicle(sysid, now)
	if v.gcs {
		return false
	}
	// the link of a system that is not (yet) a vehicle is not followed: no
	// link_lost for a radio or a GCS
	if v.confirmed && !v.LastSeen.IsZero() && v.LinkUp && now.Sub(v.LastSeen) > t.cfg.LinkTimeout {
		// a log or a stalled loop: the silence happened even if no tick saw it
		t.linkLost(v, v.LastSeen.Add(t.cfg.LinkTimeout), out)
	}
	if v.confirmed && !v.LinkUp {
		down := now.Sub(v.LastSeen)
		v.LinkUp = true
		out.Events = append(out.Events, t.event(v, now, drone.EventLinkRegained, drone.SeverityInfo,
			fmt.Sprintf("link back after %s", down.Round(time.Millisecond)), map[string]any{
				"down_s": down.Seconds(),
			}))
	}
	comp, seq := fr.GetComponentID(), fr.GetSequenceNumber()
	if v.seqKnown[comp] {
		last := v.seq[comp]
		if seq == last {
			// duplicate (two links or a repeated datagram): not a loss
		} else if gap := uint64(seq - last - 1); gap > 0 {
			v.FramesLost += gap
			v.windowLost += gap
		}
	}
	v.seq[comp], v.seqKnown[comp] = seq, true
	v.FramesReceived++
	v.windowRx++
	v.LastSeen = now
	if _, ok := fr.(*frame.V2Frame); ok {
		v.MAVLinkVersion = 2
		v.Signed = fr.(*frame.V2Frame).IsSigned()
	} else {
		v.MAVLinkVersion = 1
		v.Signed = false
	}
	return true
}

// IsVehicle reports whether sysid is a vehicle: its autopilot's heartbeat was seen.
func (t *Tracker) IsVehicle(sysid uint8) bool {
	v, ok := t.vehicles[sysid]
	return ok && v.confirmed
}

func (t *Tracker) due(v *vehicle, group string, now time.Time, force bool) bool {
	return t.dueAs(v, group, group, now, force)
}

// dueAs decimates under key at group's rate: two messages of one group
// (SYS_STATUS, BATTERY_STATUS) each keep their own pace.
func (t *Tracker) dueAs(v *vehicle, key, group string, now time.Time, force bool) bool {
	r := t.rate(group)
	if r < 0 {
		return false
	}
	last, ok := v.lastOut[key]
	if !force && ok && now.Sub(last) < r && !now.Before(last) {
		return false
	}
	v.lastOut[key] = now
	return true
}

type batteryValues struct {
	voltage, current, remaining drone.Float
}

func pick(a, b drone.Float) drone.Float {
	if a.Valid {
		return a
	}
	return b
}

// mergeBattery sets the state's battery from both messages.
func (t *Tracker) mergeBattery(v *vehicle, now time.Time, out *Output) {
	v.BatteryVoltage = pick(v.sys.voltage, v.bat.voltage)
	v.BatteryCurrent = pick(v.sys.current, v.bat.current)
	v.BatteryRemaining = pick(v.sys.remaining, v.bat.remaining)
	if v.BatteryRemaining.Valid {
		t.battery(v, now, out)
	}
}

type readingBuilder struct {
	t   *Tracker
	v   *vehicle
	now time.Time
	out *Output
}

func (b readingBuilder) num(q, unit string, f drone.Float) {
	if !f.Valid || math.IsNaN(f.V) || math.IsInf(f.V, 0) {
		return
	}
	b.out.Readings = append(b.out.Readings, smartdeal.Reading{Site: b.t.cfg.Site, Device: b.v.Device,
		Quantity: q, Unit: unit, Time: b.now, Kind: smartdeal.KindNumber, Number: f.V, Mission: b.v.Mission})
}

func (b readingBuilder) boolean(q string, val bool) {
	b.out.Readings = append(b.out.Readings, smartdeal.Reading{Site: b.t.cfg.Site, Device: b.v.Device,
		Quantity: q, Time: b.now, Kind: smartdeal.KindBool, Bool: val, Mission: b.v.Mission})
}

func (b readingBuilder) text(q, val string) {
	if val == "" {
		return
	}
	b.out.Readings = append(b.out.Readings, smartdeal.Reading{Site: b.t.cfg.Site, Device: b.v.Device,
		Quantity: q, Time: b.now, Kind: smartdeal.KindString, Text: val, Mission: b.v.Mission})
}

func known(v float64) drone.Float { return drone.Float{V: v, Valid: true} }

// GroupReadings appends the current readings of one group of a vehicle (used
// by read_now and by decimation).
func (t *Tracker) groupReadings(v *vehicle, group string, now time.Time, out *Output) {
	b := readingBuilder{t, v, now, out}
	switch group {
	case GroupPosition:
		if !t.positionValid(v) {
			return
		}
		b.num(drone.QLatitude, drone.UnitLat, v.Latitude)
		b.num(drone.QLongitude, drone.UnitLon, v.Longitude)
		b.num(drone.QAltitude, drone.UnitMetre, v.Altitude)
		b.num(drone.QRelativeAltitude, drone.UnitMetre, v.RelativeAltitude)
		b.num(drone.QGroundSpeed, drone.UnitSpeed, v.GroundSpeed)
		b.num(drone.QClimbRate, drone.UnitSpeed, v.ClimbRate)
		b.num(drone.QHeading, drone.UnitRadian, v.Heading)
	case GroupAttitude:
		b.num(drone.QRoll, drone.UnitRadian, v.Roll)
		b.num(drone.QPitch, drone.UnitRadian, v.Pitch)
		b.num(drone.QYaw, drone.UnitRadian, v.Yaw)
	case GroupGPS:
		b.num(drone.QGPSFixType, "", v.GPSFixType)
		b.num(drone.QSatellites, drone.UnitCount, v.Satellites)
		b.num(drone.QGPSHDOP, "", v.HDOP)
	case GroupBattery:
		t.packReadings(b)
		t.cellReadings(b)
	case GroupMission:
		b.num(drone.QMissionItem, "", v.MissionItem)
	case GroupStatus:
		if v.LastHeartbeat.IsZero() {
			return
		}
		b.boolean(drone.QArmed, v.Armed)
		b.text(drone.QFlightMode, v.Mode)
	case GroupLink:
		if total := v.windowRx + v.windowLost; total > 0 {
			v.LinkQuality.Set(float64(v.windowRx) / float64(total))
			b.num(drone.QLinkQuality, drone.UnitRatio, v.LinkQuality)
			b.num(drone.QPacketsLost, drone.UnitCount, known(float64(v.windowLost)))
		}
		v.windowRx, v.windowLost = 0, 0
	}
}

// packReadings are the battery's voltage, current and remaining.
func (t *Tracker) packReadings(b readingBuilder) {
	b.num(drone.QBatteryVoltage, drone.UnitVolt, b.v.BatteryVoltage)
	b.num(drone.QBatteryCurrent, drone.UnitAmpere, b.v.BatteryCurrent)
	b.num(drone.QBatteryRemaining, drone.UnitPercent, b.v.BatteryRemaining)
}

// cellReadings are what only BATTERY_STATUS tells: temperature and cells.
func (t *Tracker) cellReadings(b readingBuilder) {
	b.num(drone.QBatteryTemperature, drone.UnitCelsius, b.v.BatteryTemperature)
	for i, c := range b.v.BatteryCells {
		b.num(drone.BatteryCellQuantity(i+1), drone.UnitVolt, known(c))
	}
}

// positionValid: no readings from a vehicle without a 2D fix, nor the (0, 0)
// an autopilot sends before it has a position.
func (t *Tracker) positionValid(v *vehicle) bool {
	if !v.Latitude.Valid || !v.Longitude.Valid {
		return false
	}
	if v.Latitude.V == 0 && v.Longitude.V == 0 {
		return false
	}
	return true
}

// Snapshot appends the current readings of every group of a device (read_now).
func (t *Tracker) Snapshot(device string, now time.Time, out *Output) bool {
	found := false
	for _, v := range t.vehicles {
		if !v.confirmed || v.Device != device {
			continue
		}
		found = true
		for _, g := range Groups {
			if g == GroupLink {
				continue // a snapshot must not reset the link window
			}
			t.groupReadings(v, g, now, out)
		}
	}
	return found
}

// Handle updates the state of the frame's vehicle with msg and appends the
// readings due and the events it causes. Call Seen first for the frame.
func (t *Tracker) Handle(now time.Time, sysid, compid uint8, msg message.Message, out *Output) {
	v, ok := t.vehicles[sysid]
	if !ok || v.gcs || t.ignore[sysid] {
		return
	}
	if !v.confirmed {
		if hb, ok := msg.(*ardupilotmega.MessageHeartbeat); ok {
			t.heartbeat(v, compid, hb, now, out)
		}
		return // not a vehicle yet: a GCS before its heartbeat, a radio … say nothing
	}
	switch m := msg.(type) {
	case *ardupilotmega.MessageHeartbeat:
		t.heartbeat(v, compid, m, now, out)
	case *ardupilotmega.MessageGlobalPositionInt:
		v.hasGPI = true
		v.lastGPI = now
		v.Latitude.Set(float64(m.Lat) / 1e7)
		v.Longitude.Set(float64(m.Lon) / 1e7)
		v.Altitude.Set(float64(m.Alt) / 1000)
		v.RelativeAltitude.Set(float64(m.RelativeAlt) / 1000)
		v.GroundSpeed.Set(math.Hypot(float64(m.Vx), float64(m.Vy)) / 100)
		v.ClimbRate.Set(-float64(m.Vz) / 100)
		if m.Hdg == math.MaxUint16 {
			v.Heading.Clear()
		} else {
			v.Heading.Set(float64(m.Hdg) / 100 * math.Pi / 180)
		}
		if t.gpsKnownBad(v) {
			v.Latitude.Clear()
			v.Longitude.Clear()
		}
		if t.due(v, GroupPosition, now, false) {
			t.groupReadings(v, GroupPosition, now, out)
		}
	case *ardupilotmega.MessageVfrHud:
		if !v.hasGPI { // GLOBAL_POSITION_INT is the better source when it comes
			v.GroundSpeed.Set(float64(m.Groundspeed))
			v.ClimbRate.Set(float64(m.Climb))
			v.Heading.Set(float64((int(m.Heading)%360+360)%360) * math.Pi / 180)
		}
	case *ardupilotmega.MessageAttitude:
		v.Roll.Set(float64(m.Roll))
		v.Pitch.Set(float64(m.Pitch))
		v.Yaw.Set(float64(m.Yaw))
		if t.due(v, GroupAttitude, now, false) {
			t.groupReadings(v, GroupAttitude, now, out)
		}
	case *ardupilotmega.MessageGpsRawInt:
		v.GPSFixType.Set(float64(m.FixType))
		if m.SatellitesVisible == math.MaxUint8 {
			v.Satellites.Clear()
		} else {
			v.Satellites.Set(float64(m.SatellitesVisible))
		}
		if m.Eph == math.MaxUint16 {
			v.HDOP.Clear()
		} else {
			v.HDOP.Set(float64(m.Eph) / 100)
		}
		if t.due(v, GroupGPS, now, false) {
			t.groupReadings(v, GroupGPS, now, out)
		}
	case *ardupilotmega.MessageSysStatus:
		v.sys = batteryValues{}
		if m.VoltageBattery != 0 && m.VoltageBattery != math.MaxUint16 {
			v.sys.voltage.Set(float64(m.VoltageBattery) / 1000)
		}
		if m.CurrentBattery >= 0 {
			v.sys.current.Set(float64(m.CurrentBattery) / 100)
		}
		if m.BatteryRemaining >= 0 && m.BatteryRemaining <= 100 {
			v.sys.remaining.Set(float64(m.BatteryRemaining))
		}
		t.mergeBattery(v, now, out)
		if t.due(v, GroupBattery, now, false) {
			t.packReadings(readingBuilder{t, v, now, out})
		}
	case *ardupilotmega.MessageBatteryStatus:
		if !t.batteryStatus(v, m) {
			break
		}
		t.mergeBattery(v, now, out)
		if t.dueAs(v, "battery_status", GroupBattery, now, false) {
			b := readingBuilder{t, v, now, out}
			if !v.sys.voltage.Valid || !v.sys.current.Valid || !v.sys.remaining.Valid {
				t.packReadings(b) // BATTERY_STATUS fills what SYS_STATUS lacks
			}
			t.cellReadings(b)
		}
	case *ardupilotmega.MessageMissionCurrent:
		changed := int(m.Seq) != v.missionItem
		v.MissionItem.Set(float64(m.Seq))
		v.missionItem = int(m.Seq)
		if t.due(v, GroupMission, now, changed) {
			t.groupReadings(v, GroupMission, now, out)
		}
	case *ardupilotmega.MessageRadioStatus:
		t.radio(v, m, now, out) // a radio that speaks with the vehicle's own id
	case *ardupilotmega.MessageStatustext:
		text := strings.TrimRight(m.Text, "\x00 ")
		sev := uint8(m.Severity)
		out.Events = append(out.Events, t.event(v, now, drone.EventStatusText, drone.SeverityOfMAV(sev), text,
			map[string]any{"mav_severity": sev, "component_id": compid}))
	}
	if t.due(v, GroupLink, now, false) && v.windowRx+v.windowLost >= 1 {
		t.groupReadings(v, GroupLink, now, out)
	}
}

// RadioStatus publishes a telemetry radio's RADIO_STATUS under the vehicle
// it serves (served, chosen by the caller from the connection: the radio's own
// system id is never a vehicle). It reports false, publishing nothing, when
// served is not a vehicle.
func (t *Tracker) RadioStatus(now time.Time, served uint8, m *ardupilotmega.MessageRadioStatus, out *Output) bool {
	v, ok := t.vehicles[served]
	if !ok || !v.confirmed || v.gcs || t.ignore[served] {
		return false
	}
	t.radio(v, m, now, out)
	return true
}

// SoleVehicle returns the only vehicle tracked, or false when there are none
// or several (a flight log is one connection: its radio serves its vehicle).
func (t *Tracker) SoleVehicle() (uint8, bool) {
	var id uint8
	n := 0
	for sysid, v := range t.vehicles {
		if v.confirmed {
			id, n = sysid, n+1
		}
	}
	return id, n == 1
}

// radio publishes RADIO_STATUS's link values (group radio); UINT8_MAX is
// the "unknown" of rssi and noise. They are not kept in the state: read_now
// has none (the radio sends them every second anyway).
func (t *Tracker) radio(v *vehicle, m *ardupilotmega.MessageRadioStatus, now time.Time, out *Output) {
	if !t.due(v, GroupRadio, now, false) {
		return
	}
	b := readingBuilder{t, v, now, out}
	level := func(q string, x uint8) {
		if x != math.MaxUint8 {
			b.num(q, "", known(float64(x)))
		}
	}
	level(drone.QRadioRSSI, m.Rssi)
	level(drone.QRadioRemoteRSSI, m.Remrssi)
	level(drone.QRadioNoise, m.Noise)
	level(drone.QRadioRemoteNoise, m.Remnoise)
	b.num(drone.QRadioRxErrors, drone.UnitCount, known(float64(m.Rxerrors)))
	b.num(drone.QRadioFixed, drone.UnitCount, known(float64(m.Fixed)))
}

// batteryStatus reads a BATTERY_STATUS of the vehicle's main battery (the
// lowest id it reports) and reports whether it was that battery.
func (t *Tracker) batteryStatus(v *vehicle, m *ardupilotmega.MessageBatteryStatus) bool {
	if id := int(m.Id); v.batteryID < 0 || id < v.batteryID {
		v.batteryID = id
	} else if id != v.batteryID {
		return false // another battery: not the one the platform follows
	}
	v.bat = batteryValues{}
	var cells []float64
	for i := 0; i < len(m.Voltages)+len(m.VoltagesExt); i++ {
		var mv uint16
		if i < len(m.Voltages) {
			mv = m.Voltages[i]
		} else {
			mv = m.VoltagesExt[i-len(m.Voltages)] // 0: no such cell
		}
		if mv == 0 || mv == math.MaxUint16 {
			break
		}
		cells = append(cells, float64(mv)/1000)
	}
	switch {
	case len(cells) == 1:
		// no cell monitoring: voltages[0] is the whole pack
		v.bat.voltage.Set(cells[0])
		cells = nil
	case len(cells) == 2 && m.Voltages[0] == math.MaxUint16-1:
		// a pack above 65.534 V: the rest of its voltage is in voltages[1]
		v.bat.voltage.Set(cells[0] + cells[1])
		cells = nil
	case len(cells) > 1:
		sum := 0.0
		for _, c := range cells {
			sum += c
		}
		v.bat.voltage.Set(math.Round(sum*1000) / 1000)
	}
	v.BatteryCells = cells // a new slice each time: copies of the state keep theirs
	if m.Temperature == math.MaxInt16 {
		v.BatteryTemperature.Clear()
	} else {
		v.BatteryTemperature.Set(float64(m.Temperature) / 100)
	}
	if m.CurrentBattery >= 0 {
		v.bat.current.Set(float64(m.CurrentBattery) / 100)
	}
	if m.BatteryRemaining >= 0 && m.BatteryRemaining <= 100 {
		v.bat.remaining.Set(float64(m.BatteryRemaining))
	}
	return true
}

func (t *Tracker) gpsKnownBad(v *vehicle) bool {
	// GPS_RAW_INT seen and says no fix (0 no GPS, 1 no fix): no position
	return v.GPSFixType.Valid && v.GPSFixType.V < 2
}

func (t *Tracker) battery(v *vehicle, now time.Time, out *Output) {
	pct := v.BatteryRemaining.V
	switch {
	case pct < t.cfg.CriticalBattery && v.batteryLevel < 2:
		v.batteryLevel = 2
		out.Events = append(out.Events, t.event(v, now, drone.EventLowBattery, drone.SeverityCritical,
			fmt.Sprintf("battery at %.0f %%", pct), map[string]any{"battery_remaining": pct}))
	case pct < t.cfg.LowBattery && v.batteryLevel < 1:
		v.batteryLevel = 1
		out.Events = append(out.Events, t.event(v, now, drone.EventLowBattery, drone.SeverityWarning,
			fmt.Sprintf("battery at %.0f %%", pct), map[string]any{"battery_remaining": pct}))
	case pct >= t.cfg.LowBattery+5:
		v.batteryLevel = 0 // a fresh battery re-arms the alarms
	}
}

func (t *Tracker) heartbeat(v *vehicle, compid uint8, m *ardupilotmega.MessageHeartbeat, now time.Time, out *Output) {
	if uint8(m.Type) == drone.TypeGCS {
		if !v.confirmed {
			v.gcs = true // another ground station on the network: not a vehicle
		}
		return
	}
	if uint8(m.Autopilot) == drone.AutopilotInvalid || !drone.IsVehicleType(uint8(m.Type)) {
		return // a camera, gimbal, radio or companion computer, not an autopilot
	}
	first := !v.confirmed
	if first {
		v.confirmed, v.LinkUp, v.FirstSeen = true, true, now
	}
	v.LastHeartbeat = now
	v.Type = drone.TypeName(uint8(m.Type))
	v.Autopilot = drone.AutopilotName(uint8(m.Autopilot))
	v.SystemStatus = strings.ToLower(strings.TrimPrefix(m.SystemStatus.String(), "MAV_STATE_"))
	mode := drone.ModeName(uint8(m.Autopilot), uint8(m.Type), uint8(m.BaseMode), m.CustomMode)
	armed := drone.Armed(uint8(m.BaseMode))
	changed := false
	if first {
		out.Events = append(out.Events, t.event(v, now, drone.EventVehicleSeen, drone.SeverityInfo,
			fmt.Sprintf("%s %s, system id %d, mode %s", v.Autopilot, v.Type, v.SystemID, mode),
			map[string]any{"autopilot": v.Autopilot, "vehicle_type": v.Type, "component_id": compid}))
		changed = true
	} else {
		if mode != v.Mode {
			out.Events = append(out.Events, t.event(v, now, drone.EventModeChanged, drone.SeverityInfo,
				fmt.Sprintf("mode %s → %s", v.Mode, mode), map[string]any{"from": v.Mode, "to": mode}))
			changed = true
		}
		if armed != v.Armed {
			typ, msg := drone.EventDisarmed, "disarmed"
			if armed {
				typ, msg = drone.EventArmed, "armed"
			}
			out.Events = append(out.Events, t.event(v, now, typ, drone.SeverityInfo, msg, nil))
			changed = true
		}
	}
	v.Mode, v.Armed = mode, armed
	if t.due(v, GroupStatus, now, changed) {
		t.groupReadings(v, GroupStatus, now, out)
	}
}
