package dronesim

import (
	"math"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/cd06/smartdeal/firmware-bridge/drone"
)

// Message ids the simulator streams.
const (
	msgHeartbeat      = 0
	msgSysStatus      = 1
	msgGPSRawInt      = 24
	msgAttitude       = 30
	msgGlobalPosition = 33
	msgMissionCurrent = 42
	msgVfrHud         = 74
	msgBatteryStatus  = 147
	msgStatustext     = 253
)

// streamOf maps REQUEST_DATA_STREAM ids to the messages they carry, as ArduPilot does.
var streamOf = map[ardupilotmega.MAV_DATA_STREAM][]uint32{
	ardupilotmega.MAV_DATA_STREAM_ALL:             {msgSysStatus, msgGPSRawInt, msgAttitude, msgGlobalPosition, msgMissionCurrent, msgVfrHud, msgBatteryStatus},
	ardupilotmega.MAV_DATA_STREAM_EXTENDED_STATUS: {msgSysStatus, msgGPSRawInt, msgMissionCurrent},
	ardupilotmega.MAV_DATA_STREAM_POSITION:        {msgGlobalPosition},
	ardupilotmega.MAV_DATA_STREAM_EXTRA1:          {msgAttitude},
	ardupilotmega.MAV_DATA_STREAM_EXTRA2:          {msgVfrHud},
	ardupilotmega.MAV_DATA_STREAM_EXTRA3:          {msgBatteryStatus},
}

type schedule struct {
	interval map[uint32]time.Duration // 0 or missing: not sent
	next     map[uint32]time.Time
}

func (s *Sim) initSchedule() {
	if s.started {
		return
	}
	s.started = true
	s.sched = schedule{interval: map[uint32]time.Duration{msgHeartbeat: time.Second}, next: map[uint32]time.Time{}}
	if !s.cfg.WaitStreamRequest {
		fast, slow := s.cfg.Interval, s.cfg.Interval
		if fast == 0 {
			fast, slow = 100*time.Millisecond, 500*time.Millisecond
		}
		for _, id := range []uint32{msgGlobalPosition, msgAttitude} {
			s.sched.interval[id] = fast
		}
		for _, id := range []uint32{msgSysStatus, msgGPSRawInt, msgMissionCurrent, msgVfrHud, msgBatteryStatus} {
			s.sched.interval[id] = slow
		}
	}
}

// SetMessageInterval applies a SET_MESSAGE_INTERVAL request: -1 stops the
// message, 0 restores the default, otherwise the interval in microseconds.
func (s *Sim) SetMessageInterval(id uint32, us float32) bool {
	s.initSchedule()
	switch id {
	case msgSysStatus, msgGPSRawInt, msgAttitude, msgGlobalPosition, msgMissionCurrent, msgVfrHud:
	default:
		return false
	}
	switch {
	case us < 0:
		delete(s.sched.interval, id)
	case us == 0:
		s.sched.interval[id] = 500 * time.Millisecond
	default:
		s.sched.interval[id] = time.Duration(us) * time.Microsecond
	}
	s.StreamRequests++
	return true
}

// RequestDataStream applies an old-style REQUEST_DATA_STREAM.
func (s *Sim) RequestDataStream(id ardupilotmega.MAV_DATA_STREAM, hz uint16, start bool) {
	s.initSchedule()
	for _, m := range streamOf[id] {
		if !start || hz == 0 {
			delete(s.sched.interval, m)
			continue
		}
		s.sched.interval[m] = time.Second / time.Duration(hz)
	}
	s.StreamRequests++
}

// Messages returns the messages due at the model's current time: telemetry at
// its intervals, then any STATUSTEXT the flight produced.
func (s *Sim) Messages() []message.Message {
	s.initSchedule()
	now := s.st.Time
	var out []message.Message
	for _, id := range []uint32{msgHeartbeat, msgGlobalPosition, msgAttitude, msgVfrHud, msgGPSRawInt, msgSysStatus, msgBatteryStatus, msgMissionCurrent} {
		iv, ok := s.sched.interval[id]
		if !ok || iv <= 0 {
			continue
		}
		if next, ok := s.sched.next[id]; ok && now.Before(next) {
			continue
		}
		next := s.sched.next[id].Add(iv)
		if next.Before(now) || s.sched.next[id].IsZero() {
			next = now.Add(iv)
		}
		s.sched.next[id] = next
		out = append(out, s.message(id))
	}
	for _, t := range s.texts {
		out = append(out, &ardupilotmega.MessageStatustext{Severity: ardupilotmega.MAV_SEVERITY(t.sev), Text: t.text})
	}
	s.texts = s.texts[:0]
	return out
}

func (s *Sim) message(id uint32) message.Message {
	st := &s.st
	bootMs := uint32(st.Time.Sub(s.start) / time.Millisecond)
	switch id {
	case msgHeartbeat:
		base := ardupilotmega.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | ardupilotmega.MAV_MODE_FLAG_STABILIZE_ENABLED
		state := ardupilotmega.MAV_STATE_STANDBY
		if st.Armed {
			base |= ardupilotmega.MAV_MODE_FLAG_SAFETY_ARMED
			state = ardupilotmega.MAV_STATE_ACTIVE
		}
		return &ardupilotmega.MessageHeartbeat{Type: ardupilotmega.MAV_TYPE(drone.TypeQuadrotor),
			Autopilot: ardupilotmega.MAV_AUTOPILOT(drone.AutopilotArduPilot), BaseMode: base,
			CustomMode: st.Mode, SystemStatus: state, MavlinkVersion: 3}
	case msgGlobalPosition:
		m := &ardupilotmega.MessageGlobalPositionInt{TimeBootMs: bootMs, Hdg: math.MaxUint16}
		if !s.cfg.NoGPS {
			lat, lon := s.noisy()
			m.Lat, m.Lon = int32(math.Round(lat*1e7)), int32(math.Round(lon*1e7))
			m.Alt = int32(math.Round((s.cfg.HomeAltitude + st.RelAlt) * 1000))
			m.RelativeAlt = int32(math.Round(st.RelAlt * 1000))
			m.Vx = int16(math.Round(st.Speed * math.Cos(st.Heading) * 100))
			m.Vy = int16(math.Round(st.Speed * math.Sin(st.Heading) * 100))
			m.Vz = int16(math.Round(-st.Climb * 100))
			m.Hdg = uint16(math.Round(st.Heading*180/math.Pi*100)) % 36000
		}
		return m
	case msgAttitude:
		return &ardupilotmega.MessageAttitude{TimeBootMs: bootMs, Roll: float32(st.Roll),
			Pitch: float32(st.Pitch), Yaw: float32(st.Yaw)}
	case msgVfrHud:
		return &ardupilotmega.MessageVfrHud{Groundspeed: float32(st.Speed), Airspeed: float32(st.Speed),
			Heading: int16(math.Round(st.Heading * 180 / math.Pi)), Throttle: uint16(boolInt(st.Armed) * 45),
			Alt: float32(s.cfg.HomeAltitude + st.RelAlt), Climb: float32(st.Climb)}
	case msgGPSRawInt:
		if s.cfg.NoGPS {
			return &ardupilotmega.MessageGpsRawInt{TimeUsec: uint64(st.Time.UnixMicro()),
				FixType: ardupilotmega.GPS_FIX_TYPE_NO_GPS, Eph: math.MaxUint16, Epv: math.MaxUint16,
				Vel: math.MaxUint16, Cog: math.MaxUint16, SatellitesVisible: math.MaxUint8}
		}
		lat, lon := s.noisy()
		return &ardupilotmega.MessageGpsRawInt{TimeUsec: uint64(st.Time.UnixMicro()),
			FixType: ardupilotmega.GPS_FIX_TYPE_3D_FIX, Lat: int32(lat * 1e7), Lon: int32(lon * 1e7),
			Alt: int32((s.cfg.HomeAltitude + st.RelAlt) * 1000), Eph: 90, Epv: 140,
			Vel: uint16(st.Speed * 100), Cog: uint16(math.Round(st.Heading*180/math.Pi*100)) % 36000,
			SatellitesVisible: 14}
	case msgSysStatus:
		m := &ardupilotmega.MessageSysStatus{Load: 250}
		if s.cfg.NoBattery {
			m.VoltageBattery, m.CurrentBattery, m.BatteryRemaining = math.MaxUint16, -1, -1
		} else {
			m.VoltageBattery = uint16(math.Round((10.5 + 2.1*st.Battery/100) * 1000))
			m.CurrentBattery = int16(boolInt(st.Armed)*1700 + 80)
			m.BatteryRemaining = int8(math.Round(st.Battery))
		}
		return m
	case msgBatteryStatus:
		// a 3S pack, its cells balanced, as ArduPilot reports a monitored one
		m := &ardupilotmega.MessageBatteryStatus{BatteryFunction: ardupilotmega.MAV_BATTERY_FUNCTION_ALL,
			Type: ardupilotmega.MAV_BATTERY_TYPE_LIPO, CurrentConsumed: -1, EnergyConsumed: -1}
		for i := range m.Voltages {
			m.Voltages[i] = math.MaxUint16
		}
		if s.cfg.NoBattery {
			m.Temperature, m.CurrentBattery, m.BatteryRemaining = math.MaxInt16, -1, -1
		} else {
			cell := uint16(math.Round((10.5 + 2.1*st.Battery/100) * 1000 / 3))
			m.Voltages[0], m.Voltages[1], m.Voltages[2] = cell, cell, cell
			m.Temperature = int16(2500 + boolInt(st.Armed)*800)
			m.CurrentBattery = int16(boolInt(st.Armed)*1700 + 80)
			m.BatteryRemaining = int8(math.Round(st.Battery))
		}
		return m
	case msgMissionCurrent:
		return &ardupilotmega.MessageMissionCurrent{Seq: uint16(st.Waypoint), Total: uint16(st.Waypoints)}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
