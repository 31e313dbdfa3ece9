package api

import (
	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/gofiber/fiber/v2"
)

func (s *Server) themes(c *fiber.Ctx) error {
	ts, err := s.store.Themes(ctx(c))
	if err != nil {
		return err
	}
	return c.JSON(ts)
}

func (s *Server) createTheme(c *fiber.Ctx) error {
	var t civic.Theme
	if err := decode(c, &t); err != nil {
		return err
	}
	if err := s.act.CreateTheme(c, &t); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(t)
}

// campaignReq is the body of POST /api/v1/campaigns (actions.CampaignReq).
type campaignReq = actions.CampaignReq

func (s *Server) createCampaign(c *fiber.Ctx) error {
	var r campaignReq
	if err := decode(c, &r); err != nil {
		return err
	}
	cp, err := s.act.CreateCampaign(c, r)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cp)
}

func (s *Server) campaigns(c *fiber.Ctx) error {
	cs, err := s.store.Campaigns(ctx(c))
	if err != nil {
		return err
	}
	out := make([]app.CampaignBudget, 0, len(cs))
	for _, cp := range cs {
		v, err := s.views.Campaign(ctx(c), cp)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	return c.JSON(out)
}

func (s *Server) campaign(c *fiber.Ctx) error {
	cp, err := s.store.Campaign(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	v, err := s.views.Campaign(ctx(c), cp)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) shortlist(c *fiber.Ctx) error {
	ids, err := s.act.Shortlist(c, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(map[string][]string{"shortlisted": ids})
}
