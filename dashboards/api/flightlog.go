package api

import (
	"context"
	"io"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
	"github.com/cd06/smartdeal/senml"
)

// FlightLogImporter turns an uploaded flight log (.tlog) into readings of a
// site, tagged with a mission. cmd/api wires firmware-bridge/tlog.
type FlightLogImporter interface {
	ImportFlightLog(ctx context.Context, r io.Reader, site, mission string) ([]smartdeal.Reading, any, error)
}

// FlightLogPack is the number of readings per SenML pack published for an upload.
const FlightLogPack = 200

type flightLogResp struct {
	Mission  string `json:"mission"`
	Device   string `json:"device"`
	Readings int    `json:"readings"`
	Packs    int    `json:"packs"`
	Dropped  int    `json:"dropped_other_systems"`
	Stats    any    `json:"stats"`
}

// flightLog imports a .tlog into an active or completed mission: the readings
// of the vehicle that reported most are attributed to the mission's drone,
// tagged with the mission and published as SenML packs on the drone's
// telemetry topic, so the ingest stores them like live telemetry (same schema,
// idempotent on series + timestamp).
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
	rs, stats, err := s.flightLogs.ImportFlightLog(ctx(c), body, m.SiteID, m.ID)
	if body.Over() {
		return civic.Errorf(civic.ETOOLARGE, "flight log larger than %d bytes", s.cfg.FlightLogLimit)
	}
	if err != nil && len(rs) == 0 {
		s.log.Info("flight log refused", "mission", m.ID, "err", err)
		return civic.Errorf(civic.EINVALID, "not a readable flight log")
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
	keep := rs[:0]
	for _, r := range rs {
		if r.Device == best {
			r.Device, r.Mission = m.DroneID, m.ID
			keep = append(keep, r)
		}
	}
	resp := flightLogResp{Mission: m.ID, Device: m.DroneID, Readings: len(keep), Dropped: len(rs) - len(keep), Stats: stats}
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
