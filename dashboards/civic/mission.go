package civic

import (
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/cd06/smartdeal"
)

// MissionStatus is a mission's state: planned → active → completed | aborted.
type MissionStatus string

// Mission states.
const (
	MissionPlanned   MissionStatus = "planned"
	MissionActive    MissionStatus = "active"
	MissionCompleted MissionStatus = "completed"
	MissionAborted   MissionStatus = "aborted"
)

// MissionKinds are the public-service missions the département flies.
var MissionKinds = []string{"wildfire_watch", "flood_survey", "coastline", "inspection", "other"}

// Mission is a public-service drone flight.
type Mission struct {
	ID          string          `json:"id"`
	Title       string          `json:"title"`
	Kind        string          `json:"kind"`
	Area        json.RawMessage `json:"area"` // GeoJSON Polygon
	PlannedFrom time.Time       `json:"planned_from"`
	PlannedTo   time.Time       `json:"planned_to"`
	AgentID     string          `json:"agent_id"`
	SiteID      string          `json:"site_id"`
	DroneID     string          `json:"drone_id"`
	Status      MissionStatus   `json:"status"`
	Started     *time.Time      `json:"started,omitempty"`
	Ended       *time.Time      `json:"ended,omitempty"`
	ProposalIDs []string        `json:"proposal_ids"`
	Created     time.Time       `json:"created"`
}

// FlightWindow is where a mission's flight data lies, the span of its track
// and of the flight logs it takes: from the earlier of its start and its
// planned start (a log recorded before the agent pressed start belongs to
// it; live telemetry carries the mission only from the start) to its end,
// else now, a minute either side for clock skew. ok is false for a mission
// that has not flown (planned, or an empty window).
func (m *Mission) FlightWindow(now time.Time) (start, stop time.Time, ok bool) {
	start, stop = m.PlannedFrom, now
	if m.Started != nil && m.Started.Before(start) {
		start = *m.Started
	}
	if m.Ended != nil {
		stop = *m.Ended
	}
	if m.Status == MissionPlanned || !stop.After(start) {
		return start, stop, false
	}
	return start.Add(-time.Minute), stop.Add(time.Minute), true
}

// Validate checks a new mission's fields, including its GeoJSON area.
func (m *Mission) Validate() error {
	if m.ID != "" && !smartdeal.ValidID(m.ID) {
		return FieldError("id", "want [a-z0-9][a-z0-9_-]{0,62}")
	}
	m.Title = strings.TrimSpace(m.Title)
	if err := checkText("title", m.Title, 3, 200); err != nil {
		return err
	}
	ok := false
	for _, k := range MissionKinds {
		ok = ok || k == m.Kind
	}
	if !ok {
		return FieldError("kind", "want one of %s", strings.Join(MissionKinds, ", "))
	}
	if err := ValidatePolygon(m.Area); err != nil {
		return err
	}
	if m.PlannedFrom.IsZero() || !m.PlannedTo.After(m.PlannedFrom) {
		return FieldError("planned_to", "the window needs planned_from < planned_to")
	}
	if m.PlannedTo.Sub(m.PlannedFrom) > 7*24*time.Hour {
		return FieldError("planned_to", "a mission window is at most 7 days")
	}
	if err := smartdeal.CheckID("site", m.SiteID); err != nil {
		return FieldError("site_id", "want [a-z0-9][a-z0-9_-]{0,62}")
	}
	if err := smartdeal.CheckID("device", m.DroneID); err != nil {
		return FieldError("drone_id", "want [a-z0-9][a-z0-9_-]{0,62}")
	}
	if m.AgentID == "" {
		return FieldError("agent_id", "required")
	}
	return nil
}

// CheckMissionTransition returns nil when a mission may go from → to.
func CheckMissionTransition(from, to MissionStatus) error {
	switch {
	case from == MissionPlanned && (to == MissionActive || to == MissionAborted),
		from == MissionActive && (to == MissionCompleted || to == MissionAborted):
		return nil
	case to != MissionActive && to != MissionCompleted && to != MissionAborted && to != MissionPlanned:
		return FieldError("status", "unknown mission status %q", to)
	}
	return Errorf(ECONFLICT, "a mission cannot go from %s to %s", from, to)
}

func jsonErrText(err error) string { return truncate(err.Error(), 120) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// DeviceKind is what a device is.
type DeviceKind string

// Device kinds.
const (
	DeviceSensor  DeviceKind = "sensor"
	DeviceGateway DeviceKind = "gateway"
	DeviceDrone   DeviceKind = "drone"
)

// Site is a place where devices are installed.
type Site struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Location Point     `json:"location"`
	Created  time.Time `json:"created"`
}

// Validate checks a site.
func (s *Site) Validate() error {
	if !smartdeal.ValidID(s.ID) {
		return FieldError("id", "want [a-z0-9][a-z0-9_-]{0,62}")
	}
	s.Name = strings.TrimSpace(s.Name)
	if err := checkText("name", s.Name, 1, 200); err != nil {
		return err
	}
	return s.Location.Validate("location")
}

// DeviceQuantity is one quantity a device measures, with its SenML unit.
type DeviceQuantity struct {
	Quantity string `json:"quantity"`
	Unit     string `json:"unit"`
}

// Device is a sensor, gateway or drone registered at a site.
type Device struct {
	ID         string           `json:"id"`
	SiteID     string           `json:"site_id"`
	Kind       DeviceKind       `json:"kind"`
	Model      string           `json:"model"`
	Quantities []DeviceQuantity `json:"quantities"`
	MQTTUser   string           `json:"mqtt_user,omitempty"`
	LastSeen   *time.Time       `json:"last_seen,omitempty"`
	Status     string           `json:"status"`
	Created    time.Time        `json:"created"`
}

// DeviceStatusChange is one transition of a device's reported status
// ("online", "offline") at the time the device reported it.
type DeviceStatusChange struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// Validate checks a device.
func (d *Device) Validate() error {
	if !smartdeal.ValidID(d.ID) {
		return FieldError("id", "want [a-z0-9][a-z0-9_-]{0,62}")
	}
	if !smartdeal.ValidID(d.SiteID) {
		return FieldError("site_id", "want [a-z0-9][a-z0-9_-]{0,62}")
	}
	switch d.Kind {
	case DeviceSensor, DeviceGateway, DeviceDrone:
	default:
		return FieldError("kind", "want sensor, gateway or drone")
	}
	if err := checkText("model", d.Model, 0, 100); err != nil {
		return err
	}
	if len(d.Quantities) > 64 {
		return FieldError("quantities", "at most 64")
	}
	for i, q := range d.Quantities {
		if !smartdeal.ValidQuantity(q.Quantity) {
			return FieldError("quantities", "entry %d: invalid quantity name", i)
		}
		if !smartdeal.ValidUnit(q.Unit) {
			return FieldError("quantities", "entry %d: invalid unit", i)
		}
	}
	if d.Status == "" {
		d.Status = "unknown"
	}
	return nil
}

// Link ties a proposal or a mission to a series (device + quantity).
type Link struct {
	ID         string    `json:"id"`
	ProposalID string    `json:"proposal_id,omitempty"`
	MissionID  string    `json:"mission_id,omitempty"`
	SiteID     string    `json:"site_id"`
	DeviceID   string    `json:"device_id"`
	Quantity   string    `json:"quantity"`
	Created    time.Time `json:"created"`
}

// Validate checks a link: exactly one owner and a valid series.
func (l *Link) Validate() error {
	if (l.ProposalID == "") == (l.MissionID == "") {
		return FieldError("proposal_id", "exactly one of proposal_id and mission_id is required")
	}
	if !smartdeal.ValidID(l.SiteID) {
		return FieldError("site_id", "want [a-z0-9][a-z0-9_-]{0,62}")
	}
	if !smartdeal.ValidID(l.DeviceID) {
		return FieldError("device_id", "want [a-z0-9][a-z0-9_-]{0,62}")
	}
	if !smartdeal.ValidQuantity(l.Quantity) {
		return FieldError("quantity", "want [a-z][a-z0-9_]{0,62}")
	}
	return nil
}

// DistanceMeters is the great-circle (haversine) distance between two points.
func DistanceMeters(a, b Point) float64 {
	const r = 6371008.8
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}
