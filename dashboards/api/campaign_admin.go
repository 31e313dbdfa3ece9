package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// Campaigns run from the back office: their own themes and the closing of
// the vote (creation and the shortlist are campaigns.go's routes).

type campaignThemesReq struct {
	ThemeIDs []string `json:"theme_ids"`
}

func (s *Server) campaignAdminRoutes() []*web.Route {
	const v1 = "/api/v1"
	return []*web.Route{
		{Method: "GET", Path: v1 + "/campaigns/:id/themes", Tag: "ideas", Summary: "The campaign's own themes (empty: proposals take any theme)", Response: []string{}, Handler: s.campaignThemes},
		{Method: "PUT", Path: v1 + "/campaigns/:id/themes", Tag: "ideas", Summary: "Give the campaign its own themes (existing theme ids; empty: every theme)", Access: web.SignedIn, Roles: web.Admins, Body: campaignThemesReq{}, Status: 204, Handler: s.setCampaignThemes},
		{Method: "GET", Path: v1 + "/campaigns/:id/results", Tag: "ideas", Summary: "A campaign's public results: the selected proposals (and their realization) against the budget, the rejected ones with the committee's reasons (at most 500)", Response: civic.Results{}, Handler: s.campaignResults},
		{Method: "POST", Path: v1 + "/campaigns/:id/close", Tag: "ideas", Summary: "Close the vote (and submissions): the campaign's period ends now (409 when it does not run)", Access: web.SignedIn, Roles: web.Admins, Response: civic.Campaign{}, Handler: s.closeCampaign},
	}
}

func (s *Server) campaignThemes(c *fiber.Ctx) error {
	cp, err := s.store.Campaign(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	m, err := s.store.CampaignThemes(ctx(c))
	if err != nil {
		return err
	}
	out := m[cp.ID]
	if out == nil {
		out = []string{}
	}
	return c.JSON(out)
}

func (s *Server) setCampaignThemes(c *fiber.Ctx) error {
	var r campaignThemesReq
	if err := decode(c, &r); err != nil {
		return err
	}
	if err := s.store.SetCampaignThemes(ctx(c), c.Params("id"), r.ThemeIDs, web.Caller(c).User.ID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) closeCampaign(c *fiber.Ctx) error {
	cp, err := s.act.CloseVote(c, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(cp)
}

func (s *Server) campaignResults(c *fiber.Ctx) error {
	cp, err := s.store.Campaign(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	ps, err := s.store.Proposals(ctx(c), civic.ProposalFilter{CampaignID: cp.ID, Statuses: civic.ResultStatuses(), Limit: 500})
	if err != nil {
		return err
	}
	return c.JSON(civic.CampaignResults(cp, ps))
}

func (s *Server) realizationRoutes() []*web.Route {
	const v1 = "/api/v1"
	return []*web.Route{
		{Method: "GET", Path: v1 + "/ideas/:id/realization", Tag: "ideas", Summary: "A selected proposal's realization: its updates newest first (at most 200), the latest progress and actual cost", Response: civic.Realization{}, Handler: s.realization},
		{Method: "POST", Path: v1 + "/ideas/:id/realization", Tag: "ideas", Summary: "Post an update of a selected, in-progress or realized proposal's realization (text, milestone and date, progress 0-100, actual cost); mailed to its author and supporters who opted in to status e-mails (409 before selection)", Access: web.SignedIn, Roles: civic.RealizationRoles, Body: actions.RealizationReq{}, Response: civic.RealizationUpdate{}, Status: 201, Handler: s.postRealization},
	}
}

func (s *Server) realization(c *fiber.Ctx) error {
	us, err := s.act.RealizationUpdates(c, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(civic.SumRealization(us))
}

func (s *Server) postRealization(c *fiber.Ctx) error {
	var r actions.RealizationReq
	if err := decode(c, &r); err != nil {
		return err
	}
	u, err := s.act.PostRealization(c, c.Params("id"), r)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(u)
}
