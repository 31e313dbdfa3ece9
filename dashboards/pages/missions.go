package pages

import (
	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/pages/chart"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The public-service mission pages (/missions, /missions/{id}): what the
// drones flew for the territory, readable without JavaScript. The figures
// come from the views of the JSON routes (app.Missions, app.MissionView), so
// the pages and GET /api/v1/missions/{id}/track cannot disagree. The track is
// drawn server-side as an inline SVG over the mission's area, with a text
// alternative and a table of fixes for readers who cannot see it.

// linkedProposal is a proposal a mission serves. Proposals waiting for
// moderation are counted, never named, for visitors who may not see them:
// their title is their author's until moderation. Proposals refused by it
// are not even counted. Their author and the moderators see both named,
// with their status (Status, "" for a public proposal).
type linkedProposal struct{ ID, Title, Status string }

type missionRow struct {
	*civic.Mission
	Kind, Status, Window string
	Proposals            []linkedProposal
	Hidden               int // linked proposals waiting for moderation the visitor may not see
}

// missionRowOf dresses a mission's view for the pages.
func missionRowOf(mv *app.MissionView) missionRow {
	m := mv.Mission
	r := missionRow{Mission: m, Kind: missionKind(m.Kind), Status: missionStatusFR[m.Status],
		Window: "du " + fr.Time(m.PlannedFrom) + " au " + fr.Time(m.PlannedTo), Hidden: mv.Waiting}
	for _, p := range mv.Proposals {
		lp := linkedProposal{ID: p.ID, Title: p.Title}
		if !p.Status.Public() {
			lp.Status = fr.Status(p.Status)
		}
		r.Proposals = append(r.Proposals, lp)
	}
	return r
}

// pageMissionsListMax bounds the list page; the JSON route has them all.
const pageMissionsListMax = 100

func (s *Pages) missionsPage(c *fiber.Ctx) error {
	mvs, total, err := s.views.Missions(ctx(c), web.Viewer(c), pageMissionsListMax) // newest planned window first
	if err != nil {
		return err
	}
	rows := make([]missionRow, 0, len(mvs))
	for _, mv := range mvs {
		rows = append(rows, missionRowOf(mv))
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	return s.render(c, "missions.html", &missionsView{Page: Page{Title: "Missions", Session: se}, Missions: rows, Total: total})
}

func (s *Pages) missionPage(c *fiber.Ctx) error {
	mv, err := s.views.MissionView(ctx(c), web.Viewer(c), c.Params("id"), app.MissionOptions{Track: true})
	if err != nil {
		return err
	}
	m := mv.Mission
	page := &missionPageView{Page: Page{Title: "Mission : " + m.Title}, M: missionRowOf(mv), Flown: m.Started != nil, Planned: m.Status == civic.MissionPlanned}
	if m.Started != nil {
		page.Started = fr.Time(*m.Started)
	}
	if m.Ended != nil {
		page.Ended = fr.Time(*m.Ended)
	}
	if m.Started != nil {
		// A failing InfluxDB costs the drawing, not the page: the mission's
		// details are in the database and still worth reading.
		if mv.TrackErr != nil {
			s.log.Warn("mission page: track", "mission", m.ID, "err", mv.TrackErr)
			page.TrackDown = true
		} else {
			sum := chart.SummarizeFlight(mv.Track)
			page.Summary = &sum
			page.Track = chart.BuildTrack(m, mv.Track)
		}
	}
	s.missionControl(c, mv, page)
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	page.Session = se
	return s.render(c, "mission.html", page)
}
