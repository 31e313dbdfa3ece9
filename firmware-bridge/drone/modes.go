package drone

import "fmt"

// MAVLink autopilot and vehicle type numbers the mode tables need
// (MAV_AUTOPILOT and MAV_TYPE).
const (
	AutopilotGeneric    = 0
	AutopilotArduPilot  = 3
	AutopilotInvalid    = 8
	AutopilotPX4        = 12
	TypeFixedWing       = 1
	TypeQuadrotor       = 2
	TypeGCS             = 6
	TypeGroundRover     = 10
	TypeSurfaceBoat     = 11
	TypeHexarotor       = 13
	TypeOctorotor       = 14
	TypeTricopter       = 15
	TypeVTOLFirst       = 19
	TypeVTOLLast        = 25
	TypeHelicopter      = 4
	TypeCoaxial         = 3
	baseModeCustomMode  = 1
	baseModeSafetyArmed = 128
)

// IsVehicleType reports whether a MAV_TYPE is a vehicle (something that
// flies, drives or sails), not a ground station, antenna tracker, gimbal,
// camera, ADS-B receiver, companion computer or other peripheral, nor the
// "generic" 0 a component sends when it is none of them.
func IsVehicleType(t uint8) bool {
	switch t {
	case 0, // MAV_TYPE_GENERIC
		5,       // ANTENNA_TRACKER
		TypeGCS, // GCS
		18,      // ONBOARD_CONTROLLER
		26, 27,  // GIMBAL, ADSB
		30, 31, 32, 33, 34, // CAMERA, CHARGING_STATION, FLARM, SERVO, ODID
		36, 37, 38, 39, 40, 41, // BATTERY, PARACHUTE, LOG, OSD, IMU, GPS
		42, 44: // WINCH, ILLUMINATOR
		return false
	}
	return true
}

// Armed reports whether a heartbeat's base_mode has MAV_MODE_FLAG_SAFETY_ARMED.
func Armed(baseMode uint8) bool { return baseMode&baseModeSafetyArmed != 0 }

// AutopilotName names a MAV_AUTOPILOT value.
func AutopilotName(ap uint8) string {
	switch ap {
	case AutopilotGeneric:
		return "generic"
	case AutopilotArduPilot:
		return "ardupilot"
	case AutopilotPX4:
		return "px4"
	case AutopilotInvalid:
		return "none"
	}
	return fmt.Sprintf("autopilot_%d", ap)
}

// TypeName names a MAV_TYPE value.
func TypeName(t uint8) string {
	switch t {
	case TypeFixedWing:
		return "fixed_wing"
	case TypeQuadrotor:
		return "quadrotor"
	case TypeCoaxial:
		return "coaxial"
	case TypeHelicopter:
		return "helicopter"
	case TypeGCS:
		return "gcs"
	case TypeGroundRover:
		return "ground_rover"
	case TypeSurfaceBoat:
		return "surface_boat"
	case TypeHexarotor:
		return "hexarotor"
	case TypeOctorotor:
		return "octorotor"
	case TypeTricopter:
		return "tricopter"
	}
	if t >= TypeVTOLFirst && t <= TypeVTOLLast {
		return "vtol"
	}
	return fmt.Sprintf("type_%d", t)
}

var copterModes = map[uint32]string{
	0: "STABILIZE", 1: "ACRO", 2: "ALT_HOLD", 3: "AUTO", 4: "GUIDED", 5: "LOITER", 6: "RTL",
	7: "CIRCLE", 9: "LAND", 11: "DRIFT", 13: "SPORT", 14: "FLIP", 15: "AUTOTUNE", 16: "POSHOLD",
	17: "BRAKE", 18: "THROW", 19: "AVOID_ADSB", 20: "GUIDED_NOGPS", 21: "SMART_RTL",
	22: "FLOWHOLD", 23: "FOLLOW", 24: "ZIGZAG", 25: "SYSTEMID", 26: "AUTOROTATE", 27: "AUTO_RTL",
}

var planeModes = map[uint32]string{
	0: "MANUAL", 1: "CIRCLE", 2: "STABILIZE", 3: "TRAINING", 4: "ACRO", 5: "FBWA", 6: "FBWB",
	7: "CRUISE", 8: "AUTOTUNE", 10: "AUTO", 11: "RTL", 12: "LOITER", 13: "TAKEOFF",
	14: "AVOID_ADSB", 15: "GUIDED", 17: "QSTABILIZE", 18: "QHOVER", 19: "QLOITER", 20: "QLAND",
	21: "QRTL", 22: "QAUTOTUNE", 23: "QACRO", 24: "THERMAL", 25: "LOITER_ALT_QLAND",
}

var roverModes = map[uint32]string{
	0: "MANUAL", 1: "ACRO", 3: "STEERING", 4: "HOLD", 5: "LOITER", 6: "FOLLOW", 7: "SIMPLE",
	10: "AUTO", 11: "RTL", 12: "SMART_RTL", 15: "GUIDED",
}

var px4MainModes = map[uint32]string{
	1: "MANUAL", 2: "ALTCTL", 3: "POSCTL", 4: "AUTO", 5: "ACRO", 6: "OFFBOARD",
	7: "STABILIZED", 8: "RATTITUDE",
}

var px4AutoModes = map[uint32]string{
	1: "AUTO_READY", 2: "AUTO_TAKEOFF", 3: "AUTO_LOITER", 4: "AUTO_MISSION", 5: "AUTO_RTL",
	6: "AUTO_LAND", 7: "AUTO_RTGS", 8: "AUTO_FOLLOW_TARGET", 9: "AUTO_PRECLAND",
}

// ArduPilot copter custom modes the simulator uses.
const (
	CopterStabilize uint32 = 0
	CopterAuto      uint32 = 3
	CopterGuided    uint32 = 4
	CopterLoiter    uint32 = 5
	CopterRTL       uint32 = 6
	CopterLand      uint32 = 9
)

// ModeName returns the flight-mode name of a heartbeat: ArduPilot custom modes
// per vehicle family (copter, plane, rover), PX4 main/sub modes, otherwise
// "MODE_<custom>" when the custom-mode flag is set and "BASE_<base>" when not.
func ModeName(autopilot, vehicleType, baseMode uint8, customMode uint32) string {
	if baseMode&baseModeCustomMode == 0 && autopilot != AutopilotArduPilot {
		return fmt.Sprintf("BASE_%d", baseMode&^baseModeSafetyArmed)
	}
	switch autopilot {
	case AutopilotArduPilot:
		var table map[uint32]string
		switch {
		case vehicleType == TypeFixedWing || vehicleType >= TypeVTOLFirst && vehicleType <= TypeVTOLLast:
			table = planeModes
		case vehicleType == TypeGroundRover || vehicleType == TypeSurfaceBoat:
			table = roverModes
		default:
			table = copterModes
		}
		if n, ok := table[customMode]; ok {
			return n
		}
	case AutopilotPX4:
		main, sub := (customMode>>16)&0xff, (customMode>>24)&0xff
		if main == 4 {
			if n, ok := px4AutoModes[sub]; ok {
				return n
			}
		}
		if n, ok := px4MainModes[main]; ok {
			return n
		}
	}
	return fmt.Sprintf("MODE_%d", customMode)
}
