package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
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
	if err := s.act.PlanMission(c, &m); err != nil {
		return err
	}
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
// active mission ("" clears it): actions.SetMissionCommand.
type SetMissionCommand = actions.SetMissionCommand

// setMissionStatus starts, completes or aborts a mission
// (actions.Service.SetMissionStatus, which the pages' forms call too).
func (s *Server) setMissionStatus(c *fiber.Ctx) error {
	var r missionStatusReq
	if err := decode(c, &r); err != nil {
		return err
	}
	out, err := s.act.SetMissionStatus(c, c.Params("id"), r.Status)
	if err != nil {
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
