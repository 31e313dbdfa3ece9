// Package dronesim simulates ArduPilot copters over MAVLink (gomavlib): each
// vehicle arms, takes off, flies a lawn-mower survey over a polygon at a set
// speed and altitude, returns to launch and lands, with battery drain, GPS
// noise, mode changes and STATUSTEXT messages. It answers SET_MESSAGE_INTERVAL
// and REQUEST_DATA_STREAM like ArduPilot, can sign its frames (MAVLink 2), can
// send the "unknown" sentinels of a vehicle without battery monitor or GPS, and
// can write what it sends to a .tlog. With Config.Repeat it flies again after
// each landing. Fleet flies several vehicles to one endpoint in-process. The
// all-in-one demo, cmd/dronesim and the bridge's tests use it.
package dronesim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/frame"

	"github.com/cd06/smartdeal/firmware-bridge/drone"
)

// Point is a WGS84 position in degrees.
type Point struct {
	Lat, Lon float64
}

// DefaultHome is the launch point of the default survey: the Var river mouth
// near Nice airport (Alpes-Maritimes), a flood-survey site.
var DefaultHome = Point{Lat: 43.6584, Lon: 7.1960}

// DefaultPolygon is a ~300 m × 200 m survey area next to DefaultHome.
var DefaultPolygon = []Point{
	{43.6590, 7.1965}, {43.6590, 7.2002}, {43.6608, 7.2002}, {43.6608, 7.1965},
}

// Config configures one simulated vehicle. Zero values take the defaults named.
type Config struct {
	// SystemID of the vehicle, 1…254; required.
	SystemID uint8
	// (optional) MAVLink version of its frames, 1 or 2; defaults to 2.
	Version int
	// (optional) signs every frame with this key (forces MAVLink 2) and
	// requires incoming frames to be signed with it.
	Key *frame.V2Key
	// (optional) launch point; defaults to DefaultHome. HomeAltitude is AMSL
	// in metres; defaults to 5.
	Home         Point
	HomeAltitude float64
	// (optional) survey polygon; defaults to DefaultPolygon.
	Polygon []Point
	// (optional) distance between survey lanes in metres; defaults to 40.
	Spacing float64
	// (optional) ground speed in m/s; defaults to 12.
	Speed float64
	// (optional) survey altitude above home in metres; defaults to 60.
	Altitude float64
	// (optional) battery use while armed in percent per minute; defaults to 4.
	BatteryDrain float64
	// (optional) battery percentage at start; defaults to 100.
	BatteryStart float64
	// (optional) battery percentage that triggers a return to launch; defaults to 25.
	BatteryRTL float64
	// (optional) standard deviation of GPS noise in metres; defaults to 1.5; negative: none.
	GPSNoise float64
	// (optional) seconds on the ground before arming; defaults to 2.
	ArmAfter time.Duration
	// (optional) interval of each telemetry message before any request; defaults
	// to 100 ms for positions and attitude, 500 ms for the rest. Heartbeats go
	// out every second.
	Interval time.Duration
	// (optional) send only heartbeats until a stream request arrives, as an
	// ArduPilot with SRx_ parameters at 0.
	WaitStreamRequest bool
	// (optional) no battery monitor: SYS_STATUS carries the unknown sentinels
	// (voltage UINT16_MAX, current -1, remaining -1).
	NoBattery bool
	// (optional) no GPS: fix type 0, satellites 255, position 0/0.
	NoGPS bool
	// (optional) random seed; defaults to the system id.
	Seed uint64
	// (optional) after landing, stay on the ground this long (simulated
	// time), swap the battery and fly the survey again, for ever; 0: stay
	// landed after the first flight.
	Repeat time.Duration
}

func (c *Config) setDefaults() {
	if c.Version == 0 {
		c.Version = 2
	}
	if c.Home == (Point{}) {
		c.Home = DefaultHome
	}
	if c.HomeAltitude == 0 {
		c.HomeAltitude = 5
	}
	if len(c.Polygon) == 0 {
		c.Polygon = DefaultPolygon
	}
	if c.Spacing == 0 {
		c.Spacing = 40
	}
	if c.Speed == 0 {
		c.Speed = 12
	}
	if c.Altitude == 0 {
		c.Altitude = 60
	}
	if c.BatteryDrain == 0 {
		c.BatteryDrain = 4
	}
	if c.BatteryStart == 0 {
		c.BatteryStart = 100
	}
	if c.BatteryRTL == 0 {
		c.BatteryRTL = 25
	}
	if c.GPSNoise == 0 {
		c.GPSNoise = 1.5
	}
	if c.ArmAfter == 0 {
		c.ArmAfter = 2 * time.Second
	}
	if c.Seed == 0 {
		c.Seed = uint64(c.SystemID)
	}
}

// Validate checks the configuration; errors name the field.
func (c Config) Validate() error {
	var errs []error
	if c.SystemID == 0 || c.SystemID == 255 {
		errs = append(errs, errors.New("system_id: want 1…254"))
	}
	if c.Version != 0 && c.Version != 1 && c.Version != 2 {
		errs = append(errs, fmt.Errorf("version: want 1 or 2, got %d", c.Version))
	}
	if c.Key != nil && c.Version == 1 {
		errs = append(errs, errors.New("key: signing needs MAVLink 2 (version: 2)"))
	}
	if len(c.Polygon) != 0 && len(c.Polygon) < 3 {
		errs = append(errs, errors.New("polygon: want at least 3 points"))
	}
	for name, v := range map[string]float64{"spacing": c.Spacing, "speed": c.Speed, "altitude": c.Altitude,
		"battery_drain": c.BatteryDrain} {
		if v < 0 || math.IsNaN(v) {
			errs = append(errs, fmt.Errorf("%s: must not be negative", name))
		}
	}
	if c.BatteryStart < 0 || c.BatteryStart > 100 {
		errs = append(errs, errors.New("battery_start: want 0…100"))
	}
	if c.Repeat < 0 {
		errs = append(errs, errors.New("repeat: must not be negative"))
	}
	return errors.Join(errs...)
}

// Phase is where the vehicle is in its flight.
type Phase int

// Flight phases, in order. With Config.Repeat, PhaseDone (landed) goes back
// to PhaseGround after the pause.
const (
	PhaseGround Phase = iota
	PhaseTakeoff
	PhaseSurvey
	PhaseRTL
	PhaseLand
	PhaseDone
)

func (p Phase) String() string {
	return [...]string{"ground", "takeoff", "survey", "rtl", "land", "done"}[p]
}

// State is the simulated truth (before GPS noise).
type State struct {
	Time             time.Time
	Phase            Phase
	Mode             uint32 // ArduCopter custom mode
	Armed            bool
	X, Y             float64 // metres east and north of home
	RelAlt           float64 // metres above home
	Lat, Lon         float64 // degrees, without noise
	Heading          float64 // radians, clockwise from north
	Speed, Climb     float64 // m/s
	Battery          float64 // percent
	Waypoint         int     // current mission item (1-based, 0 before the survey)
	Waypoints        int
	Flights          int // flights completed (landed), see Config.Repeat
	Roll, Pitch, Yaw float64
}

// Sim is the flight model of one vehicle; it does no I/O. Vehicle runs it on
// a MAVLink link, WriteTlog into a log.
type Sim struct {
	cfg     Config
	rng     *rand.Rand
	st      State
	start   time.Time    // boot time
	ground  time.Time    // on the ground, disarmed, since
	path    [][2]float64 // survey waypoints, local metres
	texts   []statusText
	flown   float64
	started bool
	sched   schedule

	// StreamRequests counts the stream requests the vehicle obeyed.
	StreamRequests int
}

type statusText struct {
	sev  uint8
	text string
}

// NewSim returns the flight model at its start time.
func NewSim(cfg Config, start time.Time) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	s := &Sim{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x5eed)), start: start, ground: start}
	s.path = LawnMower(cfg.Home, cfg.Polygon, cfg.Spacing)
	if len(s.path) == 0 {
		return nil, errors.New("polygon: no survey lane fits (too small for the spacing?)")
	}
	s.st = State{Time: start, Phase: PhaseGround, Mode: drone.CopterStabilize, Battery: cfg.BatteryStart,
		Waypoints: len(s.path), Lat: cfg.Home.Lat, Lon: cfg.Home.Lon}
	return s, nil
}

// State returns the current truth.
func (s *Sim) State() State { return s.st }

// Config returns the configuration with defaults filled in.
func (s *Sim) Config() Config { return s.cfg }

func (s *Sim) say(sev uint8, format string, args ...any) {
	s.texts = append(s.texts, statusText{sev, fmt.Sprintf(format, args...)})
}

// Step advances the model to t (steps of at most 100 ms).
func (s *Sim) Step(t time.Time) {
	for s.st.Time.Before(t) {
		dt := t.Sub(s.st.Time)
		if dt > 100*time.Millisecond {
			dt = 100 * time.Millisecond
		}
		s.step(dt.Seconds())
		s.st.Time = s.st.Time.Add(dt)
	}
}

func (s *Sim) step(dt float64) {
	st := &s.st
	if st.Armed {
		st.Battery = math.Max(0, st.Battery-s.cfg.BatteryDrain/60*dt)
	}
	switch st.Phase {
	case PhaseGround:
		if st.Time.Sub(s.ground) >= s.cfg.ArmAfter {
			st.Mode, st.Armed, st.Phase = drone.CopterGuided, true, PhaseTakeoff
			s.say(6, "Arming motors")
			s.say(6, "Takeoff to %.0f m", s.cfg.Altitude)
		}
	case PhaseTakeoff:
		st.Climb = 3
		st.RelAlt += st.Climb * dt
		if st.RelAlt >= s.cfg.Altitude {
			st.RelAlt, st.Climb = s.cfg.Altitude, 0
			st.Mode, st.Phase, st.Waypoint = drone.CopterAuto, PhaseSurvey, 1
			s.say(6, "Mission: %d WP", len(s.path))
		}
	case PhaseSurvey:
		if st.Battery < s.cfg.BatteryRTL {
			s.say(4, "Battery failsafe: %.0f%%, returning to launch", st.Battery)
			st.Mode, st.Phase = drone.CopterRTL, PhaseRTL
			break
		}
		wp := s.path[st.Waypoint-1]
		if s.moveTo(wp[0], wp[1], dt) {
			s.say(6, "Reached command #%d", st.Waypoint)
			if st.Waypoint == len(s.path) {
				s.say(6, "Mission complete, RTL")
				st.Mode, st.Phase = drone.CopterRTL, PhaseRTL
			} else {
				st.Waypoint++
			}
		}
	case PhaseRTL:
		if s.moveTo(0, 0, dt) {
			st.Mode, st.Phase = drone.CopterLand, PhaseLand
			s.say(6, "Landing")
		}
	case PhaseLand:
		st.Speed, st.Climb = 0, -1.5
		st.RelAlt += st.Climb * dt
		if st.RelAlt <= 0 {
			st.RelAlt, st.Climb, st.Armed, st.Phase = 0, 0, false, PhaseDone
			st.Flights++
			s.ground = st.Time
			s.say(6, "Land complete, disarming")
		}
	case PhaseDone:
		if s.cfg.Repeat > 0 && st.Time.Sub(s.ground) >= s.cfg.Repeat {
			// battery swapped, mission restarted: arms after ArmAfter
			st.Phase, st.Mode, st.Waypoint, st.Battery = PhaseGround, drone.CopterStabilize, 0, s.cfg.BatteryStart
			s.ground = st.Time
			s.say(6, "Battery swapped, flight %d", st.Flights+1)
		}
	}
	st.Roll = 0
	st.Pitch = -0.012 * st.Speed
	st.Yaw = st.Heading
	if st.Yaw > math.Pi {
		st.Yaw -= 2 * math.Pi
	}
	st.Lat, st.Lon = toLatLon(s.cfg.Home, st.X, st.Y)
}

// moveTo flies towards local point (x, y) at the configured speed and reports arrival.
func (s *Sim) moveTo(x, y, dt float64) bool {
	st := &s.st
	dx, dy := x-st.X, y-st.Y
	d := math.Hypot(dx, dy)
	step := s.cfg.Speed * dt
	if d > 0.01 {
		h := math.Atan2(dx, dy)
		if h < 0 {
			h += 2 * math.Pi
		}
		// bank into turns a little, for a plausible attitude
		st.Heading = h
	}
	if d <= step {
		st.X, st.Y, st.Speed = x, y, d/dt
		s.flown += d
		return true
	}
	st.X += dx / d * step
	st.Y += dy / d * step
	st.Speed = s.cfg.Speed
	s.flown += step
	return false
}

// noisy returns the position as the GPS reports it.
func (s *Sim) noisy() (lat, lon float64) {
	if s.cfg.GPSNoise < 0 {
		return s.st.Lat, s.st.Lon
	}
	x := s.st.X + s.rng.NormFloat64()*s.cfg.GPSNoise
	y := s.st.Y + s.rng.NormFloat64()*s.cfg.GPSNoise
	return toLatLon(s.cfg.Home, x, y)
}

const earthRadius = 6378137.0

func toLatLon(home Point, x, y float64) (float64, float64) {
	lat := home.Lat + y/earthRadius*180/math.Pi
	lon := home.Lon + x/(earthRadius*math.Cos(home.Lat*math.Pi/180))*180/math.Pi
	return lat, lon
}

func toLocal(home, p Point) (x, y float64) {
	y = (p.Lat - home.Lat) * math.Pi / 180 * earthRadius
	x = (p.Lon - home.Lon) * math.Pi / 180 * earthRadius * math.Cos(home.Lat*math.Pi/180)
	return x, y
}

// LawnMower returns the survey waypoints over a polygon, in metres east and
// north of home: lanes running east–west, spacing apart, flown alternately
// west→east and east→west, each lane clipped to the polygon (its outermost
// crossings, which is exact for convex polygons).
func LawnMower(home Point, polygon []Point, spacing float64) [][2]float64 {
	if len(polygon) < 3 || spacing <= 0 {
		return nil
	}
	pts := make([][2]float64, len(polygon))
	minY, maxY := math.Inf(1), math.Inf(-1)
	for i, p := range polygon {
		x, y := toLocal(home, p)
		pts[i] = [2]float64{x, y}
		minY, maxY = math.Min(minY, y), math.Max(maxY, y)
	}
	var path [][2]float64
	lane := 0
	for y := minY + spacing/2; y < maxY; y += spacing {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range pts {
			a, b := pts[i], pts[(i+1)%len(pts)]
			if (a[1] <= y) == (b[1] <= y) {
				continue
			}
			x := a[0] + (y-a[1])/(b[1]-a[1])*(b[0]-a[0])
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		if lo > hi {
			continue
		}
		if lane%2 == 0 {
			path = append(path, [2]float64{lo, y}, [2]float64{hi, y})
		} else {
			path = append(path, [2]float64{hi, y}, [2]float64{lo, y})
		}
		lane++
	}
	return path
}
