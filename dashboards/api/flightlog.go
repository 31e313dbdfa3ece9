package api

import (
	"context"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
	"github.com/cd06/smartdeal/senml"
)

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

// flightWindow is the mission's flight window (civic.Mission.FlightWindow),
// the span its track shows: readings outside it would be stored but never
// shown, so an upload keeps only those within.
type flightWindow struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

func (w flightWindow) contains(t time.Time) bool { return !t.Before(w.Start) && t.Before(w.End) }

// FlightLogPack is the number of readings per SenML pack published for an upload.
const FlightLogPack = 200

type flightLogResp struct {
	Mission  string `json:"mission"`
	Device   string `json:"device"`
	Readings int    `json:"readings"` // readings published for the mission's drone
	Packs    int    `json:"packs"`
	Dropped  int    `json:"dropped_other_systems"`
	// OutsideWindow counts the drone's readings dated outside Window (not imported).
	OutsideWindow int                  `json:"outside_window"`
	Window        flightWindow         `json:"window"`
	LogStart      time.Time            `json:"log_start"`
	LogEnd        time.Time            `json:"log_end"`
	Truncated     *FlightLogTruncation `json:"truncated,omitempty"`
	Stats         any                  `json:"stats"`
}

// flightLog imports a .tlog into an active or completed mission: the readings
// of the vehicle that reported most are attributed to the mission's drone,
// tagged with the mission and published as SenML packs on the drone's
// telemetry topic, so the ingest stores them like live telemetry (same schema,
// idempotent on series + timestamp). Only readings within the mission's
// window are imported (outside it the track would never show them); a log
// with none there is refused, saying both spans. A cut log is imported up
// to the cut, and the answer says where it was cut.
func (s *Server) flightLog(c *fiber.Ctx) error {
	if s.flightLogs == nil {
		return civic.Errorf(civic.EUNAVAILABLE, "flight-log import is not configured")
	}
	if ct := c.Get(fiber.HeaderContentType); ct != "application/octet-stream" {
		return civic.Errorf(civic.EUNSUPPORTED, "Content-Type must be application/octet-stream (a .tlog file)")
	}
	body, err := s.kit.Upload(c)
	if err != nil {
		return err
	}
	m, err := s.store.Mission(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	u := web.Caller(c).User
	if !civic.CanOperate(u, m) {
		return civic.Errorf(civic.EFORBIDDEN, "only the mission's agent, a risk manager or an administrator may upload its flight log")
	}
	if m.Status != civic.MissionActive && m.Status != civic.MissionCompleted {
		return civic.Errorf(civic.ECONFLICT, "flight logs are uploaded to active or completed missions (status is %s)", m.Status)
	}
	// The body is read only now, streamed into the importer: the caller is
	// allowed and the mission takes uploads.
	imp, err := s.flightLogs.ImportFlightLog(ctx(c), body, m.SiteID, m.ID)
	if body.Over() {
		return civic.Errorf(civic.ETOOLARGE, "flight log larger than %d bytes", s.cfg.FlightLogLimit)
	}
	rs := imp.Readings
	if err != nil || len(rs) == 0 {
		s.log.Info("flight log refused", "mission", m.ID, "err", err)
		why := "no reading in it"
		if err != nil {
			why = err.Error()
		}
		extra := map[string]any{"reason": "not_a_flight_log"}
		if imp.Truncated != nil {
			extra["truncated"] = imp.Truncated
		}
		return &civic.Error{Code: civic.EINVALID, Message: "not a readable flight log: " + why, Extra: extra}
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
	win := flightWindow{Start: start.UTC(), End: stop.UTC()}
	resp := flightLogResp{Mission: m.ID, Device: m.DroneID, Window: win, LogStart: imp.Start.UTC(), LogEnd: imp.End.UTC(),
		Truncated: imp.Truncated, Stats: imp.Stats}
	keep := rs[:0]
	for _, r := range rs {
		switch {
		case r.Device != best:
			resp.Dropped++
		case !win.contains(r.Time):
			resp.OutsideWindow++
		default:
			r.Device, r.Mission = m.DroneID, m.ID
			keep = append(keep, r)
		}
	}
	resp.Readings = len(keep)
	if len(keep) == 0 {
		return &civic.Error{Code: civic.EINVALID, Message: "the flight log was recorded outside the mission's window: nothing to import",
			Extra: map[string]any{"reason": "outside_window", "log_start": resp.LogStart, "log_end": resp.LogEnd,
				"window_start": win.Start, "window_end": win.End}}
	}
	topic := s.cfg.Topics.Telemetry(m.SiteID, m.DroneID)
	for i := 0; i < len(keep); i += FlightLogPack {
		pack := keep[i:min(i+FlightLogPack, len(keep))]
		b, err := senml.EncodeReadings(m.SiteID, m.DroneID, pack)
		if err != nil {
			s.log.Warn("flight log pack not encodable", "mission", m.ID, "err", err)
			return civic.Errorf(civic.EINVALID, "the flight log holds readings the platform cannot accept")
		}
		if err := s.pub.Publish(ctx(c), topic, b, false); err != nil {
			s.log.Error("publish flight log", "mission", m.ID, "err", err)
			return &civic.Error{Code: civic.EUNAVAILABLE, Message: "the broker refused part of the upload; upload again (duplicates collapse)",
				Extra: map[string]any{"published_packs": resp.Packs}}
		}
		resp.Packs++
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: u.ID, Action: "mission.flightlog", Target: m.ID})
	return c.Status(fiber.StatusAccepted).JSON(resp)
}
