package api

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
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
		c.Set(fiber.HeaderContentType, "application/geo+json")
		return c.JSON(map[string]any{"type": "Feature",
			"geometry":   map[string]any{"type": "LineString", "coordinates": coords},
			"properties": map[string]any{"mission": m.ID, "device": m.DroneID, "duration_s": tr.DurationS, "distance_m": tr.DistanceM, "max_altitude_m": tr.MaxAltitudeM, "battery_used_pct": tr.BatteryUsedPct}})
	}
	return civic.FieldError("format", "want json or geojson")
}

func (s *Server) sites(c *fiber.Ctx) error {
	ss, err := s.store.Sites(ctx(c))
	if err != nil {
		return err
	}
	return c.JSON(ss)
}

func (s *Server) createSite(c *fiber.Ctx) error {
	var st civic.Site
	if err := decode(c, &st); err != nil {
		return err
	}
	if err := s.store.CreateSite(ctx(c), &st); err != nil {
		return err
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: web.Caller(c).User.ID, Action: "site.create", Target: st.ID})
	return c.Status(fiber.StatusCreated).JSON(st)
}

func (s *Server) devices(c *fiber.Ctx) error {
	site := c.Query("site")
	if site != "" && !smartdeal.ValidID(site) {
		return civic.FieldError("site", "invalid identifier")
	}
	ds, err := s.store.Devices(ctx(c), site)
	if err != nil {
		return err
	}
	return c.JSON(ds)
}

func (s *Server) createDevice(c *fiber.Ctx) error {
	var d civic.Device
	if err := decode(c, &d); err != nil {
		return err
	}
	d.MQTTUser, d.LastSeen = "", nil
	if err := s.store.CreateDevice(ctx(c), &d); err != nil {
		return err
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: web.Caller(c).User.ID, Action: "device.create", Target: d.ID})
	return c.Status(fiber.StatusCreated).JSON(d)
}

func (s *Server) device(c *fiber.Ctx) error {
	d, err := s.store.Device(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// credentials generates a device's MQTT password, stores its Mosquitto hash
// and returns the password once with the password-file and ACL lines.
func (s *Server) credentials(c *fiber.Ctx) error {
	d, err := s.store.Device(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	pw := web.RandomToken()
	hash, err := MosquittoHash(pw, MosquittoIterations)
	if err != nil {
		return err
	}
	if err := s.store.SetDeviceCredentials(ctx(c), d.ID, d.ID, hash, web.Caller(c).User.ID); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(Credentials{Username: d.ID, Password: pw, PasswordFileLine: d.ID + ":" + hash,
		ACL: DeviceACL(s.cfg.Topics, d), MQTTHost: s.cfg.MQTTHost})
}

func (s *Server) latest(c *fiber.Ctx) error {
	ls, err := s.meas.Series(ctx(c), series.Filter{Site: c.Params("id")})
	if err != nil {
		return err
	}
	return c.JSON(ls)
}

func (s *Server) series(c *fiber.Ctx) error {
	ls, err := s.meas.Series(ctx(c), series.Filter{Site: c.Query("site"), Device: c.Query("device"), Quantity: c.Query("quantity")})
	if err != nil {
		return err
	}
	return c.JSON(ls)
}

// rangeQuery parses a series range request: ids from the path, RFC 3339
// times, aggregate, window and point cap from the query string.
func rangeQuery(c *fiber.Ctx) (series.RangeQuery, error) {
	q := series.RangeQuery{SeriesKey: series.SeriesKey{Site: c.Params("site"), Device: c.Params("device"), Quantity: c.Params("quantity")}}
	if err := q.SeriesKey.Validate(); err != nil {
		return q, civic.Errorf(civic.EINVALID, "site, device or quantity is not a valid identifier")
	}
	var err error
	if q.Start, err = time.Parse(time.RFC3339, c.Query("start")); err != nil {
		return q, civic.FieldError("start", "want an RFC 3339 time")
	}
	if q.Stop, err = time.Parse(time.RFC3339, c.Query("stop")); err != nil {
		return q, civic.FieldError("stop", "want an RFC 3339 time")
	}
	if !q.Stop.After(q.Start) {
		return q, civic.FieldError("stop", "must be after start")
	}
	if q.Agg, err = series.ParseAggregate(c.Query("agg")); err != nil {
		return q, civic.FieldError("agg", "want mean, min, max or last")
	}
	if e := c.Query("every"); e != "" {
		if q.Every, err = time.ParseDuration(e); err != nil || q.Every < time.Second || q.Every > 366*24*time.Hour {
			return q, civic.FieldError("every", "want a duration between 1s and 366 days")
		}
	}
	if q.MaxPoints, err = intQuery(c, "points", series.DefaultMaxPoints, 2, series.MaxPointsLimit); err != nil {
		return q, err
	}
	return q, nil
}

func (s *Server) seriesRange(c *fiber.Ctx) error {
	q, err := rangeQuery(c)
	if err != nil {
		return err
	}
	d, err := s.meas.Range(ctx(c), q)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) links(c *fiber.Ctx) error {
	f := civic.LinkFilter{ProposalID: c.Query("proposal"), MissionID: c.Query("mission")}
	if f.ProposalID == "" && f.MissionID == "" {
		return civic.FieldError("proposal", "give proposal or mission")
	}
	if f.ProposalID != "" { // a proposal the caller may not see has no links, as an unknown one
		if hidden, err := s.act.Unseen(c, f.ProposalID); err != nil {
			return err
		} else if hidden {
			return c.JSON([]*civic.Link{})
		}
	}
	ls, err := s.store.Links(ctx(c), f)
	if err != nil {
		return err
	}
	return c.JSON(ls)
}

func (s *Server) createLink(c *fiber.Ctx) error {
	var l civic.Link
	if err := decode(c, &l); err != nil {
		return err
	}
	l.SiteID, l.DeviceID = strings.TrimSpace(l.SiteID), strings.TrimSpace(l.DeviceID)
	if l.ProposalID != "" { // one the caller may not see is unknown, as the store says
		if hidden, err := s.act.Unseen(c, l.ProposalID); err != nil {
			return err
		} else if hidden {
			return civic.FieldError("proposal_id", "unknown proposal or mission")
		}
	}
	if err := s.store.CreateLink(ctx(c), &l); err != nil {
		return err
	}
	owner := "proposal:" + l.ProposalID
	if l.MissionID != "" {
		owner = "mission:" + l.MissionID
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: web.Caller(c).User.ID, Action: "link.create", Target: l.ID,
		Detail: owner + " " + l.SiteID + "/" + l.DeviceID + "/" + l.Quantity})
	return c.Status(fiber.StatusCreated).JSON(l)
}

func (s *Server) deleteLink(c *fiber.Ctx) error {
	id := c.Params("id")
	if err := s.store.DeleteLink(ctx(c), id); err != nil {
		return err
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: web.Caller(c).User.ID, Action: "link.delete", Target: id})
	return c.SendStatus(fiber.StatusNoContent)
}
