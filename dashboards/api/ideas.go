package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
	"github.com/cd06/smartdeal/dashboards/web"
)

// publicStatuses are the statuses everyone sees (civic.Status.Public):
// lists, open data and counts show only these.
var publicStatuses = civic.PublicStatuses()

// isAdmin reports whether the caller moderates (civic.Moderator: the
// administrators), and so sees what moderation hides.
func isAdmin(c *fiber.Ctx) bool { return civic.Moderator(web.Viewer(c)) }

func (s *Server) ideas(c *fiber.Ctx) error {
	f := civic.ProposalFilter{CampaignID: c.Query("campaign"), ThemeID: c.Query("theme"), Statuses: publicStatuses}
	if st := civic.Status(c.Query("status")); st != "" {
		if !st.Valid() {
			return civic.FieldError("status", "unknown status")
		}
		if !st.Public() && !isAdmin(c) {
			return civic.Errorf(civic.EFORBIDDEN, "only moderators list proposals that are not public (submitted or refused)")
		}
		f.Statuses = []civic.Status{st}
	}
	var err error
	f.Sort = civic.ProposalSort(c.Query("sort"))
	if f.Query, err = civic.CheckProposalQuery(c.Query("q"), f.Sort); err != nil {
		return err
	}
	if f.Limit, err = intQuery(c, "limit", 50, 1, 500); err != nil {
		return err
	}
	if f.Offset, err = intQuery(c, "offset", 0, 0, 1_000_000); err != nil {
		return err
	}
	ps, err := s.store.Proposals(ctx(c), f)
	if err != nil {
		return err
	}
	return c.JSON(ps)
}

func (s *Server) createIdea(c *fiber.Ctx) error {
	var r actions.ProposalReq
	if err := decode(c, &r); err != nil {
		return err
	}
	p, err := s.act.SubmitProposal(c, r)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

// visibleProposal loads the proposal of the route's id if the caller may
// see it (proposalFor).
func (s *Server) visibleProposal(c *fiber.Ctx) (*civic.Proposal, error) {
	return s.act.ProposalFor(c, c.Params("id"))
}

func (s *Server) idea(c *fiber.Ctx) error {
	p, err := s.visibleProposal(c)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) history(c *fiber.Ctx) error {
	p, err := s.visibleProposal(c)
	if err != nil {
		return err
	}
	h, err := s.store.History(ctx(c), p.ID)
	if err != nil {
		return err
	}
	return c.JSON(h)
}

func (s *Server) setStatus(c *fiber.Ctx) error {
	var r actions.StatusReq
	if err := decode(c, &r); err != nil {
		return err
	}
	p, err := s.act.ChangeStatus(c, c.Params("id"), r)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

type pageResp struct {
	Proposal *civic.Proposal      `json:"proposal"`
	Votes    int                  `json:"votes"`
	Links    []*civic.Link        `json:"links"`
	Series   []*series.SeriesData `json:"series"`
	Missions []string             `json:"missions"`
}

// page is a proposal page's data: the view of the HTML page
// (app.ProposalPage) without its details.
func (s *Server) page(c *fiber.Ctx) error {
	points, err := intQuery(c, "points", s.cfg.PageSeriesPoints, 2, series.MaxPointsLimit)
	if err != nil {
		return err
	}
	v, err := s.views.ProposalPage(ctx(c), web.Viewer(c), c.Params("id"), app.ProposalOptions{Span: s.cfg.PageRange, Points: points})
	if err != nil {
		return err
	}
	series := make([]*series.SeriesData, len(v.Series))
	for i, sr := range v.Series {
		series[i] = sr.Data
	}
	return c.JSON(pageResp{Proposal: v.Proposal, Votes: v.Proposal.Votes, Links: v.Links, Series: series, Missions: v.MissionIDs})
}

type evidenceResp struct {
	Proposal *civic.Proposal   `json:"proposal"`
	Series   []app.Stats       `json:"series"`
	Missions []*civic.Mission  `json:"missions"`
	Reviews  []*civic.Review   `json:"reviews"`
	Extra    map[string]string `json:"extra,omitempty"`
}

// evidence gives reviewers the linked series' statistics over 30 days (from
// hourly means) and the missions flown for the proposal: the view of the
// review page (app.Evidence).
func (s *Server) evidence(c *fiber.Ctx) error {
	ev, err := s.views.Evidence(ctx(c), web.Viewer(c), c.Params("id"))
	if err != nil {
		return err
	}
	resp := evidenceResp{Proposal: ev.Proposal, Series: make([]app.Stats, 0, len(ev.Series)), Missions: ev.Missions,
		Reviews: make([]*civic.Review, 0, len(ev.Reviews))}
	for _, sr := range ev.Series {
		resp.Series = append(resp.Series, sr.Stats)
	}
	for _, r := range ev.Reviews {
		resp.Reviews = append(resp.Reviews, r.Review)
	}
	return c.JSON(resp)
}

// nearbyDevice is a device near a proposal (app.Maps.Nearby).
type nearbyDevice = app.NearbyDevice

func (s *Server) nearby(c *fiber.Ctx) error {
	p, err := s.visibleProposal(c)
	if err != nil {
		return err
	}
	radius := 2000.0
	if v := c.Query("radius_m"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || !(r > 0 && r <= 50000) {
			return civic.FieldError("radius_m", "want a number of metres in (0, 50000]")
		}
		radius = r
	}
	if p.Location == nil {
		return c.JSON([]nearbyDevice{})
	}
	out, err := s.maps.Nearby(ctx(c), *p.Location, radius)
	if err != nil {
		return err
	}
	return c.JSON(out)
}
