package api

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

func (s *Server) missions(c *fiber.Ctx) error {
	mvs, _, err := s.views.Missions(ctx(c), web.Viewer(c), 0)
	if err != nil {
		return err
	}
	return c.JSON(missionsOf(mvs))
}

// missionsOf are the missions of views, their proposal ids those the
// caller may see.
func missionsOf(mvs []*app.MissionView) []*civic.Mission {
	out := make([]*civic.Mission, len(mvs))
	for i, mv := range mvs {
		out[i] = mv.Mission
	}
	return out
}

func (s *Server) createMission(c *fiber.Ctx) error {
	var m civic.Mission
	if err := decode(c, &m); err != nil {
		return err
	}
	m.Status, m.Started, m.Ended = "", nil, nil
	for _, id := range m.ProposalIDs { // one the planner may not see is unknown, as the store says
		if hidden, err := s.act.Unseen(c, id); err != nil {
			return err
		} else if hidden {
			return civic.FieldError("proposal_ids", "unknown proposal %q", id)
		}
	}
	if err := s.store.CreateMission(ctx(c), &m); err != nil {
		return err
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: web.Caller(c).User.ID, Action: "mission.create", Target: m.ID})
	return c.Status(fiber.StatusCreated).JSON(m)
}

func (s *Server) mission(c *fiber.Ctx) error {
	mv, err := s.views.MissionView(ctx(c), web.Viewer(c), c.Params("id"), app.MissionOptions{})
	if err != nil {
		return err
	}
	return c.JSON(mv.Mission)
}

type missionStatusReq struct {
	Status civic.MissionStatus `json:"status"`
}

// SetMissionCommand is the retained command that tells a drone's bridge its
// active mission ("" clears it).
type SetMissionCommand struct {
	ID      string `json:"id"`
	Cmd     string `json:"cmd"`
	Mission string `json:"mission"`
}

func (s *Server) publishMission(c *fiber.Ctx, m *civic.Mission, mission string) error {
	b, err := json.Marshal(SetMissionCommand{ID: civic.NewID(), Cmd: "set_mission", Mission: mission})
	if err != nil {
		return err
	}
	topic := s.cfg.Topics.Device(m.SiteID, m.DroneID, smartdeal.ChannelCmd)
	if err := s.pub.Publish(ctx(c), topic, b, true); err != nil {
		s.log.Error("publish set_mission", "topic", topic, "err", err)
		return civic.Errorf(civic.EUNAVAILABLE, "could not reach the drone's command topic; the mission status is unchanged")
	}
	return nil
}

// setMissionStatus starts, completes or aborts a mission. The drone's active
// mission is published (retained) before the status is stored; if storing
// fails, the previous value is published again.
func (s *Server) setMissionStatus(c *fiber.Ctx) error {
	var r missionStatusReq
	if err := decode(c, &r); err != nil {
		return err
	}
	m, err := s.store.Mission(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	u := web.Caller(c).User
	if !civic.CanOperate(u, m) {
		return civic.Errorf(civic.EFORBIDDEN, "only the mission's agent, a risk manager or an administrator may change it")
	}
	if err := civic.CheckMissionTransition(m.Status, r.Status); err != nil {
		return err
	}
	next, prev := "", ""
	if r.Status == civic.MissionActive {
		next = m.ID
	} else if m.Status == civic.MissionActive {
		prev = m.ID
	}
	publish := r.Status == civic.MissionActive || m.Status == civic.MissionActive
	if publish {
		if err := s.publishMission(c, m, next); err != nil {
			return err
		}
	}
	out, err := s.store.SetMissionStatus(ctx(c), m.ID, r.Status, u.ID, s.now())
	if err != nil {
		if publish {
			_ = s.publishMission(c, m, prev)
		}
		return err
	}
	mvs, err := s.views.MissionsSeen(ctx(c), web.Viewer(c), []*civic.Mission{out})
	if err != nil {
		return err
	}
	return c.JSON(mvs[0].Mission)
}

// track is a mission's track: the view of the mission page (app.MissionView).
func (s *Server) track(c *fiber.Ctx) error {
	mv, err := s.views.MissionView(ctx(c), web.Viewer(c), c.Params("id"), app.MissionOptions{Track: true})
	if err != nil {
		return err
	}
	if mv.TrackErr != nil {
		return mv.TrackErr
	}
	m, tr := mv.Mission, mv.Track
	switch c.Query("format", "json") {
	case "json":
		return c.JSON(tr)
	case "geojson":
		coords := make([][]float64, 0, len(tr.Points))
		for _, p := range tr.Points {
			coords = append(coords, []float64{p.Lon, p.Lat})
		}
		return c.JSON(map[string]any{"type": "Feature",
			"geometry":   map[string]any{"type": "LineString", "coordinates": coords},
			"properties": map[string]any{"mission": m.ID, "device": m.DroneID, "duration_s": tr.DurationS, "distance_m": tr.DistanceM, "max_altitude_m": tr.MaxAltitudeM, "battery_used_pct": tr.BatteryUsedPct}},
			app.GeoJSONType) // c.JSON's own type would replace one set before it
	}
	return civic.FieldError("format", "want json or geojson")
}
