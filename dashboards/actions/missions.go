package actions

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
	"github.com/cd06/smartdeal/senml"
)

// The mission workflows: planning, the status steps (which tell the drone's
// bridge its active mission, retained) and the flight-log import. The JSON
// routes (POST /api/v1/missions, …/status, …/flightlog) and the mission
// control pages both call them, so they accept and refuse the same input.

// Publisher sends MQTT messages (paho in cmd/api, the embedded broker in the
// all-in-one).
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte, retained bool) error
}

// SetMissionCommand is the retained command that tells a drone's bridge its
// active mission ("" clears it).
type SetMissionCommand struct {
	ID      string `json:"id"`
	Cmd     string `json:"cmd"`
	Mission string `json:"mission"`
}

// PlanMission validates and stores a planned mission. Its linked proposals
// must be ones the planner may see: a hidden one is unknown, as the store
// says of a missing one.
func (s *Service) PlanMission(c *fiber.Ctx, m *civic.Mission) error {
	m.Status, m.Started, m.Ended = "", nil, nil
	for _, id := range m.ProposalIDs {
		if hidden, err := s.Unseen(c, id); err != nil {
			return err
		} else if hidden {
			return civic.FieldError("proposal_ids", "unknown proposal %q", id)
		}
	}
	if err := s.store.CreateMission(ctx(c), m); err != nil {
		return err
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: web.Caller(c).User.ID, Action: "mission.create", Target: m.ID})
	return nil
}

// OperableMission is the mission id if the caller may operate it (its
// agent, a risk manager or an administrator).
func (s *Service) OperableMission(c *fiber.Ctx, id string) (*civic.Mission, error) {
	m, err := s.store.Mission(ctx(c), id)
	if err != nil {
		return nil, err
	}
	if !civic.CanOperate(web.Caller(c).User, m) {
		return nil, civic.Errorf(civic.EFORBIDDEN, "only the mission's agent, a risk manager or an administrator may change it")
	}
	return m, nil
}

func (s *Service) publishMission(ctx context.Context, m *civic.Mission, mission string) error {
	if s.pub == nil {
		return civic.Errorf(civic.EUNAVAILABLE, "no MQTT publisher: the mission status is unchanged")
	}
	b, err := json.Marshal(SetMissionCommand{ID: civic.NewID(), Cmd: "set_mission", Mission: mission})
	if err != nil {
		return err
	}
	topic := s.cfg.Topics.Device(m.SiteID, m.DroneID, smartdeal.ChannelCmd)
	if err := s.pub.Publish(ctx, topic, b, true); err != nil {
		s.log.Error("publish set_mission", "topic", topic, "err", err)
		return civic.Errorf(civic.EUNAVAILABLE, "could not reach the drone's command topic; the mission status is unchanged")
	}
	return nil
}

// SetMissionStatus starts, completes or aborts a mission. The drone's
// active mission is published (retained) before the status is stored; if
// storing fails, the previous value is published again.
func (s *Service) SetMissionStatus(c *fiber.Ctx, id string, to civic.MissionStatus) (*civic.Mission, error) {
	m, err := s.OperableMission(c, id)
	if err != nil {
		return nil, err
	}
	if err := civic.CheckMissionTransition(m.Status, to); err != nil {
		return nil, err
	}
	next, prev := "", ""
	if to == civic.MissionActive {
		next = m.ID
	} else if m.Status == civic.MissionActive {
		prev = m.ID
	}
	publish := to == civic.MissionActive || m.Status == civic.MissionActive
	if publish {
		if err := s.publishMission(ctx(c), m, next); err != nil {
			return nil, err
		}
	}
	out, err := s.store.SetMissionStatus(ctx(c), m.ID, to, web.Caller(c).User.ID, s.now())
	if err != nil {
		if publish {
			_ = s.publishMission(ctx(c), m, prev)
		}
		return nil, err
	}
	return out, nil
}

// FlightLogImporter turns an uploaded flight log (.tlog) into readings of a
// site, tagged with a mission. cmd/api wires firmware-bridge/tlog. An error
// means the file is refused: its message says why and is answered.
type FlightLogImporter interface {
	ImportFlightLog(ctx context.Context, r io.Reader, site, mission string) (FlightLogImport, error)
}

// FlightLogImport is what an importer read from a flight log.
type FlightLogImport struct {
	Readings   []smartdeal.Reading
	Stats      any       // the importer's counters, answered as they are
	Start, End time.Time // the log's time span
	// Truncated is set when the log is cut: Readings are those before the cut.
	Truncated *FlightLogTruncation
}

// FlightLogTruncation says where a flight log was cut.
type FlightLogTruncation struct {
	Offset  int64  `json:"offset"`  // byte offset of the cut entry
	Message string `json:"message"` // what the importer found there
}

// FlightWindow is the mission's flight window (civic.Mission.FlightWindow),
// the span its track shows: readings outside it would be stored but never
// shown, so an upload keeps only those within.
type FlightWindow struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

func (w FlightWindow) contains(t time.Time) bool { return !t.Before(w.Start) && t.Before(w.End) }

// FlightLogPack is the number of readings per SenML pack published for an upload.
const FlightLogPack = 200

// FlightLogResult is what an import did: the answer of the JSON route and
// the page's result.
type FlightLogResult struct {
	Mission  string `json:"mission"`
	Device   string `json:"device"`
	Readings int    `json:"readings"` // readings published for the mission's drone
	Packs    int    `json:"packs"`
	Dropped  int    `json:"dropped_other_systems"`
	// OutsideWindow counts the drone's readings dated outside Window (not imported).
	OutsideWindow int                  `json:"outside_window"`
	Window        FlightWindow         `json:"window"`
	LogStart      time.Time            `json:"log_start"`
	LogEnd        time.Time            `json:"log_end"`
	Truncated     *FlightLogTruncation `json:"truncated,omitempty"`
	Stats         any                  `json:"stats"`
	// Quantities counts the imported readings per quantity (for the page).
	Quantities map[string]int `json:"-"`
}

// Flight-log refusal reasons (the problem's reason member).
const (
	ReasonNotFlightLog  = "not_a_flight_log"
	ReasonOutsideWindow = "outside_window"
)

// Upload is an upload's body: Over says it went past the limit.
type Upload interface {
	io.Reader
	Over() bool
}

// CheckFlightLogTarget refuses an upload before its body is read: no
// importer, a caller who may not operate the mission, a mission that takes
// no log.
func (s *Service) CheckFlightLogTarget(c *fiber.Ctx, id string) (*civic.Mission, error) {
	if s.flightLogs == nil {
		return nil, civic.Errorf(civic.EUNAVAILABLE, "flight-log import is not configured")
	}
	m, err := s.store.Mission(ctx(c), id)
	if err != nil {
		return nil, err
	}
	if !civic.CanOperate(web.Caller(c).User, m) {
		return nil, civic.Errorf(civic.EFORBIDDEN, "only the mission's agent, a risk manager or an administrator may upload its flight log")
	}
	if m.Status != civic.MissionActive && m.Status != civic.MissionCompleted {
		return nil, civic.Errorf(civic.ECONFLICT, "flight logs are uploaded to active or completed missions (status is %s)", m.Status)
	}
	return m, nil
}

// ImportFlightLog imports a .tlog into an active or completed mission m
// (CheckFlightLogTarget): the readings of the vehicle that reported most
// are attributed to the mission's drone, tagged with the mission and
// published as SenML packs on the drone's telemetry topic, so the ingest
// stores them like live telemetry (same schema, idempotent on series +
// timestamp). Only readings within the mission's window are imported
// (outside it the track would never show them); a log with none there is
// refused, saying both spans. A cut log is imported up to the cut, and the
// result says where it was cut. limit is the upload limit, said when the
// body went over it.
func (s *Service) ImportFlightLog(c *fiber.Ctx, m *civic.Mission, body Upload, limit int) (*FlightLogResult, error) {
	imp, err := s.flightLogs.ImportFlightLog(ctx(c), body, m.SiteID, m.ID)
	if body.Over() {
		return nil, civic.Errorf(civic.ETOOLARGE, "flight log larger than %d bytes", limit)
	}
	rs := imp.Readings
	if err != nil || len(rs) == 0 {
		s.log.Info("flight log refused", "mission", m.ID, "err", err)
		why := "no reading in it"
		if err != nil {
			why = err.Error()
		}
		extra := map[string]any{"reason": ReasonNotFlightLog}
		if imp.Truncated != nil {
			extra["truncated"] = imp.Truncated
		}
		return nil, &civic.Error{Code: civic.EINVALID, Message: "not a readable flight log: " + why, Extra: extra}
	}
	count := map[string]int{}
	for _, r := range rs {
		count[r.Device]++
	}
	best := ""
	for d, n := range count {
		if n > count[best] || (n == count[best] && d < best) {
			best = d
		}
	}
	start, stop, _ := m.FlightWindow(s.now()) // an active or completed mission has one
	win := FlightWindow{Start: start.UTC(), End: stop.UTC()}
	res := &FlightLogResult{Mission: m.ID, Device: m.DroneID, Window: win, LogStart: imp.Start.UTC(), LogEnd: imp.End.UTC(),
		Truncated: imp.Truncated, Stats: imp.Stats, Quantities: map[string]int{}}
	keep := rs[:0]
	for _, r := range rs {
		switch {
		case r.Device != best:
			res.Dropped++
		case !win.contains(r.Time):
			res.OutsideWindow++
		default:
			r.Device, r.Mission = m.DroneID, m.ID
			keep = append(keep, r)
			res.Quantities[r.Quantity]++
		}
	}
	res.Readings = len(keep)
	if len(keep) == 0 {
		return nil, &civic.Error{Code: civic.EINVALID, Message: "the flight log was recorded outside the mission's window: nothing to import",
			Extra: map[string]any{"reason": ReasonOutsideWindow, "log_start": res.LogStart, "log_end": res.LogEnd,
				"window_start": win.Start, "window_end": win.End}}
	}
	if s.pub == nil {
		return nil, civic.Errorf(civic.EUNAVAILABLE, "no MQTT publisher: nothing imported")
	}
	topic := s.cfg.Topics.Telemetry(m.SiteID, m.DroneID)
	for i := 0; i < len(keep); i += FlightLogPack {
		pack := keep[i:min(i+FlightLogPack, len(keep))]
		b, err := senml.EncodeReadings(m.SiteID, m.DroneID, pack)
		if err != nil {
			s.log.Warn("flight log pack not encodable", "mission", m.ID, "err", err)
			return nil, civic.Errorf(civic.EINVALID, "the flight log holds readings the platform cannot accept")
		}
		if err := s.pub.Publish(ctx(c), topic, b, false); err != nil {
			s.log.Error("publish flight log", "mission", m.ID, "err", err)
			return nil, &civic.Error{Code: civic.EUNAVAILABLE, Message: "the broker refused part of the upload; upload again (duplicates collapse)",
				Extra: map[string]any{"published_packs": res.Packs}}
		}
		res.Packs++
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: web.Caller(c).User.ID, Action: "mission.flightlog", Target: m.ID})
	return res, nil
}
