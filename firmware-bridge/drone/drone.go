// Package drone is the platform's model of a drone seen over MAVLink: the state
// the bridge keeps for each vehicle (identity, mode, arming, position, attitude,
// GPS, battery, mission progress, link quality), the quantities and SenML units
// it publishes, the events it emits, and the flight-mode names of ArduPilot and
// PX4. It knows nothing about MAVLink framing or transports: the bridge in
// firmware-bridge fills it from decoded messages.
package drone

import (
	"fmt"
	"time"
)

// Quantities published for a drone, with their SenML units. Angles are in
// radians ("rad", a SenML primary unit): heading is measured clockwise from
// true north in [0, 2π), roll/pitch/yaw as the autopilot reports them.
const (
	QLatitude         = "latitude"          // "lat", WGS84 degrees
	QLongitude        = "longitude"         // "lon", WGS84 degrees
	QAltitude         = "altitude"          // "m", above mean sea level
	QRelativeAltitude = "relative_altitude" // "m", above home
	QGroundSpeed      = "ground_speed"      // "m/s"
	QHeading          = "heading"           // "rad"
	QClimbRate        = "climb_rate"        // "m/s", positive up
	QRoll             = "roll"              // "rad"
	QPitch            = "pitch"             // "rad"
	QYaw              = "yaw"               // "rad"
	QGPSFixType       = "gps_fix_type"      // "" (MAVLink GPS_FIX_TYPE: 0 no GPS … 3 3D, 4 DGPS, 5/6 RTK)
	QSatellites       = "satellites"        // "count"
	QGPSHDOP          = "gps_hdop"          // "" (dimensionless)
	QBatteryVoltage   = "battery_voltage"   // "V"
	QBatteryCurrent   = "battery_current"   // "A"
	QBatteryRemaining = "battery_remaining" // "%EL"
	// QBatteryTemperature is BATTERY_STATUS's temperature: "Cel".
	QBatteryTemperature = "battery_temperature"
	QMissionItem        = "mission_item" // "" (sequence number of the item in progress)
	QLinkQuality        = "link_quality" // "/" (received / expected frames, 0…1)
	QPacketsLost        = "packets_lost" // "count" (lost in the window, from sequence gaps)
	QArmed              = "armed"        // boolean
	// RADIO_STATUS of the telemetry radio serving the vehicle (SiK, RFD900):
	// signal and noise in the radio's own units (0…254, SiK: dBm ≈ value/1.9 − 127),
	// local (the radio that sent it) and remote (its peer), and its cumulative
	// counters of receive errors and of packets corrected by error correction.
	QRadioRSSI        = "radio_rssi"         // "" (device units)
	QRadioRemoteRSSI  = "radio_remote_rssi"  // ""
	QRadioNoise       = "radio_noise"        // ""
	QRadioRemoteNoise = "radio_remote_noise" // ""
	QRadioRxErrors    = "radio_rx_errors"    // "count", since the radio started
	QRadioFixed       = "radio_fixed"        // "count", since the radio started
	QFlightMode       = "flight_mode"        // text, e.g. "AUTO", "RTL"
)

// SenML units used by the drone quantities.
const (
	UnitLat     = "lat"
	UnitLon     = "lon"
	UnitMetre   = "m"
	UnitSpeed   = "m/s"
	UnitRadian  = "rad"
	UnitCount   = "count"
	UnitVolt    = "V"
	UnitAmpere  = "A"
	UnitPercent = "%EL"
	UnitRatio   = "/"
	UnitCelsius = "Cel"
)

// MaxBatteryCells is the number of cells BATTERY_STATUS can report (10 in
// voltages, 4 more in the MAVLink 2 extension voltages_ext).
const MaxBatteryCells = 14

// BatteryCellQuantity is the quantity of cell n (1-based) of the main
// battery: "battery_cell_1" … "battery_cell_14", in "V".
func BatteryCellQuantity(n int) string { return fmt.Sprintf("battery_cell_%d", n) }

// Float is an optional number: Valid is false while the autopilot has not sent
// it, or has sent its "unknown" sentinel (UINT16_MAX, -1, no fix…).
type Float struct {
	V     float64
	Valid bool
}

// Set stores v as a known value.
func (f *Float) Set(v float64) { f.V, f.Valid = v, true }

// Clear marks the value unknown.
func (f *Float) Clear() { *f = Float{} }

// State is what the bridge knows about one vehicle.
type State struct {
	SystemID  uint8
	Device    string // platform device id, e.g. "drone-1"
	Type      string // vehicle type, e.g. "quadrotor", "fixed_wing"
	Autopilot string // "ardupilot", "px4", "generic" …
	Mode      string // flight mode name, e.g. "AUTO"; "" until the first heartbeat
	Armed     bool
	// SystemStatus is MAV_STATE as text: "standby", "active", "critical" …
	SystemStatus string

	Latitude, Longitude Float // degrees
	Altitude            Float // metres AMSL
	RelativeAltitude    Float // metres above home
	GroundSpeed         Float // m/s
	Heading             Float // radians, clockwise from north, [0, 2π)
	ClimbRate           Float // m/s, positive up
	Roll, Pitch, Yaw    Float // radians
	GPSFixType          Float // MAVLink GPS_FIX_TYPE: 0 no GPS, 1 no fix, 2 2D, 3 3D
	Satellites          Float
	HDOP                Float
	BatteryVoltage      Float     // volts
	BatteryCurrent      Float     // amperes
	BatteryRemaining    Float     // percent
	BatteryTemperature  Float     // °C, from BATTERY_STATUS
	BatteryCells        []float64 // volts per cell, from BATTERY_STATUS (nil: not reported)
	MissionItem         Float     // sequence number of the current mission item
	Mission             string
	FramesReceived      uint64 // frames accepted from this vehicle
	FramesLost          uint64 // frames missing from sequence gaps
	LinkUp              bool
	LinkQuality         Float // 0…1 over the last link window
	FirstSeen, LastSeen time.Time
	LastHeartbeat       time.Time
	MAVLinkVersion      int // 1 or 2: the version of the last frame
	Signed              bool
}

// DeviceID returns the default device id of a system id: "drone-<sysid>".
func DeviceID(sysid uint8) string { return fmt.Sprintf("drone-%d", sysid) }

// Event types published on a drone's event topic.
const (
	EventVehicleSeen  = "vehicle_seen"
	EventArmed        = "armed"
	EventDisarmed     = "disarmed"
	EventModeChanged  = "mode_changed"
	EventStatusText   = "statustext"
	EventLinkLost     = "link_lost"
	EventLinkRegained = "link_regained"
	EventLowBattery   = "low_battery"
	EventMissionSet   = "mission_set"
)

// Event severities.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Event is a discrete happening of a vehicle, published as JSON on the event
// topic: {"type","time","severity","message","system_id","device",…}.
type Event struct {
	Type     string         `json:"type"`
	Time     time.Time      `json:"time"`
	Severity string         `json:"severity"`
	Message  string         `json:"message"`
	SystemID uint8          `json:"system_id"`
	Device   string         `json:"device"`
	Mission  string         `json:"mission,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
}

// SeverityOfMAV maps a MAVLink MAV_SEVERITY (0 emergency … 7 debug) to the
// platform's three severities.
func SeverityOfMAV(sev uint8) string {
	switch {
	case sev <= 2:
		return SeverityCritical
	case sev <= 4:
		return SeverityWarning
	default:
		return SeverityInfo
	}
}
